"""Adversarial imitation: GAIL (:mod:`.gail`), offline GAIL (:mod:`.gail_offline`), and the core
they share with AIRL and DAC (:mod:`.common`: the discriminator step, the reward forms and
their scaling, absorbing states, discriminator health, the on-policy round)."""

from imitlab.algorithms.adversarial.gail import GAILConfig, train_gail
from imitlab.algorithms.adversarial.gail_offline import OfflineGAILConfig, train_gail_offline

__all__ = ["GAILConfig", "OfflineGAILConfig", "train_gail", "train_gail_offline"]

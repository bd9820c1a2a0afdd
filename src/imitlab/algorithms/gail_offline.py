"""Offline GAIL moved to :mod:`imitlab.algorithms.adversarial.gail_offline`; this module keeps
the old imports working."""

from imitlab.algorithms.adversarial.gail_offline import OfflineGAILConfig, train_gail_offline

__all__ = ["OfflineGAILConfig", "train_gail_offline"]

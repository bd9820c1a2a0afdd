"""GAIL moved to :mod:`imitlab.algorithms.adversarial.gail` (its shared parts to
:mod:`imitlab.algorithms.adversarial.common`); this module keeps the old imports working."""

from imitlab.algorithms.adversarial.common import expert_inputs, terminal_weights
from imitlab.algorithms.adversarial.gail import GAILConfig, train_gail

__all__ = ["GAILConfig", "expert_inputs", "terminal_weights", "train_gail"]

"""Imitation algorithms, one training loop per module."""

from imitlab.algorithms.bc import BCConfig, train_bc
from imitlab.algorithms.gail import GAILConfig, train_gail

__all__ = ["BCConfig", "GAILConfig", "train_bc", "train_gail"]

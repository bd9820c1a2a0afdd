"""AIRL lives in :mod:`imitlab.algorithms.adversarial.airl`; this module is its short import path."""

from imitlab.algorithms.adversarial.airl import AIRLConfig, train_airl

__all__ = ["AIRLConfig", "train_airl"]

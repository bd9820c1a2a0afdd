"""Inverse RL: algorithms that learn the expert's reward (written as ``reward.pt`` beside ``policy.pt``).

``maxent``: maximum (causal) entropy IRL on tabular envs with known dynamics (Ziebart et al.
2008, 2010). ``apprenticeship``: apprenticeship learning by the projection method on discounted
feature expectations of a linear reward (Abbeel & Ng 2004), with an RL inner loop. AIRL lives
with the adversarial family (:mod:`imitlab.algorithms.adversarial.airl`). The names are
imported when first used, so that reading the registry does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ApprenticeshipConfig": "imitlab.algorithms.irl.apprenticeship",
    "train_apprenticeship": "imitlab.algorithms.irl.apprenticeship",
    "MaxEntIRLConfig": "imitlab.algorithms.irl.maxent",
    "train_maxent_irl": "imitlab.algorithms.irl.maxent",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

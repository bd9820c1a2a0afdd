"""Imitation algorithms, one training loop per module; :mod:`imitlab.algorithms.registry` lists them.

``from imitlab.algorithms import train_bc`` works as before; the names are imported when first
used, so that reading the registry (``imitlab --help``) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "BCConfig": "imitlab.algorithms.bc",
    "train_bc": "imitlab.algorithms.bc",
    "GAILConfig": "imitlab.algorithms.gail",
    "train_gail": "imitlab.algorithms.gail",
}

__all__ = ["BCConfig", "GAILConfig", "train_bc", "train_gail"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

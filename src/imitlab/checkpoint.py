"""Checkpoints of long trainings, so that a run stopped part-way (a session's time limit, a
crash, Ctrl-C) continues from its last checkpoint with ``--resume``.

A checkpoint is one ``checkpoint.pt`` in the run directory, written atomically, that loads with
``torch.load(..., weights_only=True)``: network and optimizer state dicts, tensors (a replay
buffer's arrays), numbers and strings; no pickled objects. The environments themselves are not
saved: a resumed run resets them (with a seed derived from the run's seed and step), so it is
reproducible from its checkpoint but not step-for-step identical to a run that never stopped.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from imitlab.errors import UserError
from imitlab.utils import atomic_torch_save

CHECKPOINT_FILE = "checkpoint.pt"
FORMAT = "imitlab.checkpoint"
VERSION = 1


def save_checkpoint(run_dir: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``run_dir/checkpoint.pt`` (atomically: the previous one stays until the
    new one is complete)."""
    path = Path(run_dir) / CHECKPOINT_FILE
    atomic_torch_save({"format": FORMAT, "version": VERSION, **state}, path)
    return path


def load_checkpoint(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint in ``run_dir``, or a UserError that says what to do instead."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file():
        raise UserError(f"no {CHECKPOINT_FILE} in {str(run_dir)!r} to resume from; run without --resume to start afresh")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to read means the same thing to the user
        raise UserError(f"{path} is not a readable imitlab checkpoint ({exc.__class__.__name__}); "
                        "delete it and train without --resume") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UserError(f"{path} is not an imitlab checkpoint")
    if state.get("version") != VERSION:
        raise UserError(f"{path} has checkpoint version {state.get('version')}; this imitlab reads version {VERSION}")
    return state


def global_rng_state() -> dict[str, Any]:
    """The global RNG states that :func:`imitlab.utils.seed_everything` seeds."""
    return {"torch": torch.get_rng_state(), "numpy": _np_legacy_state(), "python": list(random.getstate()[1])}


def _np_legacy_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def set_global_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    s = state["numpy"]
    np.random.set_state((s["name"], s["keys"].numpy().astype(np.uint32), s["pos"], s["has_gauss"], s["cached"]))
    random.setstate((3, tuple(state["python"]), None))

"""Checkpoints of long trainings, so that a run stopped part-way (a session's time limit, a
crash, Ctrl-C) continues from its last checkpoint with ``--resume``.

A checkpoint is one ``checkpoint.pt`` in the run directory, written atomically, that loads with
``torch.load(..., weights_only=True)``: network and optimizer state dicts, tensors (a replay
buffer's arrays), numbers and strings; no pickled objects. The environments themselves are not
saved: a resumed run resets them (with a seed derived from the run's seed and step), so it is
reproducible from its checkpoint but not step-for-step identical to a run that never stopped.

A checkpoint is imitlab's own file, written and read by the same training loops, so instead of
checking each loop's state field by field it carries a digest of its whole content: a file whose
zip checksums or digest do not hold (damaged, truncated, edited: keys dropped or renamed, values
changed) is refused with one line before the run directory is touched, and the loops restore only
what they wrote. The digest guards against accidents, not attackers: ``weights_only`` is what
keeps a hostile file from running code.
"""

from __future__ import annotations

import hashlib
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
VERSION = 2  # 2: a digest of the content (version 1 had none)
_AFRESH = "delete it and train without --resume, or resume from an intact copy"


def save_checkpoint(run_dir: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``run_dir/checkpoint.pt`` (atomically: the previous one stays until the
    new one is complete), with a digest of its content."""
    path = Path(run_dir) / CHECKPOINT_FILE
    payload = {"format": FORMAT, "version": VERSION, **state}
    atomic_torch_save({**payload, "digest": content_digest(payload)}, path)
    return path


def load_checkpoint(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The checkpoint in ``run_dir``, or a UserError that says what to do instead."""
    from imitlab.policies import read_torch_file

    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.is_file():
        raise UserError(f"no {CHECKPOINT_FILE} in {str(run_dir)!r} to resume from; run without --resume to start afresh")
    state = read_torch_file(path, "checkpoint", _AFRESH)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise UserError(f"{path} is not an imitlab checkpoint; {_AFRESH}")
    if state.get("version") != VERSION:
        raise UserError(f"{path} has checkpoint version {state.get('version')!r}; this imitlab reads version {VERSION}: "
                        f"{_AFRESH}")
    digest = state.pop("digest", None)
    try:
        intact = digest == content_digest(state)
    except TypeError:  # a value of a kind imitlab never writes
        intact = False
    if not intact:
        raise UserError(f"{path} is damaged or was edited (its content does not match its digest); {_AFRESH}")
    return state


def content_digest(obj: Any) -> str:
    """A digest of ``obj`` (nested dicts, lists and tuples of tensors, numbers, strings, bytes and
    None) that is the same after a ``torch.save``/``torch.load`` round trip; any change to a key,
    a value, a tensor's dtype, shape or bytes changes it. A TypeError for any other kind of value."""
    h = hashlib.blake2b(digest_size=20)
    _feed(h, obj)
    return h.hexdigest()


def _feed(h: Any, obj: Any) -> None:
    # Each value is tagged with its kind and length so that no two structures feed the same bytes.
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)
        h.update(f"T{t.dtype}{tuple(obj.shape)};".encode())
        h.update(t.view(torch.uint8).numpy() if t.numel() else b"")
    elif isinstance(obj, dict):
        h.update(f"D{len(obj)};".encode())
        for key in sorted(obj, key=repr):
            _feed(h, key)
            _feed(h, obj[key])
    elif isinstance(obj, list | tuple):
        h.update(f"L{len(obj)};".encode())
        for item in obj:
            _feed(h, item)
    elif obj is None or isinstance(obj, bool):
        h.update(f"B{obj};".encode())
    elif isinstance(obj, int):
        h.update(f"I{obj};".encode())
    elif isinstance(obj, float):
        h.update(f"F{obj.hex()};".encode())
    elif isinstance(obj, str):
        data = obj.encode("utf-8", "surrogatepass")
        h.update(f"S{len(data)};".encode() + data)
    elif isinstance(obj, bytes):
        h.update(f"Y{len(obj)};".encode() + obj)
    else:
        raise TypeError(f"a checkpoint cannot hold a {type(obj).__name__}")


def global_rng_state() -> dict[str, Any]:
    """The global RNG states that :func:`imitlab.utils.seed_everything` seeds."""
    return {"torch": torch.get_rng_state(), "numpy": _np_legacy_state(), "python": list(random.getstate()[1])}


def _np_legacy_state() -> dict[str, Any]:
    state = np.random.get_state(legacy=True)  # the default, spelled out: numpy's stub types the call without it as a dict
    assert isinstance(state, tuple)  # the global RandomState runs MT19937, whose legacy state is a tuple
    name, keys, pos, has_gauss, cached = state
    return {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached)}


def set_global_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    s = state["numpy"]
    np.random.set_state((s["name"], s["keys"].numpy().astype(np.uint32), s["pos"], s["has_gauss"], s["cached"]))
    random.setstate((3, tuple(state["python"]), None))

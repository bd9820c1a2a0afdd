"""Gymnasium spaces as plain JSON-able dicts, so files can record and check them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from imitlab.errors import UserError


def describe_space(space: gym.Space) -> dict[str, Any]:
    """Return a JSON-able description of a Box or Discrete space."""
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "low": np.asarray(space.low, dtype=np.float64).ravel().tolist(),
            "high": np.asarray(space.high, dtype=np.float64).ravel().tolist(),
            "dtype": str(space.dtype),
        }
    raise UserError(
        f"unsupported space {space!r}: imitlab handles Box and Discrete spaces; "
        "flatten other spaces with a gymnasium wrapper (e.g. FlattenObservation)"
    )


def space_from_description(desc: dict[str, Any]) -> gym.Space:
    """Inverse of :func:`describe_space`."""
    if desc["type"] == "Discrete":
        return gym.spaces.Discrete(int(desc["n"]), start=int(desc.get("start", 0)))
    if desc["type"] == "Box":
        shape, dtype = tuple(desc["shape"]), np.dtype(desc["dtype"])
        low = np.asarray(desc["low"], dtype=dtype).reshape(shape)
        high = np.asarray(desc["high"], dtype=dtype).reshape(shape)
        return gym.spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
    raise UserError(f"unknown space type {desc['type']!r} in file; expected Box or Discrete")


def same_space(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True if two space descriptions have the same type, shape/size and bounds."""
    if a["type"] != b["type"]:
        return False
    if a["type"] == "Discrete":
        return a["n"] == b["n"] and a.get("start", 0) == b.get("start", 0)
    return (
        list(a["shape"]) == list(b["shape"])
        and np.allclose(a["low"], b["low"], equal_nan=True)
        and np.allclose(a["high"], b["high"], equal_nan=True)
    )


def space_differences(a: dict[str, Any], b: dict[str, Any], *, name: str) -> list[str]:
    """What really differs between two space descriptions, bounds aside: one short phrase each,
    ``"NAME shape (4,) vs (6,)"`` (``a``'s value first); empty when they agree.

    Compares the type, then a Box's shape and dtype or a Discrete's ``n`` and ``start``; a dtype
    is compared only where both descriptions record one (older files may not).
    """
    if a["type"] != b["type"]:
        return [f"{name} type {a['type']} vs {b['type']}"]
    keys: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...]
    if a["type"] == "Discrete":
        keys = (("n", lambda d: int(d["n"])), ("start", lambda d: int(d.get("start", 0))))
    else:
        keys = (("shape", lambda d: tuple(d["shape"])), ("dtype", lambda d: d.get("dtype")))
    found = []
    for key, value in keys:
        va, vb = value(a), value(b)
        if va is not None and vb is not None and va != vb:
            found.append(f"{name} {key} {va} vs {vb}")
    return found


def bounds_difference(a: dict[str, Any], b: dict[str, Any], *, name: str, show: int = 2) -> str | None:
    """How the bounds of two Box descriptions of one shape differ, as one short phrase naming the
    first ``show`` differing entries (``a``'s value first), e.g. ``"observation high[1] 3.4e+38 vs
    inf"``; None when the bounds agree or the spaces are not such Boxes.

    Gymnasium releases changed some envs' bounds without changing the env (CartPole's unbounded
    velocities were float32-max in 0.29 and are inf from 1.0), so callers may accept a space that
    differs in nothing else, saying so.
    """
    if a["type"] != "Box" or b["type"] != "Box" or list(a["shape"]) != list(b["shape"]):
        return None
    diffs = []
    for key in ("low", "high"):
        va, vb = np.asarray(a[key], dtype=np.float64), np.asarray(b[key], dtype=np.float64)
        # isclose: a float32 round trip of a float64 bound must not count as a change
        for i in np.flatnonzero(~np.isclose(va, vb, equal_nan=True)):
            diffs.append(f"{key}[{i}] {va[i]:.3g} vs {vb[i]:.3g}")
    if not diffs:
        return None
    more = f" and {len(diffs) - show} more" if len(diffs) > show else ""
    return f"{name} {', '.join(diffs[:show])}{more}"


class SpaceBoundsWarning(UserWarning):
    """A model's saved space differs from its env's in bounds only, and is used as it is."""


def space_summary(desc: dict[str, Any]) -> str:
    """A short human form: ``Discrete(2)`` or ``Box(3,)``."""
    if desc["type"] == "Discrete":
        return f"Discrete({desc['n']})"
    return f"Box{tuple(desc['shape'])}"


def observation_box(space: gym.Space) -> gym.spaces.Box:
    """``space`` as the Box that imitlab's networks observe; a UserError if it is another kind."""
    if not isinstance(space, gym.spaces.Box):
        raise UserError(f"observation space {space} is not a Box; wrap the env with FlattenObservation")
    return space


def obs_dim(space: gym.Space) -> int:
    """Flat size of a Box observation space."""
    return int(np.prod(observation_box(space).shape))


def is_discrete(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Discrete)

"""Gymnasium spaces as plain JSON-able dicts, so files can record and check them."""

from __future__ import annotations

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


def space_summary(desc: dict[str, Any]) -> str:
    """A short human form: ``Discrete(2)`` or ``Box(3,)``."""
    if desc["type"] == "Discrete":
        return f"Discrete({desc['n']})"
    return f"Box{tuple(desc['shape'])}"


def obs_dim(space: gym.Space) -> int:
    """Flat size of a Box observation space."""
    if not isinstance(space, gym.spaces.Box):
        raise UserError(f"observation space {space} is not a Box; wrap the env with FlattenObservation")
    return int(np.prod(space.shape))


def is_discrete(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Discrete)

"""Gymnasium spaces as plain JSON-able dicts, so files can record and check them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


# ------------------------------------------------------------------ dict and tuple observations
# imitlab's networks observe a flat Box. An env whose observations are a Dict or a (nested) Tuple
# is observed through gymnasium's flattening (``flatten_space`` / ``flatten``: the leaves in the
# space's own order, a Discrete leaf one-hot), and its *layout* (the structured space, as JSON) is
# recorded beside the flat Box in demo and policy files, so that the structured observation can be
# flattened again (a saved policy acting on a dict) or rebuilt (an export to Minari).
_LEAVES = (gym.spaces.Box, gym.spaces.Discrete)


def is_structured(space: gym.Space) -> bool:
    """True for a Dict or Tuple space (observed flattened, with a recorded layout)."""
    return isinstance(space, gym.spaces.Dict | gym.spaces.Tuple)


def describe_layout(space: gym.Space) -> dict[str, Any]:
    """A JSON-able description of a Dict or Tuple space, nested to any depth, whose leaves are Box
    or Discrete spaces (described by :func:`describe_space`).

    A Dict is ``{"type": "Dict", "spaces": [[key, desc], ...]}`` in the space's key order (the
    order flattening follows); a Tuple is ``{"type": "Tuple", "spaces": [desc, ...]}``.
    """
    if isinstance(space, gym.spaces.Dict):
        return {"type": "Dict", "spaces": [[str(k), describe_layout(s)] for k, s in space.spaces.items()]}
    if isinstance(space, gym.spaces.Tuple):
        return {"type": "Tuple", "spaces": [describe_layout(s) for s in space.spaces]}
    if isinstance(space, _LEAVES):
        return describe_space(space)
    raise UserError(
        f"unsupported observation space {space!r} inside a Dict or Tuple: imitlab flattens Dict and Tuple "
        "observations whose leaves are Box or Discrete spaces"
    )


def layout_from_description(desc: dict[str, Any]) -> gym.Space:
    """Inverse of :func:`describe_layout`."""
    if desc["type"] == "Dict":
        return gym.spaces.Dict([(k, layout_from_description(s)) for k, s in desc["spaces"]])
    if desc["type"] == "Tuple":
        return gym.spaces.Tuple([layout_from_description(s) for s in desc["spaces"]])
    return space_from_description(desc)


def flat_space(desc: dict[str, Any]) -> gym.spaces.Box:
    """The Box that a layout's observations flatten to (gymnasium's ``flatten_space``)."""
    space = gym.spaces.flatten_space(layout_from_description(desc))
    assert isinstance(space, gym.spaces.Box)  # Box and Discrete leaves always flatten to a Box
    return space


def layout_size(desc: dict[str, Any]) -> int:
    """Number of entries of a layout's flat observation."""
    if desc["type"] in ("Dict", "Tuple"):
        return sum(layout_size(s) for s in _children(desc))
    if desc["type"] == "Discrete":
        return int(desc["n"])
    return int(np.prod(desc["shape"], dtype=np.int64))


def layout_summary(desc: dict[str, Any]) -> str:
    """A short human form: ``Dict(achieved_goal: Box(2,), observation: Tuple(Box(2,), Discrete(3)))``."""
    if desc["type"] == "Dict":
        return "Dict(" + ", ".join(f"{k}: {layout_summary(s)}" for k, s in desc["spaces"]) + ")"
    if desc["type"] == "Tuple":
        return "Tuple(" + ", ".join(layout_summary(s) for s in desc["spaces"]) + ")"
    return space_summary(desc)


def layout_differences(a: dict[str, Any], b: dict[str, Any], *, name: str = "observation") -> list[str]:
    """What differs between two layouts, as short phrases (``a``'s value first): the keys of a
    Dict, the length of a Tuple, a leaf's type, shape, dtype or size (bounds aside, see
    :func:`space_differences`); empty when they agree."""
    if a["type"] != b["type"]:
        return [f"{name} type {a['type']} vs {b['type']}"]
    if a["type"] == "Dict":
        ka, kb = [k for k, _ in a["spaces"]], [k for k, _ in b["spaces"]]
        if ka != kb:
            if set(ka) == set(kb):
                return [f"{name} key order {ka} vs {kb}"]
            only_a, only_b = sorted(set(ka) - set(kb)), sorted(set(kb) - set(ka))
            return [f"{name} keys {only_a or '[]'} only in the first, {only_b or '[]'} only in the second"]
        found = []
        for (k, sa), (_, sb) in zip(a["spaces"], b["spaces"]):
            found += layout_differences(sa, sb, name=f"{name}[{k!r}]")
        return found
    if a["type"] == "Tuple":
        if len(a["spaces"]) != len(b["spaces"]):
            return [f"{name} tuple length {len(a['spaces'])} vs {len(b['spaces'])}"]
        found = []
        for i, (sa, sb) in enumerate(zip(a["spaces"], b["spaces"])):
            found += layout_differences(sa, sb, name=f"{name}[{i}]")
        return found
    return space_differences(a, b, name=name)


def _children(desc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for _, s in desc["spaces"]] if desc["type"] == "Dict" else list(desc["spaces"])


def _leaf_batched(desc: dict[str, Any], x: np.ndarray, where: str) -> bool:
    rank = 0 if desc["type"] == "Discrete" else len(desc["shape"])
    if x.ndim == rank + 1:
        return True
    if x.ndim == rank:
        return False
    want = "one integer" if desc["type"] == "Discrete" else f"shape {tuple(desc['shape'])}"
    raise UserError(f"observation{where} has shape {x.shape}; its space holds {want} per observation")


def observations_batched(desc: dict[str, Any], obs: Any) -> bool:
    """Whether a structured observation is a batch (every leaf with a leading batch axis, as a
    vector env gives) or a single one (as ``env.step`` gives); a UserError if the leaves disagree."""
    flags = {_leaf_batched(d, np.asarray(x), where) for d, x, where in _leaves(desc, obs, "")}
    if len(flags) != 1:
        raise UserError("a structured observation mixes batched and single leaves; give every leaf a batch axis")
    return flags.pop()


def _leaves(desc: dict[str, Any], obs: Any, where: str):
    """(leaf description, value, path) for each leaf of ``obs`` in flattening order, after checking
    that ``obs`` has the layout's structure (a Dict's keys, a Tuple's length)."""
    if desc["type"] == "Dict":
        if not isinstance(obs, Mapping):
            raise UserError(f"observation{where} is a {type(obs).__name__}, but its space is a Dict; give a dict of arrays")
        want = [k for k, _ in desc["spaces"]]
        if set(obs.keys()) != set(want):
            missing, extra = sorted(set(want) - set(obs.keys())), sorted(map(str, set(obs.keys()) - set(want)))
            raise UserError(f"observation{where} keys differ from the space's {want}: missing {missing or 'none'}, "
                            f"unexpected {extra or 'none'}; give observations of the env the model was made for")
        for k, s in desc["spaces"]:
            yield from _leaves(s, obs[k], f"{where}[{k!r}]")
    elif desc["type"] == "Tuple":
        if not isinstance(obs, tuple | list) or len(obs) != len(desc["spaces"]):
            raise UserError(f"observation{where} must be a tuple of {len(desc['spaces'])} parts, as its space is")
        for i, s in enumerate(desc["spaces"]):
            yield from _leaves(s, obs[i], f"{where}[{i}]")
    else:
        yield desc, obs, where


def flatten_observations(desc: dict[str, Any], obs: Any, *, dtype: Any = None) -> np.ndarray:
    """A batch of structured observations as a [B, D] array, exactly as gymnasium's ``flatten``
    of each one (leaves in the layout's order, a Discrete leaf one-hot), vectorized.

    ``obs`` is a dict (or tuple) whose leaves carry a leading batch axis, or a single observation
    (returned as a batch of one). ``dtype`` defaults to the flat space's (``flatten_space``'s).
    A wrong key, length or shape is a UserError.
    """
    batched = observations_batched(desc, obs)
    parts, n = [], None
    for leaf, x, where in _leaves(desc, obs, ""):
        x = np.asarray(x)
        if not batched:
            x = x[None]
        if n is None:
            n = len(x)
        elif len(x) != n:
            raise UserError(f"observation{where} holds {len(x)} rows but the first leaf {n}; give one row per observation")
        if leaf["type"] == "Discrete":
            k, start = int(leaf["n"]), int(leaf.get("start", 0))
            if x.dtype.kind not in "iu" and not (x.dtype.kind == "f" and np.all(x == np.floor(x))):
                raise UserError(f"observation{where} must hold integers (a Discrete space), got {x.dtype}")
            idx = x.astype(np.int64) - start
            if ((idx < 0) | (idx >= k)).any():
                raise UserError(f"observation{where} holds {x[(idx < 0) | (idx >= k)][0]}, outside Discrete({k}, start={start})")
            onehot = np.zeros((n, k), np.int64)
            onehot[np.arange(n), idx] = 1
            parts.append(onehot)
        else:
            shape = tuple(leaf["shape"])
            if x.shape[1:] != shape:
                raise UserError(f"observation{where} has shape {x.shape[1:]}; its space has {shape}")
            parts.append(x.reshape(n, -1).astype(np.dtype(leaf["dtype"]), copy=False))
    out_dtype = np.dtype(dtype) if dtype is not None else np.result_type(*(p.dtype for p in parts))
    return np.concatenate(parts, axis=1).astype(out_dtype, copy=False)


def unflatten_observations(desc: dict[str, Any], flat: np.ndarray) -> Any:
    """Inverse of :func:`flatten_observations`: [B, D] flat observations as the layout's nested
    dicts and tuples of [B, ...] arrays (a Box leaf in its dtype, a Discrete leaf as int64)."""
    flat = np.asarray(flat)
    if flat.ndim != 2 or flat.shape[1] != layout_size(desc):
        raise UserError(f"flat observations have shape {flat.shape}; the layout needs [batch, {layout_size(desc)}]")
    out, end = _unflatten(desc, flat, 0)
    assert end == flat.shape[1]
    return out


def _unflatten(desc: dict[str, Any], flat: np.ndarray, start: int) -> tuple[Any, int]:
    if desc["type"] in ("Dict", "Tuple"):
        parts = []
        for child in _children(desc):
            part, start = _unflatten(child, flat, start)
            parts.append(part)
        if desc["type"] == "Dict":
            return {k: p for (k, _), p in zip(desc["spaces"], parts)}, start
        return tuple(parts), start
    size = layout_size(desc)
    block = flat[:, start : start + size]
    if desc["type"] == "Discrete":
        return block.argmax(1).astype(np.int64) + int(desc.get("start", 0)), start + size
    return block.reshape(len(flat), *desc["shape"]).astype(np.dtype(desc["dtype"])), start + size

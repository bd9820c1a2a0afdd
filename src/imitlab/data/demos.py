"""Demonstrations: trajectories with their env id and spaces, a versioned ``.npz`` format,
subsampling and flattening to transitions.

File layout (format ``imitlab.demos``, version 1), all arrays, no pickles:
  ``meta``        JSON string: format, version, env_id, obs_space, act_space, metadata, and
                  optionally obs_layout (the Dict/Tuple space that ``obs_space`` flattens, see
                  :func:`imitlab.envs.spaces.describe_layout`); ``metadata["provenance"]`` says where
                  imported demos came from (see :func:`provenance_lines`)
  ``obs``         [sum(T_i + 1), *obs_shape] every episode's observations, first to last
  ``acts``        [sum(T_i), *act_shape]
  ``rews``        [sum(T_i)] float32 (optional)
  ``lengths``     [E] int64, T_i
  ``terminated``  [E] bool, episode i ended in a true terminal state
  ``truncated``   [E] bool, episode i was cut by a time limit
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from imitlab.envs.spaces import layout_differences, layout_size, layout_summary, same_space, space_summary
from imitlab.errors import UserError
from imitlab.utils import atomic_savez

DEMOS_FORMAT = "imitlab.demos"
DEMOS_VERSION = 1


@dataclass(frozen=True)
class Trajectory:
    """One episode: ``obs`` has one more row than ``acts`` (the state the last action led to)."""

    obs: np.ndarray
    acts: np.ndarray
    rews: np.ndarray | None = None
    terminated: bool = False
    truncated: bool = False

    def __post_init__(self) -> None:
        if len(self.obs) != len(self.acts) + 1:
            raise ValueError(f"a trajectory needs len(obs) == len(acts) + 1, got {len(self.obs)} and {len(self.acts)}")
        if self.rews is not None and len(self.rews) != len(self.acts):
            raise ValueError(f"a trajectory needs len(rews) == len(acts), got {len(self.rews)} and {len(self.acts)}")

    def __len__(self) -> int:
        return len(self.acts)


@dataclass(frozen=True)
class Transitions:
    """Flat (s, a, s') pairs; ``dones`` marks transitions into a true terminal state."""

    obs: np.ndarray
    acts: np.ndarray
    next_obs: np.ndarray
    dones: np.ndarray
    # One weight per episode that ended in a true termination, set by ``subsample`` (which may drop
    # an episode's last step, and with it its ``dones`` flag): the probability that the last step
    # was kept. None: no subsampling, ``dones`` marks every terminated episode's last step.
    terminated_episode_weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.acts)

    def take(self, idx: np.ndarray) -> Transitions:
        return Transitions(self.obs[idx], self.acts[idx], self.next_obs[idx], self.dones[idx])


@dataclass
class Demonstrations:
    """Expert trajectories for one environment, with the spaces they were recorded in.

    Observations are stored as imitlab's networks see them, flat in ``obs_space`` (a Box);
    ``obs_layout``, when the env observes a Dict or Tuple, is that structured space (see
    :func:`imitlab.envs.spaces.describe_layout`), which the flat observations follow.
    """

    trajectories: list[Trajectory]
    env_id: str
    obs_space: dict[str, Any]
    act_space: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    obs_layout: dict[str, Any] | None = None

    @classmethod
    def from_arrays(cls, obs: Any, acts: np.ndarray, **kwargs: Any) -> Demonstrations:
        """Demonstrations from plain arrays, checked as a demo file is.

        See :func:`imitlab.data.importers.arrays.demos_from_arrays` for the arguments: ``obs``
        (one row per step plus each episode's final observation, or one per step with
        ``next_obs``), ``acts``, exactly one of ``episode_lengths`` / ``episode_starts`` /
        ``dones``, ``terminated`` and ``truncated`` (per episode or per step; inferred from the
        env's time limit when left out), ``rews``, ``env_id``, ``obs_space``, ``act_space``.
        """
        from imitlab.data.importers.arrays import demos_from_arrays

        return demos_from_arrays(obs, acts, **kwargs)

    def to_arrays(self, *, per_step: bool = False) -> dict[str, np.ndarray]:
        """The demos as plain arrays that :meth:`from_arrays` takes back exactly.

        By default: ``obs`` [sum(T_i + 1), ...] (each episode's observations, its final one
        included), ``acts`` [sum(T_i), ...], ``episode_lengths`` [E], ``terminated`` and
        ``truncated`` [E], and ``rews`` [sum(T_i)] when recorded. With ``per_step``: one row per
        step, as D4RL and Stable-Baselines3 lay data out: ``obs``, ``next_obs``, ``acts``, ``rews``,
        ``episode_starts``, ``terminated`` and ``truncated`` (true only on an episode's last step).
        """
        from imitlab.data.importers.arrays import demos_to_arrays

        return demos_to_arrays(self, per_step=per_step)

    @property
    def provenance(self) -> dict[str, Any] | None:
        """Where the demos came from (``metadata["provenance"]``), when recorded."""
        p = self.metadata.get("provenance")
        return p if isinstance(p, dict) else None

    @property
    def n_episodes(self) -> int:
        return len(self.trajectories)

    @property
    def n_transitions(self) -> int:
        return sum(len(t) for t in self.trajectories)

    def returns(self) -> np.ndarray | None:
        """Per-episode sum of rewards, or None if rewards were not recorded."""
        returns = []
        for t in self.trajectories:
            if t.rews is None:
                return None
            returns.append(float(t.rews.sum()))
        return np.array(returns)

    def lengths(self) -> np.ndarray:
        return np.array([len(t) for t in self.trajectories], dtype=np.int64)

    def head(self, n_episodes: int) -> Demonstrations:
        """The first ``n_episodes`` episodes."""
        if not 1 <= n_episodes <= self.n_episodes:
            raise UserError(f"asked for {n_episodes} episodes but the demos hold {self.n_episodes}")
        return Demonstrations(self.trajectories[:n_episodes], self.env_id, self.obs_space, self.act_space, dict(self.metadata),
                              self.obs_layout)

    def to_transitions(self) -> Transitions:
        """All steps of all episodes as flat (s, a, s', done) arrays."""
        obs = np.concatenate([t.obs[:-1] for t in self.trajectories])
        next_obs = np.concatenate([t.obs[1:] for t in self.trajectories])
        acts = np.concatenate([t.acts for t in self.trajectories])
        dones = np.concatenate(
            [np.arange(len(t)) == len(t) - 1 if t.terminated else np.zeros(len(t), bool) for t in self.trajectories]
        )
        return Transitions(obs, acts, next_obs, dones)

    def subsample(self, *, every: int | None = None, pairs: int | None = None, rng: np.random.Generator | None = None) -> Transitions:
        """Subsample to transitions: every ``every``-th step of each episode starting at a random
        offset (as in the GAIL paper, which keeps one pair in 20), or ``pairs`` pairs drawn without
        replacement."""
        if (every is None) == (pairs is None):
            raise UserError("subsample takes exactly one of every= or pairs=")
        rng = rng if rng is not None else np.random.default_rng(0)
        trans = self.to_transitions()
        if every is not None:
            if every < 1:
                raise UserError(f"subsample every must be >= 1, got {every}")
            idx, start = [], 0
            for t in self.trajectories:
                offset = int(rng.integers(min(every, len(t)))) if len(t) else 0
                idx.append(start + np.arange(offset, len(t), every))
                start += len(t)
            # Exactly one of the min(every, T) offsets keeps an episode's last step.
            kept = [1.0 / min(every, len(t)) for t in self.trajectories if t.terminated and len(t)]
            return replace(trans.take(np.concatenate(idx)), terminated_episode_weights=np.array(kept))
        assert pairs is not None  # exactly one of every= and pairs= was given
        if not 1 <= pairs <= len(trans):
            raise UserError(f"subsample pairs must be in 1..{len(trans)} (the number of transitions), got {pairs}")
        keep = np.full(sum(t.terminated and len(t) > 0 for t in self.trajectories), pairs / len(trans))
        return replace(trans.take(np.sort(rng.choice(len(trans), size=pairs, replace=False))), terminated_episode_weights=keep)

    def check_env(self, env_id: str, obs_space: dict[str, Any], act_space: dict[str, Any]) -> None:
        """Raise a UserError unless these demos fit ``env_id`` and its spaces."""
        if not same_space(self.obs_space, obs_space) or not same_space(self.act_space, act_space):
            raise UserError(
                f"the demos were recorded in {self.env_id} with observations {space_summary(self.obs_space)} "
                f"and actions {space_summary(self.act_space)}, which do not fit {env_id} "
                f"({space_summary(obs_space)}, {space_summary(act_space)}); collect demos in {env_id}"
            )
        if self.obs_layout is not None:
            from imitlab.envs.dict_obs import observation_layout

            env_layout = observation_layout(env_id)
            diffs = [] if env_layout is None else layout_differences(self.obs_layout, env_layout, name="observation")
            if diffs:
                raise UserError(
                    f"the demos' observations {layout_summary(self.obs_layout)} do not fit {env_id}'s "
                    f"{layout_summary(env_layout or {})} ({'; '.join(diffs[:3])}); collect demos in {env_id}"
                )
        if self.env_id != env_id:
            raise UserError(
                f"the demos were recorded in {self.env_id}, not {env_id}; pass --env {self.env_id} "
                f"or collect demos in {env_id}"
            )

    def save(self, path: str | os.PathLike) -> None:
        """Write the demos to ``path`` (``.npz``) atomically."""
        if not self.trajectories:
            raise UserError("cannot save demonstrations with no episodes")
        meta = {
            "format": DEMOS_FORMAT,
            "version": DEMOS_VERSION,
            "env_id": self.env_id,
            "obs_space": self.obs_space,
            "act_space": self.act_space,
            "metadata": self.metadata,
        }
        if self.obs_layout is not None:
            meta["obs_layout"] = self.obs_layout
        arrays = {
            "meta": np.array(json.dumps(meta)),
            "obs": np.concatenate([t.obs for t in self.trajectories]),
            "acts": np.concatenate([t.acts for t in self.trajectories]),
            "lengths": self.lengths(),
            "terminated": np.array([t.terminated for t in self.trajectories], dtype=bool),
            "truncated": np.array([t.truncated for t in self.trajectories], dtype=bool),
        }
        if self.returns() is not None:
            arrays["rews"] = np.concatenate([t.rews for t in self.trajectories]).astype(np.float32)
        atomic_savez(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Demonstrations:
        """Read and validate a demo file written by :meth:`save`.

        Every way a file can be damaged or foreign (truncated, flipped bytes, missing or renamed
        arrays, wrong dtypes or shapes, nan/inf, lengths that do not add up, sizes it does not hold,
        pickled objects) is a :class:`UserError` naming the problem; nothing is unpickled.
        """
        path = Path(path)
        if not path.is_file():
            raise UserError(f"demo file {str(path)!r} not found; make one with 'imitlab demos collect'")
        return cls._from_arrays(_read_npz(path), str(path))

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray], name: str, *, what: str | None = None,
                     fix: str | None = None) -> Demonstrations:
        """Demos from a file's arrays, checked; a problem is a UserError that starts with ``what``
        (default: ``demo file NAME``) and ends with ``fix`` (default: the problem's own)."""
        try:
            return cls._parse(arrays)
        except _Invalid as e:
            if what is None:
                raise UserError(f"demo file {name!r} is invalid: {e}; {e.fix}") from None
            raise UserError(f"{what}: {e}; {fix or e.fix}") from None

    @classmethod
    def _parse(cls, arrays: dict[str, np.ndarray]) -> Demonstrations:
        missing = set(_REQUIRED_ARRAYS) - arrays.keys()
        if missing:
            raise _Invalid(f"missing arrays {sorted(missing)}", "give a file written by 'imitlab demos collect'")
        meta = _parse_meta(arrays["meta"])
        obs_space, act_space = meta["obs_space"], meta["act_space"]
        obs, acts, rews = arrays["obs"], arrays["acts"], arrays.get("rews")
        for key in ("obs", "acts"):
            if arrays[key].ndim == 0:
                raise _Invalid(f"'{key}' is a single value, not one row per step")
        lengths = _episode_lengths(arrays["lengths"], len(acts))
        n, total = len(lengths), int(lengths.sum())
        if len(acts) != total or len(obs) != total + n:
            raise _Invalid(f"{len(obs)} observations and {len(acts)} actions do not match the episode lengths "
                           f"({n} episodes of {total} steps need {total + n} and {total})")
        terminated = _episode_flags(arrays["terminated"], "terminated", n)
        truncated = _episode_flags(arrays["truncated"], "truncated", n)
        if rews is not None:
            if rews.ndim != 1 or len(rews) != len(acts):
                raise _Invalid(f"rewards have shape {rews.shape}, expected one per action ({len(acts)},)")
            if rews.dtype.kind not in "iuf":
                raise _Invalid(f"rewards must be numbers, got dtype {rews.dtype}")
            if not np.isfinite(rews).all():
                raise _Invalid("rewards contain nan or inf")
        problem = observation_problem(obs, obs_space) or action_problem(acts, act_space)
        if problem:
            raise _Invalid(problem)
        if act_space["type"] == "Discrete":
            acts = acts.astype(np.int64, copy=False)  # whole numbers stored as floats: exact, now checked
        trajs, o, a = [], 0, 0
        for i, length in enumerate(lengths.tolist()):
            trajs.append(
                Trajectory(
                    obs=obs[o : o + length + 1],
                    acts=acts[a : a + length],
                    rews=None if rews is None else rews[a : a + length],
                    terminated=bool(terminated[i]),
                    truncated=bool(truncated[i]),
                )
            )
            o += length + 1
            a += length
        return cls(trajs, meta["env_id"], obs_space, act_space, meta.get("metadata", {}), meta.get("obs_layout"))


def load_demos(path: str | os.PathLike) -> Demonstrations:
    """Load a demo file (see :class:`Demonstrations`)."""
    return Demonstrations.load(path)


# ----------------------------------------------------------------------------- checks on file content
# Bigger than any gymnasium env's space (an 84x84x4 Atari frame stack has 28,224 entries), small
# enough that a network built for it fits in memory: a size beyond it is a damaged file.
MAX_SPACE_SIZE = 2**24
_REQUIRED_ARRAYS = ("meta", "obs", "acts", "lengths", "terminated", "truncated")
_ARRAYS = (*_REQUIRED_ARRAYS, "rews")
_RECOLLECT = "record the demos again with 'imitlab demos collect'"


class _Invalid(Exception):
    """Why a demo file's content is unusable; :meth:`Demonstrations._from_arrays` names the file."""

    def __init__(self, why: str, fix: str = _RECOLLECT) -> None:
        super().__init__(why)
        self.fix = fix


def _is_int(x: Any) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


def space_problem(desc: Any) -> str | None:
    """What is wrong with ``desc`` as a space description read from a file (see
    :func:`imitlab.envs.spaces.describe_space`), or None when it is a well-formed Box or Discrete.

    Files are not trusted: sizes are bounded by :data:`MAX_SPACE_SIZE` before anything is built
    for them, and bounds must be numbers that :func:`~imitlab.envs.spaces.space_from_description`
    can reshape to the space's shape.
    """
    if not isinstance(desc, dict):
        return f"is {type(desc).__name__}, not a space description (an object with a 'type')"
    kind = desc.get("type")
    if kind == "Discrete":
        n, start = desc.get("n"), desc.get("start", 0)
        if not _is_int(n) or not 1 <= n <= MAX_SPACE_SIZE:
            return f"is Discrete with n={n!r}; n must be a whole number in 1..{MAX_SPACE_SIZE}"
        if not _is_int(start) or abs(start) > 2**62:
            return f"is Discrete with start={start!r}; start must be a whole number"
        return None
    if kind != "Box":
        return f"has type {kind!r}; imitlab records Box and Discrete spaces"
    shape = desc.get("shape")
    if not isinstance(shape, list | tuple) or len(shape) > 32 or not all(_is_int(s) and s >= 0 for s in shape):
        return f"is a Box with shape {shape!r}; a shape is a list of whole numbers"
    size = 1
    for s in shape:
        size *= s
    if size > MAX_SPACE_SIZE:
        return f"is a Box of shape {tuple(shape)} ({size:,} entries), more than the {MAX_SPACE_SIZE:,} imitlab accepts"
    try:
        dtype = np.dtype(desc.get("dtype"))
    except TypeError:
        return f"is a Box with dtype {desc.get('dtype')!r}, not a numeric dtype"
    if desc.get("dtype") is None or dtype.kind not in "biuf":
        return f"is a Box with dtype {desc.get('dtype')!r}, not a numeric dtype"
    bounds = []
    for key in ("low", "high"):
        value = desc.get(key)
        if isinstance(value, list | tuple) and not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            value = None  # nested lists, strings, None: describe_space writes a flat list of numbers
        if not isinstance(value, list | tuple) or len(value) != size:
            return f"is a Box of shape {tuple(shape)} whose '{key}' is not a list of {size} numbers"
        try:
            bounds.append(np.asarray(value, dtype=np.float64))
        except OverflowError:  # an integer beyond float range
            return f"is a Box whose '{key}' holds a number too large for a float"
    low, high = bounds
    if np.isnan(low).any() or np.isnan(high).any() or (low > high).any():
        return "is a Box with nan bounds or a low above its high"
    return None


_MAX_LAYOUT_DEPTH = 16
_MAX_LAYOUT_LEAVES = 4096


def layout_problem(desc: Any) -> str | None:
    """What is wrong with ``desc`` as a Dict/Tuple layout read from a file (see
    :func:`imitlab.envs.spaces.describe_layout`), or None when it is well formed: Dict and Tuple
    nodes (a Dict's keys unique strings), at most 16 deep and 4096 leaves, each leaf a space that
    :func:`space_problem` accepts, the flat size at most :data:`MAX_SPACE_SIZE`."""
    if not isinstance(desc, dict) or desc.get("type") not in ("Dict", "Tuple"):
        kind = desc.get("type") if isinstance(desc, dict) else type(desc).__name__
        return f"is {kind!r}, not a Dict or Tuple layout"
    leaves: list[Any] = []
    stack: list[tuple[Any, int, str]] = [(desc, 0, "")]
    while stack:
        node, depth, where = stack.pop()
        if depth > _MAX_LAYOUT_DEPTH:
            return f"nests deeper than {_MAX_LAYOUT_DEPTH} levels"
        kind = node.get("type") if isinstance(node, dict) else None
        if kind not in ("Dict", "Tuple"):
            leaves.append((node, where))
            if len(leaves) > _MAX_LAYOUT_LEAVES:
                return f"has more than {_MAX_LAYOUT_LEAVES} leaves"
            continue
        children = node.get("spaces")
        if not isinstance(children, list) or not children:
            return f"has a {kind}{where} without a list of spaces"
        if kind == "Dict":
            if not all(isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) for c in children):
                return f"has a Dict{where} whose spaces are not [key, space] pairs"
            keys = [c[0] for c in children]
            if len(set(keys)) != len(keys):
                return f"has a Dict{where} with a repeated key"
            stack += [(c[1], depth + 1, f"{where}[{c[0]!r}]") for c in children]
        else:
            stack += [(c, depth + 1, f"{where}[{i}]") for i, c in enumerate(children)]
    size = 0
    for leaf, where in leaves:
        problem = space_problem(leaf)
        if problem:
            return f"leaf{where} {problem}"
        size += int(leaf["n"]) if leaf["type"] == "Discrete" else int(np.prod(leaf["shape"], dtype=np.int64))
        if size > MAX_SPACE_SIZE:
            return f"flattens to more than the {MAX_SPACE_SIZE:,} entries imitlab accepts"
    return None


def observation_problem(obs: np.ndarray, obs_space: dict[str, Any]) -> str | None:
    """What is wrong with ``obs`` as a batch of observations of the described space, or None."""
    return _numbers_problem(obs, "observations", tuple(obs_space.get("shape", ())), kinds="biuf")


def action_problem(acts: np.ndarray, act_space: dict[str, Any]) -> str | None:
    """What is wrong with ``acts`` as a batch of actions of the described space, or None.

    Discrete actions must be whole, finite numbers in the space's range (stored as integers or as
    floats such as 1.0: a 0.5 would otherwise be silently truncated to 0, and a nan compares false
    with every bound); continuous ones finite numbers of the space's shape.
    """
    if act_space["type"] == "Discrete":
        lo, n = int(act_space.get("start", 0)), int(act_space["n"])
        if acts.ndim != 1:
            return f"discrete actions must be one number per step, got shape {acts.shape[1:]} per step"
        if acts.dtype.kind not in "iuf":
            return f"discrete actions must be integers, got dtype {acts.dtype}"
        if acts.dtype.kind == "f":
            if not np.isfinite(acts).all():
                return f"discrete actions must be integers in [{lo}, {lo + n}), found nan or inf"
            fractional = acts[acts != np.floor(acts)]
            if len(fractional):
                return f"discrete actions must be integers in [{lo}, {lo + n}), found {fractional[0]:g}"
        outside = acts[(acts < lo) | (acts >= lo + n)]
        if len(outside):
            return f"discrete actions must be integers in [{lo}, {lo + n}), found {outside[0]:g}"
        return None
    return _numbers_problem(acts, "continuous actions", tuple(act_space["shape"]), kinds="iuf")


def _numbers_problem(x: np.ndarray, what: str, want: tuple[int, ...], *, kinds: str) -> str | None:
    """What is wrong with ``x`` as a batch of finite numbers of shape ``want`` per step, or None."""
    if x.ndim < 1 or x.shape[1:] != want:
        return f"{what} have shape {x.shape[1:]} per step, but the space says {want}"
    if x.dtype.kind not in kinds:
        return f"{what} must be numbers, got dtype {x.dtype}"
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        return f"{what} contain nan or inf"
    return None


def _parse_meta(arr: np.ndarray) -> dict[str, Any]:
    """The ``meta`` array's JSON object, checked field by field."""
    if arr.ndim != 0 or arr.dtype.kind != "U":
        raise _Invalid(f"'meta' must be one JSON string, got an array of dtype {arr.dtype} and shape {arr.shape}")
    try:
        meta = json.loads(str(arr))
    except json.JSONDecodeError as e:
        raise _Invalid(f"its metadata is not JSON ({e})") from None
    if not isinstance(meta, dict):
        raise _Invalid(f"its metadata is a JSON {type(meta).__name__}, not an object")
    if meta.get("format") != DEMOS_FORMAT:
        raise _Invalid(f"its format is {meta.get('format')!r}, not {DEMOS_FORMAT!r}",
                       "give a file written by 'imitlab demos collect'")
    version = meta.get("version")
    if not _is_int(version) or version < 1:
        raise _Invalid(f"its format version is {version!r}, not a whole number")
    if version > DEMOS_VERSION:
        raise _Invalid(f"its format version {version} is newer than this imitlab reads ({DEMOS_VERSION})",
                       "upgrade imitlab")
    if not isinstance(meta.get("env_id"), str) or not meta["env_id"]:
        raise _Invalid(f"its metadata's env_id is {meta.get('env_id')!r}, not an environment id")
    for key in ("obs_space", "act_space"):
        if key not in meta:
            raise _Invalid(f"its metadata lacks {key!r}")
        problem = space_problem(meta[key])
        if problem:
            raise _Invalid(f"its metadata's {key} {problem}")
    if not isinstance(meta.get("metadata", {}), dict):
        raise _Invalid(f"its metadata's 'metadata' is a {type(meta['metadata']).__name__}, not an object")
    if meta.get("obs_layout") is not None:
        problem = layout_problem(meta["obs_layout"])
        if problem:
            raise _Invalid(f"its metadata's obs_layout {problem}")
        size = layout_size(meta["obs_layout"])
        if meta["obs_space"]["type"] != "Box" or list(meta["obs_space"]["shape"]) != [size]:
            raise _Invalid(f"its obs_space {space_summary(meta['obs_space'])} is not the flat Box({size},) "
                           f"that its obs_layout {layout_summary(meta['obs_layout'])} flattens to")
    return meta


def _episode_lengths(arr: np.ndarray, n_acts: int) -> np.ndarray:
    """``lengths`` as int64, checked to be whole numbers in 1..``n_acts`` (so their sum cannot
    overflow and a fraction is never truncated)."""
    if arr.ndim != 1 or len(arr) == 0:
        raise _Invalid(f"'lengths' must list one length per episode, got shape {arr.shape}")
    if arr.dtype.kind not in "iuf":
        raise _Invalid(f"'lengths' must be whole numbers, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and (~np.isfinite(arr) | (arr != np.floor(arr))).any():
        raise _Invalid("'lengths' must be whole numbers, found a fraction, nan or inf")
    if (arr < 1).any() or (arr > n_acts).any():
        raise _Invalid(f"episode lengths must be in 1..{n_acts} (the number of actions), found "
                       f"{arr[(arr < 1) | (arr > n_acts)][0].item()}")
    return arr.astype(np.int64)


def _episode_flags(arr: np.ndarray, name: str, n: int) -> np.ndarray:
    if arr.shape != (n,):
        raise _Invalid(f"'{name}' has shape {arr.shape}, expected one flag per episode ({n},)")
    if arr.dtype.kind not in "biu" or (arr.dtype.kind != "b" and ((arr < 0) | (arr > 1)).any()):
        raise _Invalid(f"'{name}' must hold true/false flags, got dtype {arr.dtype}")
    return arr.astype(bool)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a demo file, read without unpickling and only after checking that each
    array's declared size is what the file stores and fits in memory."""
    return read_npz_arrays(path, _ARRAYS, what=f"demo file {str(path)!r}", fix=_RECOLLECT)[0]


def read_npz_arrays(path: Path, keys: Sequence[str] | None, *, what: str, fix: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """``(arrays, names)``: the arrays ``keys`` (all when None) that an ``.npz`` file holds, and the
    names of every array in it, read without unpickling and only after checking that each array's
    declared size is what the file stores and that they fit in memory. A problem is a UserError
    naming ``what`` (e.g. ``demo file 'x.npz'``) and ending with ``fix``."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = {info.filename: info for info in zf.infolist()}
            names = [m[: -len(".npy")] for m in members if m.endswith(".npy")]
            wanted = names if keys is None else [k for k in keys if k in names]
            total = 0
            for key in wanted:
                total += _declared_bytes(zf, members[key + ".npy"], what, fix)
            if total > _memory_bytes():
                raise UserError(f"{what} declares {total / 2**30:.1f} GiB of arrays, more than this "
                                "machine's memory; it is damaged, or too large: split it into several files")
            with np.load(path, allow_pickle=False) as f:
                return {key: f[key] for key in wanted if key in f.files}, names
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - zipfile, zlib and numpy's header parser raise many kinds
        raise UserError(f"{what} is corrupt or not an .npz file ({type(e).__name__}: {_one_line(e)}); "
                        f"{fix}") from None


def _declared_bytes(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str, fix: str) -> int:
    """Bytes that the .npy member ``info`` declares in its header, checked against what it stores."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    key = info.filename[: -len(".npy")]
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in readers:
            raise ValueError(f"array {key!r} has .npy format version {version}, which numpy.savez does not write")
        shape, _, dtype = readers[version](f)
        stored = info.file_size - f.tell()
    if dtype.hasobject:
        raise UserError(f"{what} holds pickled Python objects in {key!r}, which imitlab never loads "
                        f"(unpickling can run code); {fix}")
    declared = dtype.itemsize
    for s in shape:
        declared *= s
    if declared != stored:
        raise UserError(f"{what} is damaged: array {key!r} declares shape {shape} ({declared:,} bytes) "
                        f"but stores {stored:,} bytes; {fix}")
    return declared


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): no limit beyond numpy's own
        return 2**63


def _one_line(e: BaseException) -> str:
    """The first line of an exception's message, shortened: some libraries explain at length."""
    text = str(e).strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= 160 else line[:157] + "..."

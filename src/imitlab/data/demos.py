"""Demonstrations: trajectories with their env id and spaces, a versioned ``.npz`` format,
subsampling and flattening to transitions.

File layout (format ``imitlab.demos``, version 1), all arrays, no pickles:
  ``meta``        JSON string: format, version, env_id, obs_space, act_space, metadata
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imitlab.envs.spaces import same_space, space_summary
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

    def __len__(self) -> int:
        return len(self.acts)

    def take(self, idx: np.ndarray) -> Transitions:
        return Transitions(self.obs[idx], self.acts[idx], self.next_obs[idx], self.dones[idx])


@dataclass
class Demonstrations:
    """Expert trajectories for one environment, with the spaces they were recorded in."""

    trajectories: list[Trajectory]
    env_id: str
    obs_space: dict[str, Any]
    act_space: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_episodes(self) -> int:
        return len(self.trajectories)

    @property
    def n_transitions(self) -> int:
        return sum(len(t) for t in self.trajectories)

    def returns(self) -> np.ndarray | None:
        """Per-episode sum of rewards, or None if rewards were not recorded."""
        if any(t.rews is None for t in self.trajectories):
            return None
        return np.array([float(t.rews.sum()) for t in self.trajectories])

    def lengths(self) -> np.ndarray:
        return np.array([len(t) for t in self.trajectories], dtype=np.int64)

    def head(self, n_episodes: int) -> Demonstrations:
        """The first ``n_episodes`` episodes."""
        if not 1 <= n_episodes <= self.n_episodes:
            raise UserError(f"asked for {n_episodes} episodes but the demos hold {self.n_episodes}")
        return Demonstrations(self.trajectories[:n_episodes], self.env_id, self.obs_space, self.act_space, dict(self.metadata))

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
            return trans.take(np.concatenate(idx))
        if not 1 <= pairs <= len(trans):
            raise UserError(f"subsample pairs must be in 1..{len(trans)} (the number of transitions), got {pairs}")
        return trans.take(np.sort(rng.choice(len(trans), size=pairs, replace=False)))

    def check_env(self, env_id: str, obs_space: dict[str, Any], act_space: dict[str, Any]) -> None:
        """Raise a UserError unless these demos fit ``env_id`` and its spaces."""
        if not same_space(self.obs_space, obs_space) or not same_space(self.act_space, act_space):
            raise UserError(
                f"the demos were recorded in {self.env_id} with observations {space_summary(self.obs_space)} "
                f"and actions {space_summary(self.act_space)}, which do not fit {env_id} "
                f"({space_summary(obs_space)}, {space_summary(act_space)}); collect demos in {env_id}"
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
        """Read and validate a demo file written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"demo file {str(path)!r} not found; make one with 'imitlab demos collect'")
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            raise UserError(f"demo file {str(path)!r} is corrupt or not an .npz file ({e})") from None
        return cls._from_arrays(arrays, str(path))

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray], name: str) -> Demonstrations:
        def bad(why: str) -> UserError:
            return UserError(f"demo file {name!r} is invalid: {why}")

        missing = {"meta", "obs", "acts", "lengths", "terminated", "truncated"} - arrays.keys()
        if missing:
            raise bad(f"missing arrays {sorted(missing)}; was it written by imitlab?")
        try:
            meta = json.loads(str(arrays["meta"]))
        except json.JSONDecodeError as e:
            raise bad(f"unreadable metadata ({e})") from None
        if meta.get("format") != DEMOS_FORMAT:
            raise bad(f"format is {meta.get('format')!r}, expected {DEMOS_FORMAT!r}")
        if int(meta.get("version", 0)) > DEMOS_VERSION:
            raise bad(f"format version {meta['version']} is newer than this imitlab reads ({DEMOS_VERSION}); upgrade imitlab")
        lengths = arrays["lengths"].astype(np.int64)
        obs, acts = arrays["obs"], arrays["acts"]
        n = len(lengths)
        if n == 0 or (lengths < 1).any():
            raise bad("it holds no episodes, or an episode with no steps")
        if len(acts) != lengths.sum() or len(obs) != lengths.sum() + n:
            raise bad(f"{len(obs)} observations and {len(acts)} actions do not match the episode lengths (sum {lengths.sum()})")
        if len(arrays["terminated"]) != n or len(arrays["truncated"]) != n:
            raise bad("terminated/truncated flags do not match the number of episodes")
        rews = arrays.get("rews")
        if rews is not None and len(rews) != len(acts):
            raise bad("rewards do not match the number of actions")
        obs_space, act_space = meta["obs_space"], meta["act_space"]
        if obs.shape[1:] != tuple(obs_space.get("shape", ())):
            raise bad(f"observations have shape {obs.shape[1:]} but the recorded space says {obs_space.get('shape')}")
        if not np.isfinite(obs).all():
            raise bad("observations contain nan or inf")
        if act_space["type"] == "Discrete":
            lo = act_space.get("start", 0)
            if acts.ndim != 1 or (acts < lo).any() or (acts >= lo + act_space["n"]).any():
                raise bad(f"discrete actions must be integers in [{lo}, {lo + act_space['n']})")
        elif acts.shape[1:] != tuple(act_space["shape"]) or not np.isfinite(acts).all():
            raise bad(f"actions have shape {acts.shape[1:]} (or non-finite values); the space says {act_space['shape']}")
        trajs, o, a = [], 0, 0
        for i, length in enumerate(lengths):
            trajs.append(
                Trajectory(
                    obs=obs[o : o + length + 1],
                    acts=acts[a : a + length],
                    rews=None if rews is None else rews[a : a + length],
                    terminated=bool(arrays["terminated"][i]),
                    truncated=bool(arrays["truncated"][i]),
                )
            )
            o += length + 1
            a += length
        return cls(trajs, meta["env_id"], obs_space, act_space, meta.get("metadata", {}))


def load_demos(path: str | os.PathLike) -> Demonstrations:
    """Load a demo file (see :class:`Demonstrations`)."""
    return Demonstrations.load(path)

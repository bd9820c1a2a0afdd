"""Replay for the off-policy learners (DQN, SAC, and those built on them): a preallocated ring
buffer of transitions, the :class:`ReplayBatch` it samples, and the progress rows of their loops.

Rewards are optional at insert: a buffer made with ``rewards=False`` stores none, and a learner
whose reward is not the environment's (a discriminator's, as in DAC; a constant per source, as in
SQIL) computes them when it samples, with ``sample(n, reward_fn=...)`` or ``batch.with_rewards``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True, kw_only=True)
class ReplayBatch:
    """A minibatch of transitions as tensors, each with a first dimension of length B."""

    obs: torch.Tensor
    """Observations s, [B, *obs_shape] float32."""
    acts: torch.Tensor
    """Actions a, [B, *act_shape] (float32 for Box actions, int64 for Discrete ones)."""
    rews: torch.Tensor | None = None
    """Rewards r, [B] float32: the stored ones, or computed at sampling time; None when neither."""
    next_obs: torch.Tensor
    """Next observations s', [B, *obs_shape]: the true final observation where an episode ended."""
    terminated: torch.Tensor
    """1.0 where s' is terminal (no bootstrap), else 0.0, [B] float32. A time-limit truncation is 0."""
    indices: np.ndarray | None = None
    """The buffer slots the transitions came from (for learners that write back per transition)."""

    def __len__(self) -> int:
        return len(self.obs)

    def with_rewards(self, rews: torch.Tensor) -> ReplayBatch:
        """This batch with ``rews`` ([B]) as its rewards (the tensors are shared, not copied)."""
        if tuple(rews.shape) != (len(self),):
            # A [B, 1] reward would broadcast against [B] terminals into a [B, B] target.
            raise ValueError(f"rewards for a batch of {len(self)} must have shape ({len(self)},), got {tuple(rews.shape)}")
        return dataclasses.replace(self, rews=rews)

    def require_rewards(self) -> torch.Tensor:
        """The batch's rewards; a ValueError that says what to do where it has none."""
        if self.rews is None:
            raise ValueError("this batch has no rewards: sample it with reward_fn, or give it rewards with with_rewards()")
        return self.rews

    @staticmethod
    def cat(batches: Sequence[ReplayBatch]) -> ReplayBatch:
        """The transitions of ``batches`` one after the other (e.g. demonstrations and the agent's
        own, as SQIL mixes them). Rewards must be present in all of them or in none."""
        with_rews = {b.rews is not None for b in batches}
        if len(with_rews) != 1:
            raise ValueError("cannot concatenate batches with rewards and batches without: relabel them first")
        return ReplayBatch(
            obs=torch.cat([b.obs for b in batches]),
            acts=torch.cat([b.acts for b in batches]),
            rews=torch.cat([b.require_rewards() for b in batches]) if with_rews == {True} else None,
            next_obs=torch.cat([b.next_obs for b in batches]),
            terminated=torch.cat([b.terminated for b in batches]),
        )


RewardFn = Callable[[ReplayBatch], torch.Tensor]
"""Computes the rewards [B] of a sampled batch (its stored ones, if any, are in ``batch.rews``)."""


class ReplayBuffer:
    """Holds the last ``capacity`` transitions ``(obs, act, rew, next_obs, terminated)``.

    Only ``terminated`` is stored as the end flag: a time-limit truncation still bootstraps from
    ``next_obs`` (which the same-step vector envs give as the true final observation). With
    ``rewards=False`` no rewards are stored: batches get theirs from ``sample``'s ``reward_fn``.
    """

    def __init__(
        self, capacity: int, obs_shape: tuple[int, ...], act_shape: tuple[int, ...], act_dtype, *, seed: int,
        rewards: bool = True,
    ) -> None:
        self.capacity = capacity
        self.obs = np.zeros((capacity, *obs_shape), np.float32)
        self.next_obs = np.zeros_like(self.obs)
        self.acts = np.zeros((capacity, *act_shape), act_dtype)
        self.rews = np.zeros(capacity, np.float32) if rewards else None
        self.terminated = np.zeros(capacity, np.float32)
        self.pos = 0
        self.size = 0
        self.rng = np.random.default_rng(seed)

    @property
    def stores_rewards(self) -> bool:
        return self.rews is not None

    def __len__(self) -> int:
        return self.size

    def add(
        self, obs: np.ndarray, act: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray, *, rews: np.ndarray | None = None
    ) -> None:
        """Add a batch of transitions (one per env); ``rews`` exactly when the buffer stores rewards."""
        if (rews is None) == self.stores_rewards:
            raise ValueError("this buffer stores rewards: give rews" if self.stores_rewards
                             else "this buffer stores no rewards (rewards=False): compute them at sampling time")
        n = len(obs)
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx] = obs
        self.acts[idx] = act
        if self.rews is not None:
            self.rews[idx] = rews
        self.next_obs[idx] = next_obs
        self.terminated[idx] = terminated
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, reward_fn: RewardFn | None = None) -> ReplayBatch:
        """A uniform minibatch (with replacement). ``reward_fn``, where given, computes its rewards
        from the batch (which holds the stored rewards, if any); else the stored rewards are used."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = self.rng.integers(self.size, size=batch_size)
        # One gather per array (fancy indexing copies into a fresh contiguous array, which
        # torch.from_numpy then shares without another copy).
        batch = ReplayBatch(
            obs=torch.from_numpy(self.obs[idx]),
            acts=torch.from_numpy(self.acts[idx]),
            rews=None if self.rews is None else torch.from_numpy(self.rews[idx]),
            next_obs=torch.from_numpy(self.next_obs[idx]),
            terminated=torch.from_numpy(self.terminated[idx]),
            indices=idx,
        )
        return batch if reward_fn is None else batch.with_rewards(reward_fn(batch))

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {"obs": self.obs, "acts": self.acts, "rews": self.rews, "next_obs": self.next_obs,
                  "terminated": self.terminated}
        return {k: v for k, v in arrays.items() if v is not None}

    def state_dict(self) -> dict:
        """The stored transitions (as tensors, for a weights-only checkpoint) and the sampling RNG.
        The arrays are copies of the filled part: a view would save the whole preallocated array."""
        n = self.size
        return {
            **{k: torch.from_numpy(v[:n].copy()) for k, v in self._arrays().items()},
            "pos": self.pos, "size": self.size, "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict) -> None:
        n = int(state["size"])
        if n > self.capacity:
            raise ValueError(f"the saved buffer holds {n} transitions, more than this buffer's capacity {self.capacity}")
        if ("rews" in state) != self.stores_rewards:
            raise ValueError("the saved buffer and this one differ in whether they store rewards")
        for name, array in self._arrays().items():
            array[:n] = state[name].numpy()
        self.pos, self.size = int(state["pos"]), n
        self.rng.bit_generator.state = state["rng"]


class ProgressRows:
    """What the off-policy loops write to progress.csv: a row every ``every`` env steps and at the
    end of the run, with the learner's latest statistics and the mean return of the episodes that
    ended since the previous row (when any did).

    A fixed cadence, rather than a row per finished episode, so that losses are logged even where
    no episode ends (long episodes, short runs) and long runs do not write a row per episode.
    """

    def __init__(self, num_envs: int, every: int) -> None:
        self.every = every
        self._running = np.zeros(num_envs)
        self._finished: list[np.ndarray] = []

    def record(self, rews: np.ndarray, done: np.ndarray) -> None:
        """Add one vector step's rewards; ``done`` marks the envs whose episode ended there."""
        self._running += rews
        if done.any():
            self._finished.append(self._running[done].copy())
            self._running[done] = 0.0

    def due(self, env_steps: int, steps_taken: int, *, last: bool) -> bool:
        """True when the last ``steps_taken`` env steps crossed a multiple of ``every`` (which a
        resumed run crosses where an uninterrupted one would), or at the ``last`` step."""
        return last or env_steps // self.every > (env_steps - steps_taken) // self.every

    def row(self, stats: dict[str, float]) -> dict[str, float]:
        """The next row: ``stats``, and the episodes ended since the previous row."""
        row: dict[str, float] = {}
        if self._finished:
            returns = np.concatenate(self._finished)
            row = {"episode_return": float(returns.mean()), "episodes": len(returns)}
            self._finished = []
        return {**row, **stats}

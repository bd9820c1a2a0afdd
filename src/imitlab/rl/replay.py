"""A preallocated ring buffer of transitions for the off-policy learners (DQN, SAC)."""

from __future__ import annotations

import numpy as np
import torch


class ReplayBuffer:
    """Holds the last ``capacity`` transitions ``(obs, act, rew, next_obs, terminated)``.

    Only ``terminated`` is stored as the end flag: a time-limit truncation still bootstraps from
    ``next_obs`` (which the same-step vector envs give as the true final observation).
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], act_shape: tuple[int, ...], act_dtype, *, seed: int) -> None:
        self.capacity = capacity
        self.obs = np.zeros((capacity, *obs_shape), np.float32)
        self.next_obs = np.zeros_like(self.obs)
        self.acts = np.zeros((capacity, *act_shape), act_dtype)
        self.rews = np.zeros(capacity, np.float32)
        self.terminated = np.zeros(capacity, np.float32)
        self.pos = 0
        self.size = 0
        self.rng = np.random.default_rng(seed)

    def add(self, obs: np.ndarray, act: np.ndarray, rew: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray) -> None:
        """Add a batch of transitions (one per env)."""
        n = len(obs)
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx] = obs
        self.acts[idx] = act
        self.rews[idx] = rew
        self.next_obs[idx] = next_obs
        self.terminated[idx] = terminated
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """A uniform minibatch as tensors ``(obs, act, rew, next_obs, terminated)``."""
        idx = self.rng.integers(self.size, size=batch_size)
        return (
            torch.from_numpy(self.obs[idx]),
            torch.from_numpy(self.acts[idx]),
            torch.from_numpy(self.rews[idx]),
            torch.from_numpy(self.next_obs[idx]),
            torch.from_numpy(self.terminated[idx]),
        )

    def state_dict(self) -> dict:
        """The stored transitions (as tensors, for a weights-only checkpoint) and the sampling RNG."""
        n = self.size
        return {
            "obs": torch.from_numpy(self.obs[:n].copy()), "acts": torch.from_numpy(self.acts[:n].copy()),
            "rews": torch.from_numpy(self.rews[:n].copy()), "next_obs": torch.from_numpy(self.next_obs[:n].copy()),
            "terminated": torch.from_numpy(self.terminated[:n].copy()),
            "pos": self.pos, "size": self.size, "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict) -> None:
        n = int(state["size"])
        if n > self.capacity:
            raise ValueError(f"the saved buffer holds {n} transitions, more than this buffer's capacity {self.capacity}")
        for name in ("obs", "acts", "rews", "next_obs", "terminated"):
            getattr(self, name)[:n] = state[name].numpy()
        self.pos, self.size = int(state["pos"]), n
        self.rng.bit_generator.state = state["rng"]

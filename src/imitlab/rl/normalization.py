"""Running statistics for RL on an env's own reward: observation normalisation and reward
scaling, as SB3's VecNormalize does them (Engstrom et al. 2020, arXiv:2005.12729, measured how
much PPO's results hang on these two).

Both are plain state (arrays and floats) so a checkpoint can store and restore them exactly.
"""

from __future__ import annotations

import numpy as np


class RunningMeanStd:
    """Mean and variance of a stream of batches (Chan et al.'s parallel update), per feature."""

    def __init__(self, shape: tuple[int, ...] = (), *, epsilon: float = 1e-4) -> None:
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = epsilon  # a tiny prior count keeps the first update well defined

    def update(self, x: np.ndarray) -> None:
        """Fold in a batch ``x`` of shape [B, *shape]."""
        x = np.asarray(x, np.float64)
        b_mean, b_var, b_count = x.mean(axis=0), x.var(axis=0), x.shape[0]
        delta = b_mean - self.mean
        total = self.count + b_count
        self.mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        self.var = m2 / total
        self.count = total

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.var + 1e-8)

    def state_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "var": self.var.tolist(), "count": float(self.count)}

    def load_state_dict(self, state: dict) -> None:
        self.mean = np.asarray(state["mean"], np.float64)
        self.var = np.asarray(state["var"], np.float64)
        self.count = float(state["count"])


class ReturnScaler:
    """Divides rewards by the running std of each env's discounted return, then clips them.

    The scale keeps the reward's sign and its shape within an episode; it only brings the size of
    the value targets near 1 whatever the env's reward units (BipedalWalker's -100 for a fall,
    next to rewards of ~0.1 per step, would otherwise dominate the value loss).
    """

    def __init__(self, num_envs: int, *, gamma: float, clip: float = 10.0) -> None:
        self.gamma = gamma
        self.clip = clip
        self.returns = np.zeros(num_envs, np.float64)
        self.rms = RunningMeanStd()

    def __call__(self, rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
        """Scale a rollout's ``rewards`` [T, N] (``dones`` [T, N] marks episode ends)."""
        seen = np.empty(rewards.shape, np.float64)
        for t in range(len(rewards)):
            self.returns = self.returns * self.gamma + rewards[t]
            seen[t] = self.returns
            self.returns[dones[t]] = 0.0
        self.rms.update(seen.reshape(-1))  # one batched update equals T per-step ones (Chan et al.)
        return np.clip(rewards / self.rms.std, -self.clip, self.clip).astype(np.float32)

    def state_dict(self) -> dict:
        return {"returns": self.returns.tolist(), "rms": self.rms.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.returns = np.asarray(state["returns"], np.float64)
        self.rms.load_state_dict(state["rms"])

"""A state-value function fitted by regression, for generators that train it apart from the policy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from imitlab.nets import mlp
from imitlab.policies import Policy


class ValueFunction:
    """V(s) on the policy's normalised observations, fitted to return targets with Adam."""

    def __init__(
        self, policy: Policy, *, hidden: Sequence[int], lr: float, epochs: int, minibatch_size: int, seed: int
    ) -> None:
        self.policy = policy
        self.net = mlp(policy.obs_dim, 1, hidden, out_gain=1.0)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.epochs = epochs
        self.minibatch_size = minibatch_size
        self.rng = np.random.default_rng(seed)

    def state_dict(self) -> dict:
        """The network, its optimizer and the minibatch RNG (the policy is saved by its owner)."""
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(), "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.rng.bit_generator.state = state["rng"]

    def predict(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(self.policy.normalize(obs)).squeeze(-1)

    @torch.no_grad()
    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Values of a [T, N, ...] (or flat) numpy batch of observations, same leading shape."""
        flat = torch.from_numpy(obs.reshape(-1, *obs.shape[-1:]))
        return self.predict(flat).numpy().reshape(obs.shape[:-1])

    def fit(self, obs: np.ndarray, targets: np.ndarray) -> float:
        """Regress V on ``targets``; returns the last minibatch's loss."""
        x = torch.from_numpy(obs.reshape(-1, *obs.shape[-1:]))
        y = torch.from_numpy(targets.reshape(-1).astype(np.float32))
        loss = torch.zeros(())
        for _ in range(self.epochs):
            perm = torch.from_numpy(self.rng.permutation(len(y)))
            for start in range(0, len(y), self.minibatch_size):
                idx = perm[start : start + self.minibatch_size]
                loss = 0.5 * (self.predict(x[idx]) - y[idx]).square().mean()
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
        return float(loss.detach())

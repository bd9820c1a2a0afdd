"""The adversarial-imitation discriminator on (state, action) pairs.

It outputs a logit; D = sigmoid(logit) is the probability that the pair is the expert's.
Observations are normalised with the expert data's statistics (fixed), discrete actions are
one-hot, continuous ones are mapped to [-1, 1] by the env's bounds, so its inputs are on one scale
(a dimension without two finite bounds passes through unchanged: there is no scale to map it by).
With ``absorbing=True`` the input carries one more feature, set (with everything else zeroed) for
the absorbing state that follows a true termination (Kostrikov et al. 2019, DAC).
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from imitlab.envs.spaces import obs_dim
from imitlab.nets import mlp


class Discriminator(nn.Module):
    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        *,
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
        hidden: Sequence[int] = (64, 64),
        absorbing: bool = False,
    ) -> None:
        super().__init__()
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.absorbing = absorbing
        d_obs = obs_dim(observation_space)
        if self.discrete:
            self.n = int(action_space.n)
            act_dim = self.n
        else:
            act_dim = int(np.prod(action_space.shape))
            low, high = action_space.low.reshape(-1), action_space.high.reshape(-1)
            finite = np.isfinite(low) & np.isfinite(high)
            one = np.ones((), low.dtype)  # keeps the bounds' dtype, so finite bounds give the numbers they gave
            low, high = np.where(finite, low, -one), np.where(finite, high, one)  # unbounded: scale 1, bias 0
            self.register_buffer("act_scale", torch.as_tensor((high - low) / 2, dtype=torch.float32))
            self.register_buffer("act_bias", torch.as_tensor((high + low) / 2, dtype=torch.float32))
            # Bounded dimensions are clamped to [-1, 1], as the env clips what it executes; unbounded
            # ones are not clamped at all. Not persistent: derived from the space, and checkpoints
            # written before it existed still load.
            limit = torch.as_tensor(np.where(finite, 1.0, np.inf), dtype=torch.float32)
            self.register_buffer("act_limit", limit, persistent=False)
        mean = np.zeros(d_obs) if obs_mean is None else obs_mean
        std = np.ones(d_obs) if obs_std is None else obs_std
        self.register_buffer("obs_mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("obs_std", torch.as_tensor(std, dtype=torch.float32))
        self.input_dim = d_obs + act_dim + int(absorbing)
        self.net = mlp(self.input_dim, 1, hidden, activation="tanh")

    def encode(self, obs: torch.Tensor, acts: torch.Tensor, absorbing: torch.Tensor | None = None) -> torch.Tensor:
        """The network's input for a batch of pairs (``absorbing``: bool flags, or None for none)."""
        x = (obs.reshape(obs.shape[0], -1) - self.obs_mean) / self.obs_std
        if self.discrete:
            a = F.one_hot(acts.long().reshape(-1), self.n).float()
        else:
            a = (acts.reshape(acts.shape[0], -1) - self.act_bias) / self.act_scale
            a = a.clamp(-self.act_limit, self.act_limit)
        x = torch.cat([x, a], -1)
        if self.absorbing:
            flag = torch.zeros(len(x), 1) if absorbing is None else absorbing.float().reshape(-1, 1)
            x = torch.cat([x * (1 - flag), flag], -1)
        return x

    def absorbing_input(self, n: int) -> torch.Tensor:
        """``n`` copies of the absorbing state's input (all zeros but the flag)."""
        x = torch.zeros(n, self.input_dim)
        x[:, -1] = 1.0
        return x

    def forward(self, obs: torch.Tensor, acts: torch.Tensor, absorbing: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.encode(obs, acts, absorbing)).squeeze(-1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of already-encoded inputs."""
        return self.net(x).squeeze(-1)

"""The adversarial-imitation discriminator on (state, action) pairs.

It outputs a logit; D = sigmoid(logit) is the probability that the pair is the expert's.
Observations are normalised with the expert data's statistics (fixed), discrete actions are
one-hot, continuous ones are mapped to [-1, 1] by the env's bounds, so its inputs are on one scale.
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
        obs_mean: np.ndarray,
        obs_std: np.ndarray,
        hidden: Sequence[int] = (64, 64),
    ) -> None:
        super().__init__()
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        if self.discrete:
            self.n = int(action_space.n)
            act_dim = self.n
        else:
            act_dim = int(np.prod(action_space.shape))
            low, high = action_space.low.reshape(-1), action_space.high.reshape(-1)
            finite = np.isfinite(low) & np.isfinite(high)
            self.register_buffer("act_scale", torch.as_tensor(np.where(finite, (high - low) / 2, 1.0), dtype=torch.float32))
            self.register_buffer("act_bias", torch.as_tensor(np.where(finite, (high + low) / 2, 0.0), dtype=torch.float32))
        self.register_buffer("obs_mean", torch.as_tensor(obs_mean, dtype=torch.float32))
        self.register_buffer("obs_std", torch.as_tensor(obs_std, dtype=torch.float32))
        self.net = mlp(obs_dim(observation_space) + act_dim, 1, hidden, activation="tanh")

    def forward(self, obs: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
        x = (obs.reshape(obs.shape[0], -1) - self.obs_mean) / self.obs_std
        if self.discrete:
            a = F.one_hot(acts.long().reshape(-1), self.n).float()
        else:
            a = ((acts.reshape(acts.shape[0], -1) - self.act_bias) / self.act_scale).clamp(-1, 1)
        return self.net(torch.cat([x, a], -1)).squeeze(-1)

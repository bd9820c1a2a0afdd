"""Action-value critics Q(s, a) for continuous actions, saved beside the policy they belong to.

A DQN's critic is its policy (:class:`imitlab.policies.QPolicy`); a SAC's is a :class:`TwinQ`
stored in the ``critic`` section of its policy file (see :func:`imitlab.policies.save_policy`),
so one ``.pt`` holds an expert together with its Q*.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from imitlab.envs.spaces import obs_dim, observation_box, space_from_description
from imitlab.errors import UserError
from imitlab.nets import mlp, network_config


def space_obs_stats(space: gym.Space) -> tuple[np.ndarray, np.ndarray]:
    """Normalisation statistics from a Box's bounds: centre and half-width where both are finite,
    identity elsewhere (an RL learner has no expert data to take statistics from)."""
    box = observation_box(space)
    low = np.asarray(box.low, dtype=np.float64).reshape(-1)
    high = np.asarray(box.high, dtype=np.float64).reshape(-1)
    finite = np.isfinite(low) & np.isfinite(high)
    low, high = np.where(finite, low, 0.0), np.where(finite, high, 0.0)  # inf - inf would warn, then be masked anyway
    mean = np.where(finite, (high + low) / 2, 0.0)
    std = np.where(finite, np.maximum((high - low) / 2, 1e-6), 1.0)
    return mean, std


class TwinQ(nn.Module):
    """Two Q-networks on (normalised observation, unit-space action) (Fujimoto et al. 2018).

    Actions are given in env units and mapped to [-1, 1] with the bounds of the action space,
    as :class:`~imitlab.policies.GaussianPolicy` does, so one learning rate fits any action range.
    ``q`` is the minimum of the two, the conservative estimate SAC and TD3 act on.
    """

    # buffers, registered in __init__ (declared here so that they read as tensors, not modules)
    obs_mean: torch.Tensor
    obs_std: torch.Tensor
    act_scale: torch.Tensor
    act_bias: torch.Tensor

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        if not isinstance(action_space, gym.spaces.Box):
            raise UserError(f"TwinQ needs a Box action space, got {action_space}")
        self.observation_space = observation_space
        self.action_space = action_space
        self.hidden = list(hidden)
        self.obs_dim = obs_dim(observation_space)
        self.act_dim = int(np.prod(action_space.shape))
        self.register_buffer("obs_mean", torch.zeros(self.obs_dim))
        self.register_buffer("obs_std", torch.ones(self.obs_dim))
        low = np.asarray(action_space.low, np.float32).reshape(-1)
        high = np.asarray(action_space.high, np.float32).reshape(-1)
        self.register_buffer("act_scale", torch.as_tensor((high - low) / 2))
        self.register_buffer("act_bias", torch.as_tensor((high + low) / 2))
        self.q1 = mlp(self.obs_dim + self.act_dim, 1, hidden, activation="relu")
        self.q2 = mlp(self.obs_dim + self.act_dim, 1, hidden, activation="relu")

    def set_obs_normalization(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.obs_mean.copy_(torch.as_tensor(mean, dtype=torch.float32).reshape(-1))
        self.obs_std.copy_(torch.as_tensor(np.maximum(std, 1e-6), dtype=torch.float32).reshape(-1))

    def both(self, obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Q1(s, a) and Q2(s, a), each [B]; ``act`` in env units."""
        x = torch.cat(
            ((obs.reshape(len(obs), -1) - self.obs_mean) / self.obs_std,
             (act.reshape(len(act), -1) - self.act_bias) / self.act_scale),
            dim=-1,
        )
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)

    def q(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """min(Q1, Q2) at (s, a)."""
        return torch.minimum(*self.both(obs, act))

    forward = q

    def config(self) -> dict[str, Any]:
        return network_config(self)


class TwinQDiscrete(nn.Module):
    """Two Q-networks on a normalised observation, each with a head per discrete action: Q(s, .) in
    one pass (what AggreVaTeD's exact discrete loss reads, as a DQN's Q-network gives it). ``q`` and
    ``q_values`` are the minimum of the two. Made by fitted Q evaluation of an expert
    (:mod:`imitlab.experts.fitted_q`)."""

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int] = (64, 64)) -> None:
        super().__init__()
        if not isinstance(action_space, gym.spaces.Discrete):
            raise UserError(f"TwinQDiscrete needs a Discrete action space, got {action_space}")
        self.observation_space = observation_space
        self.action_space = action_space
        self.hidden = list(hidden)
        self.obs_dim = obs_dim(observation_space)
        self.n = int(action_space.n)
        self.register_buffer("obs_mean", torch.zeros(self.obs_dim))
        self.register_buffer("obs_std", torch.ones(self.obs_dim))
        self.q1 = mlp(self.obs_dim, self.n, hidden, activation="relu")
        self.q2 = mlp(self.obs_dim, self.n, hidden, activation="relu")

    def set_obs_normalization(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.obs_mean.copy_(torch.as_tensor(mean, dtype=torch.float32).reshape(-1))
        self.obs_std.copy_(torch.as_tensor(np.maximum(std, 1e-6), dtype=torch.float32).reshape(-1))

    def both_values(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Q1(s, .) and Q2(s, .), each [B, n]."""
        x = (obs.reshape(len(obs), -1) - self.obs_mean) / self.obs_std
        return self.q1(x), self.q2(x)

    def both(self, obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Q1(s, a) and Q2(s, a), each [B]."""
        idx = act.long().reshape(-1, 1)
        q1, q2 = self.both_values(obs)
        return q1.gather(1, idx).squeeze(1), q2.gather(1, idx).squeeze(1)

    def q_values(self, obs: torch.Tensor) -> torch.Tensor:
        """min(Q1, Q2)(s, .) [B, n]."""
        return torch.minimum(*self.both_values(obs))

    def q(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """min(Q1, Q2) at (s, a) [B]."""
        return torch.minimum(*self.both(obs, act))

    forward = q

    def config(self) -> dict[str, Any]:
        return network_config(self)


CRITIC_KINDS: dict[str, type[TwinQ] | type[TwinQDiscrete]] = {"TwinQ": TwinQ, "TwinQDiscrete": TwinQDiscrete}


def critic_from_payload(payload: dict[str, Any], where: str) -> TwinQ | TwinQDiscrete:
    """Rebuild a critic from the ``critic`` section of a policy file."""
    try:
        kind = CRITIC_KINDS[payload["kind"]]
        critic = kind(space_from_description(payload["obs_space"]), space_from_description(payload["act_space"]), payload["hidden"])
        critic.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise UserError(f"{where} has an unreadable critic section ({type(e).__name__}: {e})") from None
    return critic.eval()

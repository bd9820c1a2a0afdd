"""A neural reward g(s) or g(s, a) (kind ``"mlp"``): AIRL's reward approximator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from imitlab.discriminator import encode_obs, encode_pair, register_pair_encoding
from imitlab.nets import mlp


class RewardNet(nn.Module):
    """g(s) (``state_only``) or g(s, a): an MLP on observations normalised with the expert data's
    statistics, and actions one-hot (discrete) or scaled to [-1, 1] (continuous), as GAIL's
    discriminator reads them. With ``absorbing`` its input carries one more feature, set (with
    everything else zeroed) for the absorbing state after a true termination.

    A state-only reward is what AIRL can disentangle from the dynamics (Fu et al. 2018, section 5):
    the one to re-optimise under changed dynamics.
    """

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        *,
        hidden: Sequence[int] = (64, 64),
        state_only: bool = True,
        absorbing: bool = False,
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.hidden = [int(h) for h in hidden]
        self.state_only = bool(state_only)
        self.absorbing = bool(absorbing)
        d_obs, act_dim = register_pair_encoding(self, observation_space, action_space, obs_mean, obs_std)
        self.input_dim = d_obs + (0 if self.state_only else act_dim) + int(self.absorbing)
        self.net = mlp(self.input_dim, 1, self.hidden, activation="tanh")

    @staticmethod
    def check_config(config: dict[str, Any]) -> str | None:
        """What is wrong with a file's config for this kind, or None."""
        if set(config) != {"hidden", "state_only", "absorbing"}:
            return f"has keys {sorted(config)}, not hidden, state_only and absorbing"
        hidden = config["hidden"]
        if (not isinstance(hidden, list) or len(hidden) > 64
                or not all(isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= 65536 for h in hidden)):
            return f"has hidden={hidden!r}, not a list of layer sizes"
        if not all(isinstance(config[k], bool) for k in ("state_only", "absorbing")):
            return "has state_only or absorbing that is not true or false"
        return None

    def config(self) -> dict[str, Any]:
        return {"hidden": list(self.hidden), "state_only": self.state_only, "absorbing": self.absorbing}

    def encode(self, obs: torch.Tensor, acts: torch.Tensor | None, absorbing: torch.Tensor | None = None) -> torch.Tensor:
        """Input rows for ``obs`` (and ``acts`` unless state-only), with the absorbing flags where it has them."""
        x = encode_obs(self, obs) if self.state_only or acts is None else encode_pair(self, obs, acts)
        if self.absorbing:
            flag = torch.zeros(len(x), 1) if absorbing is None else absorbing.float().reshape(-1, 1)
            x = torch.cat([x * (1 - flag), flag], -1)
        return x

    def absorbing_input(self, n: int) -> torch.Tensor:
        """``n`` input rows of the absorbing state (all zeros but the flag)."""
        x = torch.zeros(n, self.input_dim)
        x[:, -1] = 1.0
        return x

    def rows(self, x: torch.Tensor) -> torch.Tensor:
        """Rewards [B] of already-encoded input rows."""
        return self.net(x).squeeze(-1)

    def forward(self, obs: torch.Tensor, acts: torch.Tensor, absorbing: torch.Tensor | None = None) -> torch.Tensor:
        """Rewards [B] of observations and actions (actions unread when state-only)."""
        return self.rows(self.encode(obs, acts, absorbing))

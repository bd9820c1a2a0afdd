"""A linear state reward r(s) = w . phi(s) (kind ``"linear"``): apprenticeship learning's reward.

The built-in features phi(s) (:class:`LinearReward`) are the observation normalised with the
expert data's mean and std, then random Fourier features of it (Rahimi & Recht 2007, "Random
Features for Large-Scale Kernel Machines": ``sqrt(2 / D) cos(W z + b)``, W ~ N(0, 1 / bandwidth^2),
b ~ U[0, 2 pi], which approximate a Gaussian kernel of the given bandwidth, so matching their
expectations approximately matches the whole discounted state distribution, not just its mean).
W and b are drawn from ``seed`` and stored as buffers, so ``reward.pt`` carries them.

With ``squash`` (the default) the normalised state is passed through tanh and each block is
scaled so that ``||phi(s)|| <= 1`` for every state: then ``||w|| <= 1`` bounds ``|r(s)| <= 1``, as
Abbeel & Ng's analysis assumes of bounded features.

With ``absorbing`` the features have one more entry, 0 in every real state and 1 (with every other
entry 0) in the absorbing state that follows a true termination. A return that stops at a
termination then counts ``gamma^T / (1 - gamma)`` of the absorbing feature, so that discounted
feature expectations are well defined for episodes of any length and the reward of ending an
episode (a goal reached, a pole dropped) is learned, not fixed at 0. ``w``'s last entry is that
absorbing state's reward (``reward.pt``'s ``absorbing_reward``).

A feature function of the user's own (``train_apprenticeship(..., features=fn)``) makes a
:class:`CustomLinearReward`: the same reward, but its features are Python code, which a weights-only
``reward.pt`` cannot hold. It is therefore not a reward kind and is never saved as one; the run
records its weights in ``summary.json`` instead (the apprenticeship module says so).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from imitlab.envs.spaces import obs_dim
from imitlab.errors import UserError

MAX_FOURIER = 16_384
"""The most random Fourier features a reward file may declare (a bound on what a file may allocate)."""

FeatureFn = Callable[[np.ndarray], Any]
"""A user's feature function: observations [B, d] float32 (as the env gives them) -> features [B, k]."""


class _Linear(nn.Module):
    """w . phi(s): what both feature sources share (the weights, the absorbing state, forward)."""

    state_only = True
    weight: torch.Tensor

    def __init__(self, n_state_features: int, absorbing: bool) -> None:
        super().__init__()
        self.absorbing = bool(absorbing)
        self.n_state_features = int(n_state_features)
        self.feature_dim = self.n_state_features + int(self.absorbing)
        self.register_buffer("weight", torch.zeros(self.feature_dim))

    def state_features(self, obs: torch.Tensor) -> torch.Tensor:
        """phi(s) [B, n_state_features] of real (non-absorbing) states."""
        raise NotImplementedError

    def features(self, obs: torch.Tensor, absorbing: torch.Tensor | None = None) -> torch.Tensor:
        """phi(s) [B, feature_dim] float32; rows flagged in ``absorbing`` [B] are the absorbing state's."""
        phi = self.state_features(obs)
        if not self.absorbing:
            return phi
        flag = torch.zeros(len(phi), 1) if absorbing is None else absorbing.float().reshape(-1, 1)
        return torch.cat([phi * (1 - flag), flag], -1)

    def absorbing_features(self, n: int) -> torch.Tensor:
        """``n`` rows of the absorbing state's features (all zeros but the last entry)."""
        if not self.absorbing:
            raise ValueError("this reward has no absorbing state")
        phi = torch.zeros(n, self.feature_dim)
        phi[:, -1] = 1.0
        return phi

    def set_weight(self, w: np.ndarray | torch.Tensor) -> None:
        """Set w (shape [feature_dim])."""
        w_t = torch.as_tensor(np.asarray(w, dtype=np.float32))
        if w_t.shape != self.weight.shape:
            raise ValueError(f"w has shape {tuple(w_t.shape)}, the features {tuple(self.weight.shape)}")
        self.weight.copy_(w_t)

    @property
    def absorbing_reward(self) -> float | None:
        """The absorbing state's reward, w's last entry (None without an absorbing state)."""
        return float(self.weight[-1]) if self.absorbing else None

    def forward(self, obs: torch.Tensor, acts: torch.Tensor | None = None, absorbing: torch.Tensor | None = None) -> torch.Tensor:
        """Rewards [B] of observations (actions are not read: the reward is state-only)."""
        return self.features(obs, absorbing) @ self.weight


class LinearReward(_Linear):
    """r(s) = w . phi(s) over the built-in features: normalised state (``include_state``) and
    ``n_fourier`` random Fourier features of it, optionally squashed to ``||phi|| <= 1``, and the
    absorbing-state feature (``absorbing``). ``w`` is a buffer set by the learner (not a gradient
    parameter: apprenticeship learning's w comes from a projection, not a loss)."""

    obs_mean: torch.Tensor
    obs_std: torch.Tensor
    rff_w: torch.Tensor
    rff_b: torch.Tensor

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space | None = None,
        *,
        n_fourier: int = 64,
        bandwidth: float = 1.0,
        include_state: bool = True,
        squash: bool = True,
        absorbing: bool = True,
        seed: int = 0,
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
    ) -> None:
        """Args:
            observation_space: the Box the reward observes.
            action_space: unused (the reward is state-only); accepted as every reward kind is built.
            n_fourier: random Fourier features D (0: none).
            bandwidth: the Gaussian kernel's bandwidth, in units of the expert's per-dimension std.
            include_state: the normalised state itself is a block of features.
            squash: tanh the normalised state and scale the blocks so that ``||phi(s)|| <= 1``.
            absorbing: one more feature for the absorbing state after a true termination.
            seed: draws W and b.
            obs_mean, obs_std: the statistics observations are normalised with (the expert's).
        """
        d = obs_dim(observation_space)
        problem = self.check_config({"n_fourier": n_fourier, "bandwidth": bandwidth, "include_state": include_state,
                                     "squash": squash, "absorbing": absorbing, "seed": seed})
        if problem:
            raise UserError(f"a linear reward {problem}")
        super().__init__(d * bool(include_state) + int(n_fourier), absorbing)
        self.obs_size = d
        self.n_fourier = int(n_fourier)
        self.bandwidth = float(bandwidth)
        self.include_state = bool(include_state)
        self.squash = bool(squash)
        self.seed = int(seed)
        rng = np.random.default_rng(self.seed)
        self.register_buffer("obs_mean", torch.as_tensor(np.zeros(d) if obs_mean is None else obs_mean, dtype=torch.float32).reshape(d))
        std = np.ones(d) if obs_std is None else np.maximum(np.asarray(obs_std, np.float64), 1e-6)
        self.register_buffer("obs_std", torch.as_tensor(std, dtype=torch.float32).reshape(d))
        self.register_buffer("rff_w", torch.as_tensor(rng.normal(0.0, 1.0 / self.bandwidth, (self.n_fourier, d)), dtype=torch.float32))
        self.register_buffer("rff_b", torch.as_tensor(rng.uniform(0.0, 2 * math.pi, self.n_fourier), dtype=torch.float32))

    @staticmethod
    def check_config(config: dict[str, Any]) -> str | None:
        """What is wrong with a file's config for this kind, or None."""
        keys = {"n_fourier", "bandwidth", "include_state", "squash", "absorbing", "seed"}
        if set(config) != keys:
            return f"has keys {sorted(config)}, not {', '.join(sorted(keys))}"
        n = config["n_fourier"]
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_FOURIER:
            return f"has n_fourier={n!r}, not a whole number in 0..{MAX_FOURIER}"
        bw = config["bandwidth"]
        if not isinstance(bw, float | int) or isinstance(bw, bool) or not math.isfinite(bw) or bw <= 0:
            return f"has bandwidth={bw!r}, not a positive number"
        if not all(isinstance(config[k], bool) for k in ("include_state", "squash", "absorbing")):
            return "has include_state, squash or absorbing that is not true or false"
        seed = config["seed"]
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            return f"has seed={seed!r}, not a whole number >= 0"
        if not config["include_state"] and n == 0:
            return "has no features (include_state false and n_fourier 0)"
        return None

    def config(self) -> dict[str, Any]:
        return {"n_fourier": self.n_fourier, "bandwidth": self.bandwidth, "include_state": self.include_state,
                "squash": self.squash, "absorbing": self.absorbing, "seed": self.seed}

    def state_features(self, obs: torch.Tensor) -> torch.Tensor:
        z = (obs.reshape(obs.shape[0], -1).float() - self.obs_mean) / self.obs_std
        blocks = []
        if self.include_state:
            blocks.append(torch.tanh(z) / math.sqrt(self.obs_size) if self.squash else z)
        if self.n_fourier:
            # squashed: cos / sqrt(D) has norm <= 1 (Rahimi & Recht's sqrt(2 / D) has mean norm 1)
            scale = math.sqrt((1.0 if self.squash else 2.0) / self.n_fourier)
            blocks.append(scale * torch.cos(z @ self.rff_w.T + self.rff_b))
        phi = torch.cat(blocks, -1)
        # squashed: each block's norm is <= 1, so dividing by sqrt(blocks) gives ||phi|| <= 1
        return phi / math.sqrt(len(blocks)) if self.squash else phi


class CustomLinearReward(_Linear):
    """r(s) = w . phi(s) over a user's feature function (plus the absorbing-state feature).

    Not a reward kind: its features are code, so it cannot be written to a weights-only
    ``reward.pt`` (``save_reward`` refuses it with a TypeError). Its weights are plain numbers,
    which the apprenticeship run records in ``summary.json``.
    """

    def __init__(self, fn: FeatureFn, example_obs: np.ndarray, *, absorbing: bool = True) -> None:
        """``fn`` is called on ``example_obs`` [B, d] once, to check it and learn its width."""
        if not callable(fn):
            raise UserError(f"features must be a function of observations [B, d] -> features [B, k], not {type(fn).__name__}")
        self.fn = fn
        example = np.asarray(example_obs, np.float32)
        super().__init__(self._call(example).shape[1], absorbing)

    def _call(self, obs: np.ndarray) -> torch.Tensor:
        out = self.fn(obs)
        phi = out.detach().float() if isinstance(out, torch.Tensor) else torch.as_tensor(np.asarray(out, dtype=np.float32))
        if phi.ndim != 2 or phi.shape[0] != len(obs) or phi.shape[1] < 1:
            raise UserError(f"the feature function returned shape {tuple(phi.shape)} for {len(obs)} observations; "
                            "it must return one row of features per observation, [B, k]")
        if not bool(torch.isfinite(phi).all()):
            raise UserError("the feature function returned nan or inf; return finite features")
        return phi

    def state_features(self, obs: torch.Tensor) -> torch.Tensor:
        phi = self._call(obs.detach().reshape(obs.shape[0], -1).cpu().numpy().astype(np.float32))
        if phi.shape[1] != self.n_state_features:
            raise UserError(f"the feature function returned {phi.shape[1]} features, earlier {self.n_state_features}; "
                            "it must return the same number of features for every observation")
        return phi


__all__ = ["CustomLinearReward", "FeatureFn", "LinearReward", "MAX_FOURIER"]

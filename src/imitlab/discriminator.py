"""Adversarial-imitation discriminators: what they read (:class:`DiscriminatorBatch`), the
interface the adversarial core trains (:class:`AdversarialDiscriminator`), and GAIL's
discriminator on (state, action) pairs (:class:`Discriminator`).

A discriminator outputs a logit; D = sigmoid(logit) is the probability that the pair is the expert's.
GAIL's reads (s, a). Observations are normalised with the expert data's statistics (fixed), discrete actions are
one-hot, continuous ones are mapped to [-1, 1] by the env's bounds, so its inputs are on one scale
(a dimension without two finite bounds passes through unchanged: there is no scale to map it by).
With ``absorbing=True`` the input carries one more feature, set (with everything else zeroed) for
the absorbing state that follows a true termination (Kostrikov et al. 2019, DAC).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from imitlab.envs.spaces import obs_dim
from imitlab.errors import UserError
from imitlab.nets import mlp


@dataclass(frozen=True)
class DiscriminatorBatch:
    """A batch of transitions as a discriminator may read them: tensors with a first dimension B.

    Each discriminator reads the fields it needs: GAIL's (s, a) only; AIRL's
    f(s, a, s') - log pi(a|s), with f = g(s[, a]) + gamma h(s') - h(s), also ``next_obs``,
    ``terminated`` (h(s') = 0 after a true termination) and ``logp``.
    """

    obs: torch.Tensor
    """Observations s, [B, *obs_shape] float32."""
    acts: torch.Tensor
    """Actions a, [B, *act_shape] (int64 for Discrete actions, float32 for Box ones)."""
    next_obs: torch.Tensor | None = None
    """Next observations s' (the true final observation where an episode ended), or None."""
    terminated: torch.Tensor | None = None
    """[B] flags, set where s' is a true terminal state (not a time-limit truncation), or None."""
    logp: torch.Tensor | None = None
    """[B] log pi(a|s) under the current policy (AIRL's discriminator subtracts it), or None."""
    absorbing: torch.Tensor | None = None
    """[B] bool flags for rows that stand for the absorbing state (DAC), or None for none."""

    def __len__(self) -> int:
        return len(self.obs)


@runtime_checkable
class AdversarialDiscriminator(Protocol):
    """What the adversarial core (``imitlab.algorithms.adversarial.common``) needs of a
    discriminator, an ``nn.Module``: the logits of a :class:`DiscriminatorBatch` are
    ``logits(inputs(batch))``.

    The two steps are apart because the core works on the inputs: a round encodes each batch
    once and draws minibatches of rows from it, the gradient penalty differentiates the logits
    at interpolates of expert and policy inputs, and the absorbing state is an input row with no
    transition behind it. ``inputs`` may read any field of the batch (AIRL's reads s' and
    log pi(a|s) and puts them in its rows for ``logits`` to combine).
    """

    absorbing: bool
    """Whether the inputs carry the absorbing-state flag (``absorbing_input`` is meaningful)."""

    def inputs(self, batch: DiscriminatorBatch) -> torch.Tensor:
        """The network's input rows [B, d] for ``batch``."""
        ...

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits [B] of input rows ``x`` [B, d]: positive where the pair looks like the expert's."""
        ...

    def absorbing_input(self, n: int) -> torch.Tensor:
        """``n`` input rows that stand for the absorbing state after a true termination."""
        ...

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]:
        """The trainable parameters (as ``nn.Module`` gives them)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """The weights and buffers to checkpoint (as ``nn.Module`` gives them)."""
        ...

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> Any:
        """Restore what :meth:`state_dict` gave (as ``nn.Module`` does)."""
        ...


class Discriminator(nn.Module):
    """GAIL's discriminator D(s, a) (an :class:`AdversarialDiscriminator`); see the module's docstring."""

    # Buffers, declared for the type checker (nn.Module's attribute lookup would type them as
    # Tensor | Module); the act_* ones exist for Box actions only.
    obs_mean: torch.Tensor
    obs_std: torch.Tensor
    act_scale: torch.Tensor
    act_bias: torch.Tensor
    act_limit: torch.Tensor

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
        self.absorbing = absorbing
        d_obs, act_dim = register_pair_encoding(self, observation_space, action_space, obs_mean, obs_std)
        self.input_dim = d_obs + act_dim + int(absorbing)
        self.net = mlp(self.input_dim, 1, hidden, activation="tanh")

    def encode(self, obs: torch.Tensor, acts: torch.Tensor, absorbing: torch.Tensor | None = None) -> torch.Tensor:
        """The network's input for a batch of pairs (``absorbing``: bool flags, or None for none)."""
        x = encode_pair(self, obs, acts)
        if self.absorbing:
            flag = torch.zeros(len(x), 1) if absorbing is None else absorbing.float().reshape(-1, 1)
            x = torch.cat([x * (1 - flag), flag], -1)
        return x

    def inputs(self, batch: DiscriminatorBatch) -> torch.Tensor:
        """The network's input rows for ``batch``'s (s, a) pairs (and absorbing flags); the rest is unread."""
        return self.encode(batch.obs, batch.acts, batch.absorbing)

    def absorbing_input(self, n: int) -> torch.Tensor:
        """``n`` copies of the absorbing state's input (all zeros but the flag)."""
        x = torch.zeros(n, self.input_dim)
        x[:, -1] = 1.0
        return x

    def forward(self, obs: torch.Tensor, acts: torch.Tensor, absorbing: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of (s, a) pairs (``absorbing``: bool flags, or None for none)."""
        return self.net(self.encode(obs, acts, absorbing)).squeeze(-1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of already-encoded inputs."""
        return self.net(x).squeeze(-1)


def register_pair_encoding(
    module: nn.Module, observation_space: gym.Space, action_space: gym.Space,
    obs_mean: np.ndarray | None = None, obs_std: np.ndarray | None = None,
) -> tuple[int, int]:
    """Give ``module`` the buffers that :func:`encode_pair` reads (observation mean and std; for
    Box actions their scale and bias from the env's bounds) and its ``discrete`` / ``n``
    attributes; returns the observation and the action encodings' widths. Discriminators and
    learned rewards read (s, a) the same way through these two functions."""
    mod: Any = module
    mod.discrete = isinstance(action_space, gym.spaces.Discrete)
    d_obs = obs_dim(observation_space)
    if isinstance(action_space, gym.spaces.Discrete):
        mod.n = int(action_space.n)
        act_dim = mod.n
    elif isinstance(action_space, gym.spaces.Box):
        act_dim = int(np.prod(action_space.shape))
        low, high = action_space.low.reshape(-1), action_space.high.reshape(-1)
        finite = np.isfinite(low) & np.isfinite(high)
        one = np.ones((), low.dtype)  # keeps the bounds' dtype, so finite bounds give the numbers they gave
        low, high = np.where(finite, low, -one), np.where(finite, high, one)  # unbounded: scale 1, bias 0
        module.register_buffer("act_scale", torch.as_tensor((high - low) / 2, dtype=torch.float32))
        module.register_buffer("act_bias", torch.as_tensor((high + low) / 2, dtype=torch.float32))
        # Bounded dimensions are clamped to [-1, 1], as the env clips what it executes; unbounded
        # ones are not clamped at all. Not persistent: derived from the space, and checkpoints
        # written before it existed still load.
        limit = torch.as_tensor(np.where(finite, 1.0, np.inf), dtype=torch.float32)
        module.register_buffer("act_limit", limit, persistent=False)
    else:
        raise UserError(f"unsupported action space {action_space}; imitlab handles Discrete and Box")
    mean = np.zeros(d_obs) if obs_mean is None else obs_mean
    std = np.ones(d_obs) if obs_std is None else obs_std
    module.register_buffer("obs_mean", torch.as_tensor(mean, dtype=torch.float32))
    module.register_buffer("obs_std", torch.as_tensor(std, dtype=torch.float32))
    return d_obs, act_dim


def encode_obs(module: Any, obs: torch.Tensor) -> torch.Tensor:
    """Observations [B, d_obs], flattened and normalised with ``module``'s statistics (a module that
    :func:`register_pair_encoding` gave its buffers)."""
    return (obs.reshape(obs.shape[0], -1) - module.obs_mean) / module.obs_std


def encode_action(module: Any, acts: torch.Tensor) -> torch.Tensor:
    """Actions [B, act_dim]: one-hot where discrete, else mapped to [-1, 1] by the env's bounds."""
    if module.discrete:
        return F.one_hot(acts.long().reshape(-1), module.n).float()
    a = (acts.reshape(acts.shape[0], -1) - module.act_bias) / module.act_scale
    return a.clamp(-module.act_limit, module.act_limit)


def encode_pair(module: Any, obs: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
    """Rows [B, d_obs + act_dim]: :func:`encode_obs` then :func:`encode_action`."""
    return torch.cat([encode_obs(module, obs), encode_action(module, acts)], -1)


class AIRLDiscriminator(nn.Module):
    """AIRL's discriminator (an :class:`AdversarialDiscriminator`; Fu et al. 2018): logit
    ``g(s[, a]) + gamma h(s') - h(s) - log pi(a|s)`` (``losses.airl_logit``).

    ``g`` is a :class:`~imitlab.rewards.nets.RewardNet`: the learned reward, saved as ``reward.pt``;
    ``h`` a shaping potential on states. An input row holds g's input, h's inputs at s and at s',
    whether s' has a future (0 after a true termination), and log pi(a|s). With ``absorbing``, a
    true termination leads to the absorbing state (its own h, and cont 1: it follows itself), and
    an absorbing row scores the absorbing state with log pi = 0 (no action is chosen there).
    """

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        *,
        gamma: float,
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
        hidden: Sequence[int] = (64, 64),
        state_only: bool = True,
        absorbing: bool = False,
    ) -> None:
        super().__init__()
        from imitlab.rewards.nets import RewardNet

        self.gamma = float(gamma)
        self.absorbing = absorbing
        self.g = RewardNet(observation_space, action_space, hidden=hidden, state_only=state_only, absorbing=absorbing,
                           obs_mean=obs_mean, obs_std=obs_std)
        # h reads states the way g does (g's statistics); its input is g's state-only encoding.
        self.h_dim = obs_dim(observation_space) + int(absorbing)
        self.h = mlp(self.h_dim, 1, hidden, activation="tanh")
        self.g_dim = self.g.input_dim
        self.input_dim = self.g_dim + 2 * self.h_dim + 2

    def _h_rows(self, obs: torch.Tensor, absorbing: torch.Tensor | None) -> torch.Tensor:
        x = encode_obs(self.g, obs)
        if self.absorbing:
            flag = torch.zeros(len(x), 1) if absorbing is None else absorbing.float().reshape(-1, 1)
            x = torch.cat([x * (1 - flag), flag], -1)
        return x

    def inputs(self, batch: DiscriminatorBatch) -> torch.Tensor:
        """Rows [g's input, h's at s, h's at s', cont, log pi(a|s)] for ``batch`` (which needs
        ``next_obs``, ``terminated`` and ``logp``)."""
        if batch.next_obs is None or batch.terminated is None or batch.logp is None:
            raise ValueError("AIRL's discriminator reads next_obs, terminated and logp of every transition")
        n = len(batch)
        term = batch.terminated.float().reshape(-1, 1)
        if self.absorbing:
            # After a true termination comes the absorbing state, which has a future (itself).
            next_rows = self._h_rows(batch.next_obs, batch.terminated.bool())
            cont = torch.ones(n, 1)
        else:
            next_rows = self._h_rows(batch.next_obs, None)
            cont = 1.0 - term
        x = torch.cat([self.g.encode(batch.obs, batch.acts, batch.absorbing), self._h_rows(batch.obs, batch.absorbing),
                       next_rows, cont, batch.logp.float().reshape(-1, 1)], -1)
        if batch.absorbing is not None:
            flag = batch.absorbing.bool()
            x[flag] = self.absorbing_input(int(flag.sum()))
        return x

    def absorbing_input(self, n: int) -> torch.Tensor:
        """``n`` rows of the absorbing state: g's and h's absorbing inputs, cont 1, log pi 0."""
        x = torch.zeros(n, self.input_dim)
        x[:, self.g_dim - 1] = 1.0
        x[:, self.g_dim + self.h_dim - 1] = 1.0
        x[:, self.g_dim + 2 * self.h_dim - 1] = 1.0
        x[:, -2] = 1.0
        return x

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of input rows (``losses.airl_logit``)."""
        from imitlab.losses import airl_logit

        xg, xh, xh_next, cont, logp = torch.split(x, [self.g_dim, self.h_dim, self.h_dim, 1, 1], -1)
        return airl_logit(self.g.rows(xg), self.h(xh).squeeze(-1), self.h(xh_next).squeeze(-1), logp.squeeze(-1),
                          self.gamma, cont.squeeze(-1))

    def absorbing_reward(self) -> float:
        """g at the absorbing state: the learned reward of each step spent there."""
        with torch.no_grad():
            return float(self.g.rows(self.g.absorbing_input(1)))

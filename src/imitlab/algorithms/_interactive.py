"""What DAgger and AggreVaTeD share: the mixture roll-in actor, the mixing schedules and the check
that an expert fits the env."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import gymnasium as gym
import numpy as np
import torch

from imitlab.errors import UserError
from imitlab.experts import Expert, as_expert
from imitlab.policies import Policy

Schedule = Literal["linear", "exponential", "constant"]
"""How the expert's share of the roll-in (DAgger's beta, AggreVaTeD's alpha) changes by round."""
SCHEDULES: tuple[str, ...] = get_args(Schedule)


def mixture_weight(schedule: str, round_idx: int, *, decay_rounds: int, p: float) -> float:
    """Probability that the expert acts in round ``round_idx`` (0-based).

    - ``linear``: 1 in round 0, falling by ``1 / decay_rounds`` a round to 0;
    - ``exponential``: ``p ** round_idx`` (Ross et al. 2011's beta_i = p^(i-1));
    - ``constant``: ``p`` every round.
    """
    if schedule == "linear":
        return max(0.0, 1.0 - round_idx / max(decay_rounds, 1))
    if schedule == "exponential":
        return float(p**round_idx)
    if schedule == "constant":
        return float(p)
    raise UserError(f"unknown mixing schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")


def check_schedule(schedule: str, p: float) -> None:
    if schedule not in SCHEDULES:
        raise UserError(f"unknown mixing schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}")
    if not 0.0 <= p <= 1.0:
        raise UserError(f"the mixing probability must be in [0, 1], got {p}")


def space_shape(space: gym.Space) -> tuple[int, ...]:
    """The shape of one element of ``space`` (``()`` for a Discrete one, or a space without one)."""
    return () if space.shape is None else space.shape


class MixtureActor:
    """Acts for the sampler: per env and step, the expert with probability ``p``, else the learner.

    Used as the ``policy`` of :class:`~imitlab.sampling.RolloutSampler` (it has ``sample``); the
    log-probabilities it returns are zeros, since no interactive learner uses them.
    """

    def __init__(self, learner: Policy, expert: Expert, *, rng: np.random.Generator, learner_deterministic: bool = False) -> None:
        self.learner = learner
        self.expert = expert
        self.rng = rng
        self.learner_deterministic = learner_deterministic
        self.p = 1.0

    def sample(self, obs: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        n = obs.shape[0]
        if self.learner_deterministic:
            act = self.learner.mode(obs)
        else:
            act = self.learner.sample(obs, generator)[0]
        use_expert = self.rng.random(n) < self.p
        if use_expert.any():
            expert_act = torch.as_tensor(np.asarray(self.expert.act(obs.numpy())).reshape(act.shape), dtype=act.dtype)
            act = torch.where(torch.from_numpy(use_expert).reshape(n, *([1] * (act.dim() - 1))), expert_act, act)
        return act, torch.zeros(n)


def checked_expert(expert: Expert | Callable[[np.ndarray], np.ndarray], obs: np.ndarray, act_space: gym.Space, env_id: str) -> Expert:
    """``expert`` as an :class:`Expert`, after checking its actions on ``obs`` fit ``act_space``."""
    expert = as_expert(expert)
    try:
        acts = np.asarray(expert.act(obs))
    except (RuntimeError, ValueError, IndexError, TypeError) as e:
        raise UserError(
            f"the expert cannot act on {env_id}'s observations (shape {obs.shape[1:]}): {e}; is it an expert for another env?"
        ) from None
    want = (len(obs), *space_shape(act_space))
    if isinstance(act_space, gym.spaces.Discrete):
        ok = acts.reshape(-1).shape == (len(obs),) and np.issubdtype(acts.dtype, np.integer) and ((acts >= 0) & (acts < act_space.n)).all()
    else:
        ok = acts.size == int(np.prod(want)) and np.issubdtype(acts.dtype, np.floating)
    if not ok:
        raise UserError(
            f"the expert's actions (shape {acts.shape}, dtype {acts.dtype}) do not fit {env_id}'s action space "
            f"{act_space}; is it an expert for another env?"
        )
    return expert

"""Evaluate a policy (or any batch callable) over whole episodes, with normalized scores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from imitlab.envs.vector import active_env_kwargs, make_vec_env
from imitlab.policies import Policy
from imitlab.sampling import ActFn, run_episodes
from imitlab.tasks import normalized_score

if TYPE_CHECKING:
    from imitlab.experts import Expert


@dataclass(frozen=True)
class EvalResult:
    mean_return: float
    std_return: float
    normalized_score: float | None
    episodes: int
    mean_length: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def random_actor(env_id: str, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """A uniform-random batch policy for ``env_id`` (the registry's ``random`` baseline)."""
    venv = make_vec_env(env_id, 1)
    space = venv.single_action_space
    venv.close()
    space.seed(seed)
    return lambda obs: np.stack([space.sample() for _ in range(len(obs))])


def evaluate(
    policy: Policy | Expert | Callable[[np.ndarray], np.ndarray],
    env_id: str,
    *,
    episodes: int = 50,
    seed: int = 0,
    deterministic: bool = True,
) -> EvalResult:
    """Mean and std of the return over ``episodes`` episodes, and the normalized score.

    A :class:`Policy` (or an expert holding one, like a DQN or SAC expert with its critic) acts by
    its mode when ``deterministic`` (the default), else by sampling; any other expert acts by its
    ``act`` and any other callable maps a batch of observations to a batch of actions.
    """
    inner = getattr(policy, "policy", None)
    if isinstance(inner, Policy):
        policy = inner
    act: ActFn
    if isinstance(policy, Policy):
        act = lambda obs: policy.act(obs, deterministic=deterministic)  # noqa: E731
    elif callable(method := getattr(policy, "act", None)):
        act = method
    else:
        # an Expert has a callable act, taken above: what is left is a plain batch callable
        act = cast(ActFn, policy)
    eps = run_episodes(act, env_id, episodes, seed=seed)
    mean = float(eps.returns.mean())
    return EvalResult(
        mean_return=mean,
        std_return=float(eps.returns.std()),
        # The task registry's random and expert returns are the registered env's: under other env
        # kwargs (changed dynamics) they mean nothing, so no score is given.
        normalized_score=None if active_env_kwargs(env_id) else normalized_score(env_id, mean),
        episodes=episodes,
        mean_length=float(eps.lengths.mean()),
    )

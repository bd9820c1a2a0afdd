"""Record demonstrations from an expert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from imitlab.data.demos import Demonstrations
from imitlab.envs.dict_obs import observation_layout
from imitlab.envs.spaces import describe_space
from imitlab.envs.vector import env_spaces
from imitlab.errors import positive
from imitlab.experts import Expert, as_expert
from imitlab.sampling import run_episodes


def collect_demos(
    expert: Expert | Callable[[np.ndarray], np.ndarray],
    env_id: str,
    *,
    episodes: int,
    seed: int = 0,
    metadata: dict[str, Any] | None = None,
) -> Demonstrations:
    """Run ``expert`` for ``episodes`` whole episodes of ``env_id`` and record them, rewards included.

    The expert's mean return is stored in the metadata, so a demo file says how good it is.
    Continuous actions are recorded as the env executed them (clipped to the action bounds), so
    that what is imitated is an action the env can take.
    """
    positive("episodes", episodes)
    expert = as_expert(expert)
    obs_space, act_space = env_spaces(env_id)
    eps = run_episodes(executed_actions(expert.act, act_space), env_id, episodes, seed=seed, record=True)
    assert eps.trajectories is not None  # record=True keeps them
    meta = {
        "seed": seed,
        "expert_mean_return": float(eps.returns.mean()),
        "expert_std_return": float(eps.returns.std()),
        **(metadata or {}),
    }
    return Demonstrations(eps.trajectories, env_id, describe_space(obs_space), describe_space(act_space), meta,
                          observation_layout(env_id))


def executed_actions(
    act: Callable[[np.ndarray], np.ndarray], act_space: gym.Space
) -> Callable[[np.ndarray], np.ndarray]:
    """``act`` with its continuous actions clipped to ``act_space``'s bounds and cast to its dtype.

    The vector envs clip a Box action before stepping; giving them the clipped action already makes
    what ``run_episodes`` records exactly what was executed (clipping again is the identity, and the
    dtype cast comes before, not after, the env sees it). Discrete actions pass unchanged.
    """
    if not isinstance(act_space, gym.spaces.Box):
        return act
    low, high, dtype = act_space.low, act_space.high, act_space.dtype

    def clipped(obs: np.ndarray) -> np.ndarray:
        a = np.asarray(act(obs))
        if a.shape[1:] != act_space.shape:
            return a  # a wrong shape is the env's to report, with its own clear error
        return np.clip(a, low, high).astype(dtype, copy=False)

    return clipped

"""Record demonstrations from an expert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from imitlab.algorithms._inputs import positive
from imitlab.data.demos import Demonstrations
from imitlab.envs.spaces import describe_space
from imitlab.envs.vector import env_spaces
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
    """
    positive("episodes", episodes)
    expert = as_expert(expert)
    obs_space, act_space = env_spaces(env_id)
    eps = run_episodes(expert.act, env_id, episodes, seed=seed, record=True)
    meta = {
        "seed": seed,
        "expert_mean_return": float(eps.returns.mean()),
        "expert_std_return": float(eps.returns.std()),
        **(metadata or {}),
    }
    return Demonstrations(eps.trajectories, env_id, describe_space(obs_space), describe_space(act_space), meta)

"""Environments: vector envs with same-step autoreset, numpy-batched classic control, spaces."""

# imitlab's own envs register with gymnasium here: GridWorld-v0 (a text-map gridworld with known
# dynamics) and imitlab/PointGoal-v0 (a small goal-conditioned env with Dict observations).
from imitlab.envs import dict_obs as _dict_obs  # noqa: F401
from imitlab.envs import gridworld as _gridworld  # noqa: F401
from imitlab.envs.spaces import describe_space, is_discrete, obs_dim, same_space
from imitlab.envs.vector import VecEnv, check_env_id, env_spaces, make_vec_env

__all__ = [
    "VecEnv",
    "check_env_id",
    "describe_space",
    "env_spaces",
    "is_discrete",
    "make_vec_env",
    "obs_dim",
    "same_space",
]

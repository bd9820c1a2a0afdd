"""Environments: vector envs with same-step autoreset, numpy-batched classic control, spaces."""

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

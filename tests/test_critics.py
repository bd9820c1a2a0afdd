"""The twin critic's observation statistics from a space's bounds."""

import warnings

import gymnasium as gym
import numpy as np

from imitlab.critics import space_obs_stats


def test_bounds_give_centre_and_half_width_where_finite_and_identity_elsewhere_without_warnings():
    space = gym.spaces.Box(low=np.array([-2.0, -np.inf, 0.0]), high=np.array([4.0, np.inf, np.inf]), dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # MuJoCo's unbounded observations used to warn "invalid value" here
        mean, std = space_obs_stats(space)
    np.testing.assert_array_equal(mean, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(std, [3.0, 1.0, 1.0])

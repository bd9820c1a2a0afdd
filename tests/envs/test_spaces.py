"""Comparing space descriptions: what really differs, and bounds that differ alone."""

import gymnasium as gym
import numpy as np
import pytest

from imitlab.envs.spaces import bounds_difference, describe_space, obs_dim, observation_box, same_space, space_differences
from imitlab.errors import UserError

_F32_MAX = float(np.finfo(np.float32).max)


def _box(high, dtype=np.float32):
    high = np.asarray(high, dtype=dtype)
    return describe_space(gym.spaces.Box(-high, high, dtype=dtype))


def test_space_differences_name_type_shape_dtype_n_and_start():
    assert space_differences(_box([1.0] * 4), _box([np.inf] * 4), name="observation") == []
    assert space_differences(_box([1.0] * 4), _box([1.0] * 6), name="observation") == ["observation shape (4,) vs (6,)"]
    assert space_differences(_box([1.0] * 4, np.float64), _box([1.0] * 4), name="observation") == [
        "observation dtype float64 vs float32"]
    two, three = describe_space(gym.spaces.Discrete(2)), describe_space(gym.spaces.Discrete(3))
    assert space_differences(two, three, name="action") == ["action n 2 vs 3"]
    assert space_differences(two, describe_space(gym.spaces.Discrete(2, start=1)), name="action") == ["action start 0 vs 1"]
    assert space_differences(two, _box([1.0]), name="action") == ["action type Discrete vs Box"]
    undated = {k: v for k, v in _box([1.0] * 4, np.float64).items() if k != "dtype"}  # older files record no dtype
    assert space_differences(undated, _box([1.0] * 4), name="observation") == []


def test_bounds_difference_names_the_entries_that_differ():
    old = _box([4.8, _F32_MAX, 0.42, _F32_MAX])  # CartPole-v1 under gymnasium 0.29
    new = _box([4.8, np.inf, 0.42, np.inf])  # and under 1.x
    assert not same_space(old, new)  # same_space keeps counting bounds, for its other callers
    assert bounds_difference(old, new, name="observation") == (
        "observation low[1] -3.4e+38 vs -inf, low[3] -3.4e+38 vs -inf and 2 more")
    assert bounds_difference(new, new, name="observation") is None
    assert bounds_difference(old, _box([1.0] * 6), name="observation") is None  # a shape change is no bounds change
    two = describe_space(gym.spaces.Discrete(2))
    assert bounds_difference(two, two, name="action") is None


def test_observation_box_passes_a_box_through_and_refuses_other_spaces():
    box = gym.spaces.Box(-1, 1, (2, 3), np.float32)
    assert observation_box(box) is box and obs_dim(box) == 6
    for space in (gym.spaces.Discrete(3), gym.spaces.Dict({"x": box})):
        with pytest.raises(UserError, match="is not a Box; wrap the env with FlattenObservation"):
            observation_box(space)

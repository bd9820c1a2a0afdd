"""The spaces GAIL's discriminator accepts."""

import gymnasium as gym
import numpy as np
import pytest

from imitlab.discriminator import Discriminator
from imitlab.errors import UserError

OBS = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)


@pytest.mark.parametrize("space", [gym.spaces.MultiDiscrete([2, 3]), gym.spaces.MultiBinary(2)])
def test_an_action_space_other_than_box_or_discrete_is_a_user_error(space):
    with pytest.raises(UserError, match="unsupported action space .*imitlab handles Discrete and Box"):
        Discriminator(OBS, space)


def test_box_and_discrete_action_spaces_set_the_input_size():
    assert Discriminator(OBS, gym.spaces.Discrete(4)).input_dim == 3 + 4
    assert Discriminator(OBS, gym.spaces.Box(-2.0, 2.0, (2,), np.float32), absorbing=True).input_dim == 3 + 2 + 1

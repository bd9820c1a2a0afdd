"""The bench's cached demonstration sets (imitlab.bench.demos)."""

import numpy as np
import pytest

from imitlab.bench.demos import demo_path, demo_subset, ensure_demos
from imitlab.data.demos import Demonstrations, Trajectory
from imitlab.envs.spaces import describe_space
from imitlab.envs.vector import env_spaces
from imitlab.errors import UserError


def test_a_cached_file_without_rewards_is_a_user_error_and_is_left_alone(tmp_path):
    # A file put in the bench's place (right env and demo seed) whose episodes record no rewards:
    # the expert's return cannot be computed, which must say so, not crash on None.
    env_id = "CartPole-v1"
    path = demo_path(tmp_path, env_id)
    path.parent.mkdir(parents=True)
    traj = Trajectory(obs=np.zeros((4, 4), np.float32), acts=np.zeros(3, np.int64), truncated=True)
    obs_space, act_space = (describe_space(s) for s in env_spaces(env_id))
    Demonstrations([traj, traj], env_id, obs_space, act_space, {"demo_seed": 0}).save(path)
    before = path.read_bytes()

    with pytest.raises(UserError, match="without rewards.*delete it"):
        demo_subset(tmp_path, env_id, 2)
    with pytest.raises(UserError, match="without rewards.*delete it"):
        ensure_demos(tmp_path, env_id, 3, demo_seed=0)  # records the third episode, then finds the file's
    assert path.read_bytes() == before

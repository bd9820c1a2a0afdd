"""The checks the algorithms' entry points share: demos built in memory (which skip a demo file's
checks) must fit the env in their values too, not only in their spaces."""

import numpy as np
import pytest

from imitlab.algorithms._inputs import expert_transitions
from imitlab.data import Demonstrations, Trajectory
from imitlab.data.demos import Transitions
from imitlab.envs import describe_space, env_spaces
from imitlab.errors import UserError


def _demos(acts, obs=None, env_id="CartPole-v1"):
    obs_space, act_space = env_spaces(env_id)
    acts = np.asarray(acts)
    obs = np.zeros((len(acts) + 1, 4), np.float32) if obs is None else obs
    return Demonstrations([Trajectory(obs=obs, acts=acts)], env_id, describe_space(obs_space), describe_space(act_space))


@pytest.mark.parametrize("acts, match", [
    ([0.0, 0.5, 1.0], "found 0.5"),
    ([0.0, np.nan, 1.0], "found nan or inf"),
    ([0, 1, 2], r"in \[0, 2\), found 2"),
])
def test_discrete_actions_must_be_whole_numbers_in_range(acts, match):
    with pytest.raises(UserError, match=match):
        expert_transitions("CartPole-v1", _demos(acts))


def test_whole_float_actions_become_integers():
    trans = expert_transitions("CartPole-v1", _demos([0.0, 1.0, 1.0]))[0]
    assert trans.acts.dtype == np.int64 and trans.acts.tolist() == [0, 1, 1]


def test_non_finite_observations_and_continuous_actions_are_refused():
    obs = np.zeros((4, 4), np.float32)
    obs[2, 1] = np.inf
    with pytest.raises(UserError, match="obs do not fit CartPole-v1: observations contain nan or inf"):
        expert_transitions("CartPole-v1", _demos([0, 1, 0], obs))
    t = Transitions(obs=np.zeros((2, 3), np.float32), acts=np.array([[0.5], [np.nan]], np.float32),
                    next_obs=np.zeros((2, 3), np.float32), dones=np.zeros(2, bool))
    with pytest.raises(UserError, match="continuous actions contain nan or inf"):
        expert_transitions("Pendulum-v1", t)

"""Known tabular dynamics: what tabular_mdp reads from FrozenLake, CliffWalking and the gridworld,
checked against the envs themselves, and the one-line refusal for envs without them."""

import gymnasium as gym
import numpy as np
import pytest

from imitlab.envs.gridworld import GridWorldEnv
from imitlab.envs.tabular import has_tabular_dynamics, tabular_env_names, tabular_mdp
from imitlab.envs.vector import env_kwargs
from imitlab.errors import UserError


def test_frozen_lake_slippery():
    mdp = tabular_mdp("FrozenLake-v1")
    assert (mdp.n_states, mdp.n_actions, mdp.grid_shape, mdp.max_episode_steps) == (16, 4, (4, 4), 100)
    assert np.allclose(mdp.transitions.sum(-1), 1.0)
    assert mdp.initial.tolist() == [1.0] + [0.0] * 15
    assert np.flatnonzero(mdp.terminal).tolist() == [5, 7, 11, 12, 15]  # the holes and the goal
    assert "".join(mdp.kinds) == "SFFFFHFHFFFHHFFG"
    # state 14, action down: left to 13, down into the edge (stays at 14), right to the goal: a third each
    assert mdp.transitions[14, 1, [13, 14, 15]] == pytest.approx([1 / 3] * 3)
    assert mdp.terminates[14, 1, 15] and not mdp.terminates[14, 1, 13]
    assert mdp.expected_reward()[14, 1] == pytest.approx(1 / 3)
    reward = mdp.state_reward()
    assert reward is not None and reward[15] == 1.0 and np.nansum(reward) == 1.0
    assert mdp.continuation[14, 1, 15] == 0.0  # nothing follows the goal
    assert mdp.true_table("state_action").shape == (16, 4)
    assert mdp.true_table("state") is None  # the goal's reward comes on entering it


def test_env_kwargs_apply():
    with env_kwargs("FrozenLake-v1", {"is_slippery": False}):
        mdp = tabular_mdp("FrozenLake-v1")
    assert mdp.env_kwargs == {"is_slippery": False}
    assert set(np.unique(mdp.transitions)) == {0.0, 1.0}
    assert mdp.transitions[14, 2, 15] == 1.0
    assert tabular_mdp("FrozenLake-v1").transitions[14, 2, 15] == pytest.approx(1 / 3)  # the scope has ended
    with env_kwargs("FrozenLake-v1", {"slippery": True}), pytest.raises(UserError, match="does not take the env kwargs"):
        tabular_mdp("FrozenLake-v1")


def test_cliff_walking():
    assert "CliffWalking-v1" in gym.registry
    mdp = tabular_mdp("CliffWalking-v1")
    assert (mdp.n_states, mdp.grid_shape, mdp.max_episode_steps) == (48, (4, 12), 200)  # imitlab's time limit (gymnasium registers none)
    assert np.flatnonzero(mdp.terminal).tolist() == [47]
    assert "".join(mdp.kinds[36:]) == "S" + "C" * 10 + "G"
    assert mdp.rewards[36, 1, 36] == -100 and mdp.rewards[36, 2, 36] == -1  # a fall (right) and a bump (down) end at the start
    assert mdp.state_reward() is None  # so the true reward is not one of the state entered
    assert mdp.reachable.sum() == 38 and not mdp.reachable[37:47].any()  # the cliff is never occupied
    assert set(mdp.expected_reward().reshape(-1)) == {-1.0, -100.0}


def test_gridworld_matches_its_env():
    env = GridWorldEnv()
    mdp = tabular_mdp("GridWorld-v0")
    reward = mdp.state_reward()
    reachable = mdp.reachable
    assert reward is not None and np.allclose(reward[reachable], env.state_rewards[reachable])
    assert np.isnan(reward[~reachable]).all() and (mdp.kinds[~reachable] == "#").all()
    assert mdp.kind_features()[1] == ["S", ".", "#", "-", "+", "G"]
    grid = "S.X\n..G"
    with env_kwargs("GridWorld-v0", {"grid": grid, "slip": 0.5}):
        small = tabular_mdp("GridWorld-v0")
    assert small.n_states == 6 and np.flatnonzero(small.terminal).tolist() == [2, 5]
    assert small.transitions[1, 2, 2] == pytest.approx(0.5)  # right, into the trap


def test_transitions_are_what_the_env_does():
    """A statistical check that the tensor is the env's: 3,000 slippery steps from one state."""
    mdp = tabular_mdp("FrozenLake-v1")
    env = gym.make("FrozenLake-v1").unwrapped
    env.reset(seed=0)
    counts = np.zeros(16)
    for _ in range(3000):
        env.s = 9
        counts[env.step(2)[0]] += 1
    assert counts / 3000 == pytest.approx(mdp.transitions[9, 2], abs=0.03)


def test_states_of_one_hot_observations():
    mdp = tabular_mdp("FrozenLake-v1")
    assert mdp.states_of(np.eye(16, dtype=np.float32)[[3, 0, 15]]).tolist() == [3, 0, 15]
    with pytest.raises(UserError, match="one-hot states"):
        mdp.states_of(np.zeros((2, 5)))


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_envs_without_tabular_dynamics_are_refused_naming_those_with_them(env_id):
    with pytest.raises(UserError) as info:
        tabular_mdp(env_id)
    message = str(info.value)
    assert message.startswith(f"{env_id} has no known tabular dynamics") and "\n" not in message
    for name in ("FrozenLake-v1", "CliffWalking-v1", "GridWorld-v0"):
        assert name in message
    assert not has_tabular_dynamics(env_id)
    assert has_tabular_dynamics("FrozenLake-v1")


def test_unknown_env_id_is_the_usual_error():
    with pytest.raises(UserError, match="unknown environment"):
        tabular_mdp("NoSuchEnv-v0")
    assert "Taxi-v4" in tabular_env_names()

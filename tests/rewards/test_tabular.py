"""The tabular reward (kind "tabular"): its three forms on one-hot observations, its tables, the
reward.pt round trip and the refusal of damaged configs."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitlab.envs.tabular import tabular_mdp
from imitlab.envs.vector import env_spaces
from imitlab.errors import UserError
from imitlab.rewards import load_reward, reward_values, save_reward
from imitlab.rewards.tabular import TabularReward

S, A = 16, 4
OBS, ACT = env_spaces("FrozenLake-v1")  # one-hot Box(0, 1, (16,), int64), Discrete(4)


def one_hot(states):
    return torch.as_tensor(np.eye(S, dtype=np.float32)[states])


def test_state_form_reads_the_state_alone():
    r = TabularReward(OBS, ACT, form="state").set_weights(np.arange(S, dtype=np.float64))
    assert r.state_only and r.config() == {"form": "state", "n_features": 0}
    out = r(one_hot([3, 3, 15]), torch.tensor([0, 2, 1]))
    assert out.dtype == torch.float32 and out.tolist() == [3.0, 3.0, 15.0]
    assert r.table().tolist() == list(range(S)) and r.sa_table().shape == (S, A)


def test_next_state_form_is_the_expectation_under_the_dynamics():
    mdp = tabular_mdp("FrozenLake-v1")
    goal = np.zeros(S)
    goal[15] = 1.0
    r = TabularReward(OBS, ACT).set_weights(goal, transitions=mdp.transitions)
    assert r.form == "next_state" and not r.state_only
    assert r.table().tolist() == goal.tolist()
    # it is FrozenLake's own expected reward (in the states an episode acts in)
    acted = ~mdp.terminal
    assert np.allclose(r.sa_table()[acted], mdp.expected_reward()[acted])
    assert r(one_hot([14, 0]), torch.tensor([1, 0])).tolist() == pytest.approx([1 / 3, 0.0])
    with pytest.raises(ValueError, match="needs the env's transitions"):
        TabularReward(OBS, ACT).set_weights(goal)


def test_state_action_form_and_linear_features():
    table = np.random.default_rng(0).normal(size=(S, A))
    r = TabularReward(OBS, ACT, form="state_action").set_weights(table)
    assert r(one_hot([2, 7]), torch.tensor([3, 1])).tolist() == pytest.approx([table[2, 3], table[7, 1]], abs=1e-6)
    features = np.eye(4)[np.arange(S) % 4]  # 4 "kinds" of cells
    linear = TabularReward(OBS, ACT, form="state", n_features=4).set_weights(np.array([1.0, 2.0, 3.0, 4.0]), features=features)
    assert linear.table().tolist() == [1.0, 2.0, 3.0, 4.0] * 4
    assert linear(torch.tensor([5, 6]), torch.tensor([0, 0])).tolist() == [2.0, 3.0]  # state indices work too
    with pytest.raises(UserError, match="state_action"):
        TabularReward(OBS, ACT, form="state_action", n_features=3)


@pytest.mark.parametrize("form", ["next_state", "state", "state_action"])
def test_reward_file_round_trip(tmp_path, form):
    mdp = tabular_mdp("FrozenLake-v1")
    rng = np.random.default_rng(1)
    weights = rng.normal(size=(S, A) if form == "state_action" else (S,))
    r = TabularReward(OBS, ACT, form=form).set_weights(weights, transitions=mdp.transitions)
    path = tmp_path / "reward.pt"
    save_reward(r, path, env_id="FrozenLake-v1", obs_space=OBS, act_space=ACT, gamma=0.99, extra={"algo": "maxent-irl"})
    loaded = load_reward(tmp_path)  # a run directory works too
    assert isinstance(loaded.module, TabularReward) and loaded.meta["kind"] == "tabular"
    assert loaded.state_only == (form == "state") and loaded.gamma == 0.99 and loaded.meta["extra"] == {"algo": "maxent-irl"}
    assert np.array_equal(loaded.module.table(), r.table()) and np.array_equal(loaded.module.sa_table(), r.sa_table())
    obs = np.eye(S, dtype=np.float32)[rng.integers(S, size=50)]
    acts = rng.integers(A, size=50)
    assert np.array_equal(loaded(obs, acts), reward_values(r, obs, acts))
    loaded.check_env("FrozenLake-v1")
    with pytest.raises(UserError, match="was learned on FrozenLake-v1"):
        loaded.check_env("CliffWalking-v1")


@pytest.mark.parametrize("config, words", [
    ({"form": "sideways", "n_features": 0}, "form 'sideways'"),
    ({"form": "state", "n_features": -1}, "n_features=-1"),
    ({"form": "state", "n_features": 10**9}, "n_features=1000000000"),
    ({"form": "state_action", "n_features": 2}, "features serve the state forms"),
    ({"form": "state"}, "not form and n_features"),
])
def test_damaged_configs_are_refused_before_anything_is_built(tmp_path, config, words):
    r = TabularReward(OBS, ACT, form="state").set_weights(np.zeros(S))
    path = tmp_path / "reward.pt"
    save_reward(r, path, env_id="FrozenLake-v1", obs_space=OBS, act_space=ACT)
    payload = torch.load(path, weights_only=True)
    payload["config"] = config
    torch.save(payload, path)
    with pytest.raises(UserError, match=words):
        load_reward(path)


def test_weights_that_do_not_fit_are_refused(tmp_path):
    r = TabularReward(OBS, ACT, form="state").set_weights(np.zeros(S))
    path = tmp_path / "reward.pt"
    save_reward(r, path, env_id="FrozenLake-v1", obs_space=OBS, act_space=ACT)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["weights"] = torch.zeros(S + 1, dtype=torch.float64)
    torch.save(payload, path)
    with pytest.raises(UserError, match="do not fit"):
        load_reward(path)


def test_spaces_a_table_cannot_read_are_refused():
    with pytest.raises(UserError, match="one-hot states"):
        TabularReward(gym.spaces.Box(0, 1, (2, 2)), ACT)
    with pytest.raises(UserError, match="discrete actions"):
        TabularReward(OBS, gym.spaces.Box(-1, 1, (1,)))

import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitlab.errors import UserError
from imitlab.policies import CategoricalPolicy, GaussianPolicy, load_policy, make_policy, save_policy

BOX_OBS = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)


def test_gaussian_log_prob_and_entropy_match_torch_in_unit_space():
    act_space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
    pol = GaussianPolicy(BOX_OBS, act_space, (16,))
    obs = torch.randn(5, 3)
    acts = torch.tensor(act_space.low) + torch.rand(5, 2) * torch.tensor(act_space.high - act_space.low)
    logp, ent = pol.log_prob_entropy(obs, acts)
    dist = pol.distribution(obs)
    torch.testing.assert_close(logp, dist.log_prob(pol.to_unit(acts)).sum(-1))
    torch.testing.assert_close(ent, dist.entropy().sum(-1))


def test_gaussian_sample_log_prob_matches_log_prob():
    act_space = gym.spaces.Box(-2.0, 2.0, (2,), np.float32)
    pol = GaussianPolicy(BOX_OBS, act_space, (16,))
    obs = torch.randn(64, 3)
    act, logp = pol.sample(obs, torch.Generator().manual_seed(0))
    torch.testing.assert_close(logp, pol.log_prob(obs, act), rtol=1e-4, atol=1e-4)


def test_categorical_sampling_follows_the_probabilities():
    pol = CategoricalPolicy(BOX_OBS, gym.spaces.Discrete(3), (16,))
    with torch.no_grad():
        pol.net[-1].bias.copy_(torch.log(torch.tensor([0.2, 0.3, 0.5])))
        pol.net[-1].weight.zero_()
    obs = torch.zeros(200_000, 3)
    act, logp = pol.sample(obs, torch.Generator().manual_seed(0))
    freq = torch.bincount(act, minlength=3).float() / len(act)
    torch.testing.assert_close(freq, torch.tensor([0.2, 0.3, 0.5]), atol=5e-3, rtol=0)
    torch.testing.assert_close(logp, pol.log_prob(obs, act))


@pytest.mark.parametrize("act_space", [gym.spaces.Discrete(4), gym.spaces.Box(-1.0, 1.0, (2,), np.float32)])
def test_save_load_round_trip(tmp_path, act_space):
    pol = make_policy(BOX_OBS, act_space, (8, 8))
    pol.set_obs_normalization(np.ones(3), 2 * np.ones(3))
    save_policy(pol, tmp_path / "policy.pt", env_id="Test-v0")
    loaded, meta = load_policy(tmp_path)  # a run dir works too
    assert meta["env_id"] == "Test-v0"
    obs = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    np.testing.assert_array_equal(pol.act(obs), loaded.act(obs))


def test_load_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this would run",))

    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"format": "imitlab.policy", "obj": Evil()}, f)
    with pytest.raises(UserError, match="cannot read policy file"):
        load_policy(tmp_path / "evil.pt")


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_policy(tmp_path / "missing.pt")
    torch.save({"hello": 1}, tmp_path / "other.pt")
    with pytest.raises(UserError, match="not an imitlab policy"):
        load_policy(tmp_path / "other.pt")

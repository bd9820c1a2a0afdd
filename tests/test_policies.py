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


def test_tanh_log_prob_correction_matches_a_numerical_density():
    """The squashed density, integrated numerically over the action range, is 1; and at each point
    it equals the Gaussian density of atanh(y) times |d atanh(y) / dy| (computed by finite differences)."""
    act_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    pol = GaussianPolicy(BOX_OBS, act_space, (8,), squash=True, init_log_std=-0.5)  # mass beyond |y| = 0.999 is negligible
    with torch.no_grad():
        pol.net[-1].bias.fill_(0.4)
    obs = torch.zeros(1, 3)
    ys = torch.linspace(-0.999, 0.999, 20001)
    logp = pol.log_prob(obs.expand(len(ys), 3), ys.reshape(-1, 1))
    dens = logp.double().exp()
    integral = torch.trapezoid(dens, ys.double())
    assert integral.item() == pytest.approx(1.0, abs=2e-3)
    # Finite-difference Jacobian of atanh at a few points.
    mean, log_std = pol.mean_log_std(obs)
    gauss = torch.distributions.Normal(mean.double(), log_std.exp().double())
    for y in (-0.9, -0.3, 0.0, 0.5, 0.95):
        h = 1e-6
        jac = (np.arctanh(y + h) - np.arctanh(y - h)) / (2 * h)
        expected = gauss.log_prob(torch.tensor([[np.arctanh(y)]], dtype=torch.float64)).sum() + np.log(jac)
        got = pol.log_prob(obs, torch.tensor([[y]]))
        assert got.item() == pytest.approx(expected.item(), abs=1e-4)


def test_squashed_sample_log_prob_agrees_and_actions_stay_in_bounds():
    act_space = gym.spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 1.0], np.float32))
    pol = GaussianPolicy(BOX_OBS, act_space, (16,), squash=True, state_dependent_std=True)
    obs = torch.randn(256, 3)
    act, logp = pol.sample(obs, torch.Generator().manual_seed(1))
    assert (act >= torch.tensor(act_space.low)).all() and (act <= torch.tensor(act_space.high)).all()
    torch.testing.assert_close(logp, pol.log_prob(obs, act), rtol=1e-3, atol=1e-3)
    # rsample carries gradients to the network (for SAC-style actors).
    a, lp = pol.rsample(obs)
    (a.sum() + lp.sum()).backward()
    assert pol.net[0].weight.grad is not None


def test_gaussian_options_survive_save_and_load(tmp_path):
    act_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    pol = make_policy(BOX_OBS, act_space, (8,), squash=True, state_dependent_std=True)
    save_policy(pol, tmp_path / "policy.pt", env_id="Test-v0")
    loaded, _ = load_policy(tmp_path / "policy.pt")
    assert loaded.squash and loaded.state_dependent_std
    obs = torch.randn(4, 3)
    torch.testing.assert_close(pol.log_prob(obs, torch.zeros(4, 2)), loaded.log_prob(obs, torch.zeros(4, 2)))

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitlab.errors import UserError
from imitlab.rewards import load_reward, save_reward
from imitlab.rewards.linear import CustomLinearReward, LinearReward

OBS = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
ACT = gym.spaces.Discrete(2)


def _reward(**kwargs) -> LinearReward:
    return LinearReward(OBS, ACT, obs_mean=np.array([1.0, 0.0, -1.0, 0.0]), obs_std=np.array([2.0, 1.0, 0.5, 1.0]), **kwargs)


def test_squashed_features_are_bounded_and_the_absorbing_state_has_its_own():
    r = _reward(n_fourier=32)
    obs = torch.as_tensor(np.random.default_rng(0).normal(scale=100.0, size=(500, 4)), dtype=torch.float32)
    phi = r.features(obs)
    assert phi.shape == (500, 4 + 32 + 1) and r.feature_dim == 37
    assert float(phi.norm(dim=1).max()) <= 1.0 + 1e-6
    assert bool((phi[:, -1] == 0).all())  # real states: the absorbing entry is 0
    flags = torch.tensor([True] + [False] * 499)
    flagged = r.features(obs, flags)
    np.testing.assert_array_equal(flagged[0].numpy(), r.absorbing_features(1)[0].numpy())
    np.testing.assert_array_equal(flagged[0, :-1].numpy(), np.zeros(36))
    assert flagged[0, -1] == 1.0
    torch.testing.assert_close(flagged[1:], phi[1:])


def test_unsquashed_features_are_the_normalised_state_and_rahimi_recht_features():
    r = _reward(n_fourier=8, squash=False, absorbing=False)
    obs = torch.tensor([[3.0, 1.0, -0.5, 2.0]])
    z = (obs - r.obs_mean) / r.obs_std
    torch.testing.assert_close(z, torch.tensor([[1.0, 1.0, 1.0, 2.0]]))
    phi = r.features(obs)
    torch.testing.assert_close(phi[:, :4], z)
    torch.testing.assert_close(phi[:, 4:], math.sqrt(2 / 8) * torch.cos(z @ r.rff_w.T + r.rff_b))


def test_fourier_features_approximate_the_gaussian_kernel():
    r = LinearReward(OBS, ACT, n_fourier=8192, bandwidth=1.5, include_state=False, squash=False, absorbing=False, seed=3)
    rng = np.random.default_rng(1)
    x = torch.as_tensor(rng.normal(size=(20, 4)), dtype=torch.float32)
    y = torch.as_tensor(rng.normal(size=(20, 4)), dtype=torch.float32)
    approx = (r.features(x) * r.features(y)).sum(1)
    exact = torch.exp(-((x - y) ** 2).sum(1) / (2 * 1.5**2))
    assert float((approx - exact).abs().max()) < 0.06


def test_the_reward_is_w_dot_phi_and_reads_no_action():
    r = _reward(n_fourier=16)
    w = np.random.default_rng(2).normal(size=r.feature_dim)
    r.set_weight(w)
    obs = torch.randn(10, 4)
    torch.testing.assert_close(r(obs, torch.zeros(10, dtype=torch.int64)), r.features(obs) @ torch.as_tensor(w, dtype=torch.float32))
    torch.testing.assert_close(r(obs, torch.zeros(10, dtype=torch.int64)), r(obs, torch.ones(10, dtype=torch.int64)))
    assert r.absorbing_reward == pytest.approx(w[-1])
    assert r(obs[:1], None, torch.tensor([True])).item() == pytest.approx(w[-1], rel=1e-6)
    with pytest.raises(ValueError, match="shape"):
        r.set_weight(np.zeros(3))


def test_the_same_seed_draws_the_same_features():
    a, b, c = _reward(seed=5), _reward(seed=5), _reward(seed=6)
    torch.testing.assert_close(a.rff_w, b.rff_w)
    assert not torch.equal(a.rff_w, c.rff_w)


def test_reward_file_round_trip(tmp_path):
    r = _reward(n_fourier=16, seed=9)
    r.set_weight(np.random.default_rng(0).normal(size=r.feature_dim))
    save_reward(r, tmp_path / "reward.pt", env_id="CartPole-v1", obs_space=OBS, act_space=ACT,
                absorbing_reward=r.absorbing_reward, gamma=0.99)
    loaded = load_reward(tmp_path)
    assert loaded.meta["kind"] == "linear" and loaded.state_only
    assert loaded.meta["config"] == {"n_fourier": 16, "bandwidth": 1.0, "include_state": True, "squash": True,
                                     "absorbing": True, "seed": 9}
    assert loaded.absorbing_reward == pytest.approx(r.absorbing_reward)
    assert loaded.terminal_bonus(0.99) == pytest.approx(99 * r.absorbing_reward)
    obs = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float32)
    with torch.no_grad():
        expected = r(torch.as_tensor(obs)).double().numpy()
    np.testing.assert_allclose(loaded(obs, np.zeros(50, np.int64)), expected, rtol=1e-6)


@pytest.mark.parametrize("change, problem", [
    ({"n_fourier": 10**9}, "n_fourier"),
    ({"bandwidth": -1.0}, "bandwidth"),
    ({"squash": "yes"}, "true or false"),
    ({"extra": 1}, "keys"),
    ({"include_state": False, "n_fourier": 0}, "no features"),
])
def test_a_tampered_reward_file_is_refused_before_anything_is_built(tmp_path, change, problem):
    r = _reward(n_fourier=4)
    save_reward(r, tmp_path / "reward.pt", env_id="CartPole-v1", obs_space=OBS, act_space=ACT)
    payload = torch.load(tmp_path / "reward.pt", weights_only=True)
    payload["config"].update(change)
    torch.save(payload, tmp_path / "reward.pt")
    with pytest.raises(UserError, match=problem):
        load_reward(tmp_path / "reward.pt")


def test_a_user_feature_function_makes_a_reward_that_cannot_be_saved(tmp_path):
    r = CustomLinearReward(lambda obs: obs[:, :2] ** 2, np.ones((3, 4), np.float32))
    assert r.feature_dim == 3 and r.absorbing
    r.set_weight(np.array([1.0, -1.0, 5.0]))
    np.testing.assert_allclose(r(torch.tensor([[2.0, 3.0, 0.0, 0.0]])).numpy(), [4.0 - 9.0])
    with pytest.raises(TypeError, match="not a reward kind"):
        save_reward(r, tmp_path / "reward.pt", env_id="CartPole-v1", obs_space=OBS, act_space=ACT)
    with pytest.raises(UserError, match="one row of features per observation"):
        CustomLinearReward(lambda obs: obs.sum(), np.ones((3, 4), np.float32))
    with pytest.raises(UserError, match="nan or inf"):
        CustomLinearReward(lambda obs: np.full_like(obs, np.nan), np.ones((3, 4), np.float32))

"""SB3 SAC/TD3 critics as Q*: the adapter's q(obs, act) against SB3's own critic networks, fed
actions rescaled to [-1, 1] by hand (not by the adapter's or SB3's scaling function)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitlab.experts import has_q, has_q_values, load_expert


@pytest.fixture(scope="module")
def sb3():
    return pytest.importorskip("stable_baselines3")


def _sb3_min_q(critic, obs, scaled_acts):
    """min(Q1, Q2) by SB3's own critic forward, on actions already in [-1, 1]."""
    with torch.no_grad():
        q1, q2 = critic(torch.as_tensor(obs), torch.as_tensor(scaled_acts, dtype=torch.float32))
    return q1[:, 0].numpy(), q2[:, 0].numpy(), torch.minimum(q1, q2)[:, 0].numpy()


class _LopsidedBounds(gym.Env):
    """Actions in a box that is neither symmetric nor the same per dimension, so a wrong rescaling
    (a / high, or ignoring low) gives other critic inputs than the right one."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    action_space = gym.spaces.Box(np.array([0.0, -1.0], np.float32), np.array([3.0, 5.0], np.float32))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        reward = -float(np.square(action - np.array([1.0, 2.0])).sum())
        return self.observation_space.sample(), reward, False, False, {}


def test_sb3_td3_q_is_the_min_of_its_twin_online_critics_on_hand_scaled_actions(sb3, tmp_path):
    model = sb3.TD3("MlpPolicy", "Pendulum-v1", learning_starts=100, seed=0, policy_kwargs=dict(net_arch=[16, 16]))
    model.learn(200)
    model.save(tmp_path / "td3.zip")
    expert = load_expert(f"sb3:{tmp_path / 'td3.zip'}", "Pendulum-v1")
    assert has_q(expert) and not has_q_values(expert)
    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, (32, 3)).astype(np.float32)
    acts = rng.uniform(-2, 2, (32, 1)).astype(np.float32)  # any actions, not only the expert's
    acts[:2] = [[-2.0], [2.0]]  # the bounds map to -1 and 1
    critic = expert.model.critic
    # Shift the first critic by the median gap, so each critic is the lower one on some pairs and
    # taking either one alone instead of the min fails.
    q1, q2, _ = _sb3_min_q(critic, obs, acts / 2.0)
    with torch.no_grad():
        critic.q_networks[0][-1].bias += float(np.median(q2 - q1))
    q1, q2, want = _sb3_min_q(critic, obs, acts / 2.0)  # Pendulum: [-2, 2] -> [-1, 1]
    assert (q1 < q2).any() and (q2 < q1).any()
    got = expert.q(obs, acts)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The online critic, not the target one (they differ after 100 updates).
    assert not np.allclose(got, _sb3_min_q(expert.model.critic_target, obs, acts / 2.0)[2], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("algo", ["TD3", "SAC"])
def test_twin_critic_adapter_rescales_lopsided_bounds_like_the_formula(sb3, algo):
    from imitlab.experts.sb3 import SB3TwinCriticExpert

    model = getattr(sb3, algo)("MlpPolicy", _LopsidedBounds(), learning_starts=50, seed=0,
                               policy_kwargs=dict(net_arch=[16, 16]))
    model.learn(100)
    expert = SB3TwinCriticExpert(model, algo.lower())
    rng = np.random.default_rng(1)
    obs = rng.uniform(-1, 1, (16, 3)).astype(np.float32)
    low, high = np.array([0.0, -1.0]), np.array([3.0, 5.0])
    acts = rng.uniform(low, high, (16, 2)).astype(np.float32)
    scaled = 2.0 * (acts - low) / (high - low) - 1.0  # [low, high] -> [-1, 1], per dimension
    np.testing.assert_allclose(expert.q(obs, acts), _sb3_min_q(model.critic, obs, scaled)[2], rtol=1e-5, atol=1e-6)

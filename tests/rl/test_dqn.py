import numpy as np
import pytest
import torch

from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import PolicyExpert, has_q_values, load_expert, zoo_path
from imitlab.policies import QPolicy
from imitlab.rl.dqn import DQNConfig, epsilon_at, train_dqn

# Small and frequent updates: learns CartPole's basics in a second or two.
QUICK = DQNConfig(num_envs=4, train_every=16, gradient_steps=8, target_update_every=100, lr=1e-3, hidden=(64, 64), eps_fraction=0.2)


def test_dqn_learns_cartpole_basics():
    result = train_dqn(env_id="CartPole-v1", total_steps=10_000, seed=0, config=QUICK, eval_every=0, eval_episodes=20)
    assert result.final.mean_return > 80  # a random policy averages ~20
    assert result.critic is result.policy and isinstance(result.policy, QPolicy)


def test_dqn_is_reproducible_from_its_seed():
    cfg = DQNConfig(num_envs=4, learning_starts=200, train_every=4, gradient_steps=2, hidden=(16, 16))
    a = train_dqn(env_id="CartPole-v1", total_steps=800, seed=2, config=cfg, eval_every=0, eval_episodes=1)
    b = train_dqn(env_id="CartPole-v1", total_steps=800, seed=2, config=cfg, eval_every=0, eval_episodes=1)
    for pa, pb in zip(a.policy.parameters(), b.policy.parameters()):
        assert torch.equal(pa, pb)


def test_epsilon_decays_linearly_then_stays():
    cfg = DQNConfig(eps_start=1.0, eps_end=0.1, eps_fraction=0.5)
    assert epsilon_at(0, 1000, cfg) == 1.0
    assert epsilon_at(250, 1000, cfg) == pytest.approx(0.55)
    assert epsilon_at(500, 1000, cfg) == pytest.approx(0.1)
    assert epsilon_at(900, 1000, cfg) == pytest.approx(0.1)


def test_q_policy_samples_epsilon_greedily():
    import gymnasium as gym

    pol = QPolicy(gym.spaces.Box(-1, 1, (2,), np.float32), gym.spaces.Discrete(3), (8,))
    obs = torch.zeros(30_000, 2)
    greedy = int(pol.mode(obs[:1]))
    pol.epsilon = 0.3
    act, logp = pol.sample(obs, torch.Generator().manual_seed(0))
    freq = torch.bincount(act, minlength=3).float() / len(act)
    assert abs(float(freq[greedy]) - (0.7 + 0.1)) < 0.01
    torch.testing.assert_close(logp, pol.log_prob(obs, act))


def test_dqn_refuses_continuous_actions():
    with pytest.raises(UserError, match="DQN needs discrete"):
        train_dqn(env_id="Pendulum-v1", total_steps=100)


def test_shipped_cartpole_dqn_expert_has_q_values():
    path = zoo_path("CartPole-v1", "dqn")
    assert path.name == "CartPole-v1.dqn.pt" and path.stat().st_size < 1_000_000
    assert torch.load(path, weights_only=True)["kind"] == "QPolicy"
    assert zoo_path("CartPole-v1") != path  # the PPO expert stays the default
    expert = load_expert("zoo:dqn", "CartPole-v1")
    assert isinstance(expert, PolicyExpert) and has_q_values(expert)
    obs = np.random.default_rng(0).normal(0, 0.05, (6, 4)).astype(np.float32)
    q = expert.q_values(obs)
    assert q.shape == (6, 2)
    np.testing.assert_array_equal(expert.act(obs), q.argmax(1))
    np.testing.assert_allclose(expert.q(obs, np.ones(6, np.int64)), q[:, 1], rtol=1e-6)
    assert evaluate(expert, "CartPole-v1", episodes=50, seed=5).mean_return >= 495
    with pytest.raises(UserError, match="no shipped sac expert"):
        load_expert("zoo:sac", "CartPole-v1")

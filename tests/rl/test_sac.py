import numpy as np
import pytest
import torch

from imitlab.critics import TwinQ
from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import has_q, load_expert, zoo_path
from imitlab.policies import load_policy
from imitlab.rl.sac import SACConfig, train_sac

SMALL = SACConfig(learning_starts=200, batch_size=64, hidden=(32, 32), critic_hidden=(32, 32))


def test_sac_is_reproducible_from_its_seed():
    a = train_sac(env_id="Pendulum-v1", total_steps=400, seed=1, config=SMALL, eval_every=0, eval_episodes=1)
    b = train_sac(env_id="Pendulum-v1", total_steps=400, seed=1, config=SMALL, eval_every=0, eval_episodes=1)
    for pa, pb in zip([*a.policy.parameters(), *a.critic.parameters()], [*b.policy.parameters(), *b.critic.parameters()]):
        assert torch.equal(pa, pb)


def test_sac_learns_pendulum():
    # A random policy scores about -1200; SAC passes -400 within 3,000 steps on every seed tried.
    cfg = SACConfig(learning_starts=500)
    result = train_sac(env_id="Pendulum-v1", total_steps=3_000, seed=0, config=cfg, eval_every=0, eval_episodes=10)
    assert result.final.mean_return > -400


def test_sac_refuses_discrete_actions():
    with pytest.raises(UserError, match="SAC needs continuous"):
        train_sac(env_id="CartPole-v1", total_steps=100)


def test_sac_run_dir_policy_file_carries_the_critic(tmp_path):
    result = train_sac(env_id="Pendulum-v1", total_steps=300, seed=0, config=SMALL, eval_every=0, eval_episodes=1, out=tmp_path / "run")
    policy, meta = load_policy(tmp_path / "run")
    assert meta["critic"]["kind"] == "TwinQ"
    expert = load_expert(tmp_path / "run", "Pendulum-v1")
    obs = np.random.default_rng(0).uniform(-1, 1, (5, 3)).astype(np.float32)
    act = expert.act(obs)
    with torch.no_grad():
        want = result.critic.q(torch.from_numpy(obs), torch.from_numpy(act)).numpy()
    np.testing.assert_allclose(expert.q(obs, act), want, rtol=1e-6)


def test_shipped_pendulum_expert_has_q_and_is_an_expert():
    path = zoo_path("Pendulum-v1")
    assert path.stat().st_size < 1_000_000
    payload = torch.load(path, weights_only=True)  # no pickled objects
    assert payload["critic"]["kind"] == "TwinQ" and payload["extra"]["algo"] == "expert-sac"
    expert = load_expert("zoo", "Pendulum-v1")
    assert has_q(expert) and zoo_path("Pendulum-v1", "sac") == path
    assert evaluate(expert, "Pendulum-v1", episodes=50, seed=5).mean_return >= -200
    # Q* is the expert's cost-to-go: acting greedily on it over a grid of torques is as good as
    # the expert (which is what AggreVaTeD relies on).
    grid = np.linspace(-2, 2, 21, dtype=np.float32)

    def greedy(obs):
        q = np.stack([expert.q(obs, np.full((len(obs), 1), g, np.float32)) for g in grid], 1)
        return grid[q.argmax(1)][:, None]

    assert evaluate(greedy, "Pendulum-v1", episodes=10, seed=5).mean_return >= -250


def test_twin_q_is_the_minimum_of_its_heads():
    import gymnasium as gym

    q = TwinQ(gym.spaces.Box(-1, 1, (3,), np.float32), gym.spaces.Box(-2, 2, (1,), np.float32), (8,))
    obs, act = torch.randn(4, 3), torch.rand(4, 1) * 4 - 2
    q1, q2 = q.both(obs, act)
    torch.testing.assert_close(q.q(obs, act), torch.minimum(q1, q2))

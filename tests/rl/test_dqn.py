import csv
import io

import numpy as np
import pytest
import torch

from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import PolicyExpert, has_q_values, load_expert, zoo_path
from imitlab.policies import QPolicy
from imitlab.rl.dqn import DQN, DQNConfig, epsilon_at, train_dqn
from imitlab.rl.replay import ReplayBuffer

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


TINY = DQNConfig(hidden=(8,), target_update_every=3, lr=1e-2)


def _learner(cfg=TINY, seed=0):
    import gymnasium as gym

    torch.manual_seed(seed)
    return DQN(QPolicy(gym.spaces.Box(-1, 1, (2,), np.float32), gym.spaces.Discrete(3), cfg.hidden), cfg, seed=seed)


def _buffer(rewards=True, terminated=0.0, n=64, seed=0):
    rng = np.random.default_rng(seed)
    buf = ReplayBuffer(n, (2,), (), np.int64, seed=seed, rewards=rewards)
    obs = rng.uniform(-1, 1, (2, n, 2)).astype(np.float32)
    kw = {"rews": rng.normal(size=n).astype(np.float32)} if rewards else {}
    buf.add(obs[0], rng.integers(3, size=n), obs[1], np.full(n, terminated, np.float32), **kw)
    return buf


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


def test_dqn_update_moves_the_q_network_and_copies_it_to_the_target_when_due():
    dqn, buf = _learner(), _buffer()
    start = [p.detach().clone() for p in dqn.target.parameters()]
    for i in range(1, 4):
        stats = dqn.update(buf.sample(16))
        assert stats["td_loss"] > 0 and dqn.updates == i
        if i < 3:  # the target stays put between copies
            assert all(torch.equal(a, b) for a, b in zip(start, dqn.target.parameters())) and not _same(dqn.qnet, dqn.target)
    assert _same(dqn.qnet, dqn.target)


def test_dqn_rewards_computed_at_sampling_time_reach_the_target():
    dqn = _learner()
    buf = _buffer(rewards=False, terminated=1.0)
    batch = buf.sample(16, reward_fn=lambda b: b.acts.float() * 2 - 1)
    torch.testing.assert_close(dqn.q_target(batch), batch.acts.float() * 2 - 1)
    with pytest.raises(ValueError, match="no rewards"):
        dqn.update(buf.sample(16))
    for _ in range(300):
        dqn.update(buf.sample(16, reward_fn=lambda b: b.acts.float() * 2 - 1))
    with torch.no_grad():  # Q(s, a) = r(a) = 2a - 1 is learned
        np.testing.assert_allclose(dqn.qnet.q_values(batch.obs).mean(0).numpy(), [-1, 1, 3], atol=0.3)


def test_dqn_state_dict_round_trip_continues_identically():
    a, buf = _learner(seed=0), _buffer()
    for _ in range(2):
        a.update(buf.sample(16))
    f = io.BytesIO()
    torch.save(a.state_dict(), f)
    f.seek(0)
    b = _learner(seed=1)
    b.load_state_dict(torch.load(f, weights_only=True))
    batch = buf.sample(16)
    assert a.update(batch) == b.update(batch) and a.updates == b.updates == 3
    assert _same(a.qnet, b.qnet) and _same(a.target, b.target)
    obs = np.zeros((50, 2), np.float32)
    np.testing.assert_array_equal(a.act(obs, 0.5), b.act(obs, 0.5))


def test_dqn_progress_rows_log_losses_where_no_episode_ends(tmp_path):
    # Acrobot's episodes last 500 steps: before progress rows came on a cadence, this run wrote
    # no progress.csv at all (and its td_loss went unlogged).
    cfg = DQNConfig(learning_starts=100, train_every=4, gradient_steps=1, batch_size=16, hidden=(8,))
    train_dqn(env_id="Acrobot-v1", total_steps=300, seed=0, config=cfg, eval_every=0, eval_episodes=1,
              out=tmp_path / "run", log_every=200)
    rows = list(csv.DictReader(open(tmp_path / "run" / "progress.csv")))
    assert [r["env_steps"] for r in rows] == ["200", "300"]
    assert all(float(r["td_loss"]) >= 0 and r.get("episode_return", "") == "" for r in rows)
    assert [int(r["updates"]) for r in rows] == [26, 51]


def test_checkpoints_from_before_the_learner_object_still_resume(tmp_path):
    import shutil

    from imitlab.checkpoint import load_checkpoint, save_checkpoint

    kw = dict(env_id="CartPole-v1", seed=3, config=DQNConfig(learning_starts=100, batch_size=32, train_every=4,
              gradient_steps=2, hidden=(16,)), eval_every=200, eval_episodes=1)
    train_dqn(total_steps=200, out=tmp_path / "new", **kw)
    shutil.copytree(tmp_path / "new", tmp_path / "old")
    state = load_checkpoint(tmp_path / "old")
    learner = state["learner"]
    dqn = learner.pop("dqn")  # the old layout: the learner's fields at the top, the generator as "gen"
    learner.update({k: v for k, v in dqn.items() if k != "generator"}, gen=dqn["generator"])
    save_checkpoint(tmp_path / "old", {k: v for k, v in state.items() if k not in ("format", "version")})
    a = train_dqn(total_steps=400, out=tmp_path / "new", resume=True, **kw)
    b = train_dqn(total_steps=400, out=tmp_path / "old", resume=True, **kw)
    assert _same(a.policy, b.policy)

import csv
import io

import numpy as np
import pytest
import torch

from imitlab.critics import TwinQ
from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import has_q, load_expert, zoo_path
from imitlab.policies import load_policy
from imitlab.rl.replay import ReplayBuffer
from imitlab.rl.sac import SAC, SACConfig, train_sac

SMALL = SACConfig(learning_starts=200, batch_size=64, hidden=(32, 32), critic_hidden=(32, 32))
TINY = SACConfig(batch_size=16, hidden=(8,), critic_hidden=(8,), policy_frequency=2)


def _spaces():
    import gymnasium as gym

    return gym.spaces.Box(-1, 1, (3,), np.float32), gym.spaces.Box(-2, 2, (1,), np.float32)


def _learner(cfg=TINY, seed=0):
    torch.manual_seed(seed)
    return SAC.for_spaces(*_spaces(), cfg, seed=seed)


def _buffer(rewards=True, terminated=0.0, n=64, seed=0):
    rng = np.random.default_rng(seed)
    buf = ReplayBuffer(n, (3,), (1,), np.float32, seed=seed, rewards=rewards)
    obs = rng.uniform(-1, 1, (2, n, 3)).astype(np.float32)
    kw = {"rews": rng.normal(size=n).astype(np.float32)} if rewards else {}
    buf.add(obs[0], rng.uniform(-2, 2, (n, 1)).astype(np.float32), obs[1], np.full(n, terminated, np.float32), **kw)
    return buf


def _through_a_file(state):
    """``state`` saved and loaded back as a checkpoint is (weights only, nothing shared with the saver)."""
    f = io.BytesIO()
    torch.save(state, f)
    f.seek(0)
    return torch.load(f, weights_only=True)


def _params(*modules):
    return [p.detach().clone() for m in modules for p in m.parameters()]


def _moved(before, module):
    return [not torch.equal(a, b) for a, b in zip(before, module.parameters())]


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


def test_critic_step_moves_the_critics_and_nothing_else():
    sac, batch = _learner(), _buffer().sample(16)
    actor, critic, target, log_alpha = _params(sac.actor), _params(sac.critic), _params(sac.target), sac.log_alpha.clone()
    stats = sac.critic_step(batch)
    assert all(_moved(critic, sac.critic)) and not any(_moved(actor, sac.actor)) and not any(_moved(target, sac.target))
    assert torch.equal(sac.log_alpha, log_alpha) and stats["q_loss"] > 0 and sac.updates == 0


def test_update_with_a_critic_loss_of_its_own_keeps_sacs_cadence():
    sac, batch = _learner(), _buffer().sample(16)
    critic, target, actor = _params(sac.critic), _params(sac.target), _params(sac.actor)

    def pull_down(learner):  # any loss of the critics' heads
        q1, q2 = learner.critic.both(batch.obs, batch.acts)
        loss = q1.mean() + q2.mean()
        return loss, {"pulled": float(loss.detach())}

    first = sac.update(batch, critic_loss=pull_down)
    assert set(first) == {"pulled"} and sac.updates == 1  # no actor step before policy_frequency critic steps
    assert all(_moved(critic, sac.critic)) and not any(_moved(actor, sac.actor)) and all(_moved(target, sac.target))
    second = sac.update(batch, critic_loss=pull_down)
    assert second["pulled"] < first["pulled"] and "actor_loss" in second and any(_moved(actor, sac.actor))


def test_actor_step_moves_the_actor_and_temperature_and_not_the_critics():
    sac, batch = _learner(), _buffer().sample(16)
    actor, critic, target, log_alpha = _params(sac.actor), _params(sac.critic), _params(sac.target), sac.log_alpha.clone()
    stats = sac.actor_step(batch)
    assert any(_moved(actor, sac.actor)) and not any(_moved(critic, sac.critic)) and not any(_moved(target, sac.target))
    assert not torch.equal(sac.log_alpha, log_alpha) and stats["alpha"] == pytest.approx(float(sac.alpha))
    # The critic's weights took no gradient through the actor's loss, and learn again afterwards.
    assert all(p.grad is None and p.requires_grad for p in sac.critic.parameters())
    fixed = _learner(SACConfig(batch_size=16, hidden=(8,), critic_hidden=(8,), autotune=False))
    fixed.actor_step(batch)
    assert float(fixed.log_alpha.exp()) == pytest.approx(0.2) and "alpha_loss" not in fixed.actor_step(batch)


def test_update_steps_the_actor_every_policy_frequency_and_the_target_each_time():
    sac, batch = _learner(), _buffer().sample(16)
    actor, target = _params(sac.actor), _params(sac.target)
    first = sac.update(batch)
    assert "actor_loss" not in first and not any(_moved(actor, sac.actor)) and all(_moved(target, sac.target))
    # The target moved a fraction tau of the way to the critic.
    expected = [t + TINY.tau * (c - t) for t, c in zip(target, sac.critic.parameters())]
    for e, t in zip(expected, sac.target.parameters()):
        torch.testing.assert_close(t, e)
    second = sac.update(batch)
    assert "actor_loss" in second and any(_moved(actor, sac.actor)) and sac.updates == 2


def test_rewards_computed_at_sampling_time_reach_the_critic_target():
    sac = _learner(SACConfig(batch_size=16, hidden=(8,), critic_hidden=(8,), critic_lr=1e-2))
    buf = _buffer(rewards=False, terminated=1.0)  # terminal: the target is the reward alone
    batch = buf.sample(16, reward_fn=lambda b: b.obs[:, 0] * 3 + 5)
    torch.testing.assert_close(sac.q_target(batch), batch.obs[:, 0] * 3 + 5)
    with pytest.raises(ValueError, match="no rewards"):
        sac.critic_step(buf.sample(16))
    for _ in range(300):
        sac.critic_step(buf.sample(16, reward_fn=lambda b: torch.full((len(b),), 5.0)))
    with torch.no_grad():
        assert float(sac.critic.q(batch.obs, batch.acts).mean()) == pytest.approx(5.0, abs=0.5)


def test_sac_state_dict_round_trip_continues_identically():
    a, buf = _learner(seed=0), _buffer()
    for _ in range(3):
        a.update(buf.sample(16))
    b = _learner(seed=1)
    b.load_state_dict(_through_a_file(a.state_dict()))
    batch = buf.sample(16)
    assert a.update(batch) == b.update(batch) and a.updates == b.updates == 4
    for pa, pb in zip(_params(a.actor, a.critic, a.target), _params(b.actor, b.critic, b.target)):
        assert torch.equal(pa, pb)
    assert torch.equal(a.log_alpha, b.log_alpha)
    np.testing.assert_array_equal(a.act(batch.obs.numpy()), b.act(batch.obs.numpy()))


def test_sac_progress_rows_log_losses_where_no_episode_ends(tmp_path):
    # Pendulum's episodes last 200 steps: before progress rows came on a cadence, this run logged nothing.
    cfg = SACConfig(learning_starts=50, batch_size=16, hidden=(8,), critic_hidden=(8,))
    train_sac(env_id="Pendulum-v1", total_steps=150, seed=0, config=cfg, eval_every=0, eval_episodes=1,
              out=tmp_path / "run", log_every=100)
    rows = list(csv.DictReader(open(tmp_path / "run" / "progress.csv")))
    assert [r["env_steps"] for r in rows] == ["100", "150"]
    assert all(float(r["q_loss"]) > 0 and r.get("episode_return", "") == "" for r in rows)
    assert [r["updates"] for r in rows] == ["51", "101"]


def test_checkpoints_from_before_the_learner_object_still_resume(tmp_path):
    import shutil

    from imitlab.checkpoint import load_checkpoint, save_checkpoint

    kw = dict(env_id="Pendulum-v1", seed=3, config=SACConfig(learning_starts=100, batch_size=32, hidden=(16,),
              critic_hidden=(16,)), eval_every=200, eval_episodes=1)
    train_sac(total_steps=200, out=tmp_path / "new", **kw)
    shutil.copytree(tmp_path / "new", tmp_path / "old")
    state = load_checkpoint(tmp_path / "old")
    learner = state["learner"]
    sac = learner.pop("sac")  # the old layout: the learner's fields at the top, the generator as "gen"
    learner.update({k: v for k, v in sac.items() if k != "generator"}, gen=sac["generator"])
    save_checkpoint(tmp_path / "old", {k: v for k, v in state.items() if k not in ("format", "version")})
    a = train_sac(total_steps=400, out=tmp_path / "new", resume=True, **kw)
    b = train_sac(total_steps=400, out=tmp_path / "old", resume=True, **kw)
    for pa, pb in zip([*a.policy.parameters(), *a.critic.parameters()], [*b.policy.parameters(), *b.critic.parameters()]):
        assert torch.equal(pa, pb)

import numpy as np
import pytest
import torch

from imitlab.algorithms.gail import GAILConfig, train_gail
from imitlab.defaults import defaults_for, gail_config
from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.rl import PPOConfig


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("generator", ["reinforce", "ppo", "trpo"])
def test_gail_reaches_475_on_cartpole_from_a_random_policy(cartpole_demos, generator, seed):
    result = train_gail(
        env_id="CartPole-v1", demos=cartpole_demos, total_steps=defaults_for("CartPole-v1", "gail_steps", None),
        seed=seed, config=gail_config("CartPole-v1", generator=generator), eval_every=0, eval_episodes=5,
    )
    assert evaluate(result.policy, "CartPole-v1", episodes=50, seed=777).mean_return >= 475


def test_gail_logs_the_discriminator_and_never_sees_env_reward(cartpole_demos, tmp_path, monkeypatch):
    import imitlab.sampling as sampling

    # Poison the env reward: GAIL must not care.
    original = sampling.RolloutSampler.collect

    def poisoned(self, policy):
        batch = original(self, policy)
        batch.rews[:] = float("nan")
        return batch

    monkeypatch.setattr(sampling.RolloutSampler, "collect", poisoned)
    result = train_gail(
        env_id="CartPole-v1", demos=cartpole_demos, total_steps=4096, seed=0,
        config=gail_config("CartPole-v1"), out=tmp_path / "run", eval_every=2048, eval_episodes=3,
    )
    assert all(torch.isfinite(p).all() for p in result.policy.parameters())
    header = (tmp_path / "run" / "progress.csv").read_text().splitlines()[0].split(",")
    for col in ("disc_loss", "disc_expert_acc", "disc_policy_acc", "mean_reward", "approx_kl"):
        assert col in header
    assert len((tmp_path / "run" / "metrics.csv").read_text().splitlines()) == 1 + 2


def test_gail_validates_its_inputs(cartpole_demos):
    with pytest.raises(UserError, match="total_steps must be positive"):
        train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=0)
    with pytest.raises(UserError, match="unknown reward form"):
        train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=10, config=GAILConfig(reward="argmax"))
    with pytest.raises(UserError, match="unknown environment"):
        train_gail(env_id="CartPol-v1", demos=cartpole_demos, total_steps=10)
    with pytest.raises(UserError, match="unknown generator 'sac'; choose one of reinforce, ppo, trpo"):
        train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=10, config=GAILConfig(generator="sac"))
    with pytest.raises(UserError, match="normalize_obs / normalize_reward are for expert training; GAIL .* own GAILConfig"):
        train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=10, config=GAILConfig(ppo=PPOConfig(normalize_obs=True)))


def test_the_old_import_paths_still_work():
    import imitlab.algorithms.adversarial.common as common
    import imitlab.algorithms.adversarial.gail as new
    import imitlab.algorithms.gail as old

    assert (old.GAILConfig, old.train_gail) == (new.GAILConfig, new.train_gail)
    assert (old.expert_inputs, old.terminal_weights) == (common.expert_inputs, common.terminal_weights)


@pytest.fixture(scope="module")
def acrobot_demos():
    from imitlab.data.collect import collect_demos
    from imitlab.experts import load_expert

    return collect_demos(load_expert("zoo", "Acrobot-v1"), "Acrobot-v1", episodes=10, seed=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gail_with_absorbing_states_reaches_the_goal_on_acrobot(acrobot_demos, seed):
    """Acrobot's episodes end at the goal: the task defaults (positive reward + absorbing states,
    the README's advice for such tasks) must reach normalized >= 0.9."""
    result = train_gail(
        env_id="Acrobot-v1", demos=acrobot_demos, total_steps=defaults_for("Acrobot-v1", "gail_steps", None),
        seed=seed, config=gail_config("Acrobot-v1"), eval_every=0, eval_episodes=5,
    )
    assert evaluate(result.policy, "Acrobot-v1", episodes=50, seed=777).normalized_score >= 0.9


def test_discriminator_options_train_and_log(cartpole_demos, tmp_path):
    cfg = gail_config("CartPole-v1", normalize_reward=True, disc_grad_penalty=10.0, disc_entropy_bonus=0.01,
                      disc_epochs=2, reward="logit")
    result = train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=2048, seed=0, config=cfg,
                        out=tmp_path / "run", eval_every=0, eval_episodes=2)
    assert all(torch.isfinite(p).all() for p in result.policy.parameters())
    header = (tmp_path / "run" / "progress.csv").read_text().splitlines()[0].split(",")
    assert {"disc_loss", "disc_expert_acc", "disc_policy_acc", "disc_expert_logit", "disc_policy_logit"} <= set(header)


def test_absorbing_state_adds_its_discounted_tail_at_terminations(cartpole_demos, monkeypatch):
    """The generator gets, at each policy termination, the step's own reward plus exactly
    gamma / (1 - gamma) times the absorbing state's reward, recomputed here from what the
    discriminator said (not through the code under test)."""
    import imitlab.algorithms.adversarial.common as common  # where the rewards are read from the logits
    from imitlab.rl.ppo import PPO

    seen, scored = [], []
    original_update, original_reward = PPO.update, common.gail_reward

    def spy_update(self, batch, rewards):
        seen.append((batch.terminated.copy(), rewards.copy()))
        return original_update(self, batch, rewards)

    def spy_reward(logits, form):
        r = original_reward(logits, form)
        scored.append(r.detach().numpy().astype(np.float64))
        return r

    monkeypatch.setattr(PPO, "update", spy_update)
    monkeypatch.setattr(common, "gail_reward", spy_reward)
    cfg = gail_config("CartPole-v1", absorbing=True, reward="logit", ppo=PPOConfig(gamma=0.9))
    train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=1024, seed=0, config=cfg, eval_every=0, eval_episodes=2)
    term, rewards = seen[0]
    step_rewards, r_abs = scored[0], scored[1]  # one round: the batch's pairs, then the absorbing state
    assert term.any() and r_abs.shape == (1,) and abs(r_abs[0]) > 1e-3
    want = step_rewards.reshape(term.shape) + term * (0.9 / (1 - 0.9)) * r_abs[0]
    np.testing.assert_allclose(rewards, want, rtol=1e-5, atol=1e-5)


def test_subsampled_demos_keep_one_weighted_absorbing_pair_per_terminated_episode(acrobot_demos):
    """10 terminated Acrobot demos subsampled every 20: exactly 10 absorbing expert pairs, each
    drawn 1/20 as often as a kept pair (the chance its episode's last step is kept), though on
    this draw no episode's last step survives (no ``dones`` flag is left)."""
    from imitlab.algorithms.gail import expert_inputs
    from imitlab.discriminator import Discriminator
    from imitlab.envs import env_spaces

    assert sum(t.terminated for t in acrobot_demos.trajectories) == 10
    disc = Discriminator(*env_spaces("Acrobot-v1"), absorbing=True)
    trans = acrobot_demos.subsample(every=20, rng=np.random.default_rng(0))
    assert not trans.dones.any()
    x, p = expert_inputs(disc, trans, absorbing=True)
    n = len(trans)
    assert x.shape[0] == n + 10
    torch.testing.assert_close(x[n:], disc.absorbing_input(10))
    assert (x[:n, -1] == 0).all()
    np.testing.assert_allclose(p[n:] / p[0], np.full(10, 1 / 20))
    assert p.sum() == pytest.approx(1.0)

    # Random pairs: weighted by the fraction of pairs kept; whole demos: weight 1, uniform draws.
    trans = acrobot_demos.subsample(pairs=30, rng=np.random.default_rng(0))
    x, p = expert_inputs(disc, trans, absorbing=True)
    assert x.shape[0] == 30 + 10
    np.testing.assert_allclose(p[30:] / p[0], np.full(10, 30 / acrobot_demos.n_transitions))
    x, p = expert_inputs(disc, acrobot_demos.to_transitions(), absorbing=True)
    assert x.shape[0] == acrobot_demos.n_transitions + 10 and p is None
    assert expert_inputs(disc, trans, absorbing=False)[0].shape[0] == 30


def test_subsampling_records_the_chance_of_keeping_each_terminated_episodes_end():
    from imitlab.data.demos import Demonstrations, Trajectory

    def traj(length, terminated):
        return Trajectory(obs=np.zeros((length + 1, 2), np.float32), acts=np.zeros(length, np.int64),
                          terminated=terminated, truncated=not terminated)

    demos = Demonstrations([traj(50, True), traj(7, True), traj(30, False)], "CartPole-v1", {}, {})
    # A 7-step episode subsampled every 20 keeps one step of 7: its last with chance 1/7.
    every = demos.subsample(every=20, rng=np.random.default_rng(0)).terminated_episode_weights
    np.testing.assert_allclose(every, [1 / 20, 1 / 7])
    pairs = demos.subsample(pairs=29, rng=np.random.default_rng(0)).terminated_episode_weights
    np.testing.assert_allclose(pairs, [29 / 87, 29 / 87])


def test_the_discriminator_sees_weighted_expert_absorbing_pairs_from_subsampled_demos(acrobot_demos, monkeypatch):
    """In training, the expert minibatches hold absorbing pairs at about their weight's rate:
    10 x 1/20 of the 46 kept pairs' weight, ~1% of 1024 draws (none before the fix, on this draw;
    ~18% if they were kept whole)."""
    from imitlab.discriminator import Discriminator

    trans = acrobot_demos.subsample(every=20, rng=np.random.default_rng(0))
    assert len(trans) == 46 and not trans.dones.any()
    calls = []
    original = Discriminator.logits

    def spy(self, x):
        if torch.is_grad_enabled():  # the discriminator's training steps: expert, then policy minibatch
            calls.append(x.detach().clone())
        return original(self, x)

    monkeypatch.setattr(Discriminator, "logits", spy)
    cfg = gail_config("Acrobot-v1", disc_epochs=1)
    train_gail(env_id="Acrobot-v1", demos=trans, total_steps=1024, seed=0, config=cfg, eval_every=0, eval_episodes=1)
    expert_draws = torch.cat(calls[0::2])
    assert len(expert_draws) == 1024
    n_absorbing = int(expert_draws[:, -1].sum())
    assert 2 <= n_absorbing <= 40, n_absorbing


def test_warm_start_from_bc_keeps_the_policy(cartpole_demos):
    from imitlab.algorithms.bc import train_bc

    bc = train_bc(env_id="CartPole-v1", demos=cartpole_demos, seed=0, eval_every=0, eval_episodes=5)
    before = evaluate(bc.policy, "CartPole-v1", episodes=20, seed=5).mean_return
    assert before >= 475
    result = train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=1024, seed=0,
                        config=gail_config("CartPole-v1"), init_policy=bc.policy, eval_every=0, eval_episodes=5)
    assert result.policy is bc.policy
    assert evaluate(result.policy, "CartPole-v1", episodes=20, seed=5).mean_return >= 400


def test_warm_start_from_another_action_space_is_refused(cartpole_demos):
    from imitlab.envs import env_spaces
    from imitlab.policies import make_policy

    other = make_policy(*env_spaces("Acrobot-v1"))
    with pytest.raises(UserError, match="initial policy acts on"):
        train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=100, init_policy=other)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gail_ppo_on_pendulum_reaches_normalized_0_9(seed):
    """Continuous actions: 10 demos of the shipped SAC expert, 100,000 env steps (the bar allows 500,000)."""
    from imitlab.data.collect import collect_demos
    from imitlab.experts import load_expert

    demos = collect_demos(load_expert("zoo", "Pendulum-v1"), "Pendulum-v1", episodes=10, seed=0)
    result = train_gail(env_id="Pendulum-v1", demos=demos, total_steps=100_000, seed=seed,
                        config=gail_config("Pendulum-v1", generator="ppo"), eval_every=0, eval_episodes=5)
    assert evaluate(result.policy, "Pendulum-v1", episodes=50, seed=777).normalized_score >= 0.9

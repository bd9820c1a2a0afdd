import pytest
import torch

from imitlab.algorithms.gail import GAILConfig, train_gail
from imitlab.defaults import defaults_for, gail_config
from imitlab.errors import UserError
from imitlab.evaluation import evaluate


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
    from imitlab.rl.ppo import PPO

    seen = []
    original = PPO.update

    def spy(self, batch, rewards):
        seen.append((batch.terminated.copy(), rewards.copy()))
        return original(self, batch, rewards)

    monkeypatch.setattr(PPO, "update", spy)
    cfg = gail_config("CartPole-v1", absorbing=True, reward="positive")
    train_gail(env_id="CartPole-v1", demos=cartpole_demos, total_steps=1024, seed=0, config=cfg, eval_every=0, eval_episodes=2)
    term, rewards = seen[0]
    assert term.any()
    gamma = cfg.ppo.gamma
    # Positive-form step rewards are softplus(logit) in (0, ~1) at the start; the terminal ones carry
    # gamma / (1 - gamma) times the absorbing state's reward on top, far above any step reward.
    tail = rewards[term].min() - rewards[~term].max()
    assert tail > 0.2 * gamma / (1 - gamma)


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

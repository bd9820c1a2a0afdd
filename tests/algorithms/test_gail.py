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

import pytest

from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import as_expert, load_expert, zoo_path
from imitlab.experts.train import train_expert
from imitlab.rl.ppo import PPOConfig


def test_expert_training_learns_and_is_reproducible():
    cfg = PPOConfig(lr=1e-3)
    a = train_expert(env_id="CartPole-v1", total_steps=20_480, seed=0, config=cfg, eval_every=0, eval_episodes=10)
    b = train_expert(env_id="CartPole-v1", total_steps=20_480, seed=0, config=cfg, eval_every=0, eval_episodes=10)
    for pa, pb in zip(a.policy.parameters(), b.policy.parameters()):
        assert (pa == pb).all()
    # A random policy averages ~20; 20k steps of PPO are far beyond that.
    assert a.final.mean_return > 150


def test_shipped_cartpole_expert_is_an_expert():
    assert zoo_path("CartPole-v1").stat().st_size < 100_000
    assert evaluate(load_expert("zoo", "CartPole-v1"), "CartPole-v1", episodes=50, seed=5).mean_return == 500


def test_callables_are_experts_and_bad_specs_are_refused():
    import numpy as np

    e = as_expert(lambda obs: np.zeros(len(obs), np.int64))
    assert e.act(np.zeros((3, 4))).tolist() == [0, 0, 0]
    with pytest.raises(UserError):
        as_expert(42)
    with pytest.raises(UserError, match="no shipped expert"):
        load_expert("zoo", "MountainCarContinuous-v0")
    with pytest.raises(UserError, match="does not fit Acrobot-v1"):
        load_expert(zoo_path("CartPole-v1"), "Acrobot-v1")


def test_keep_best_returns_the_best_evaluated_weights(tmp_path):
    from imitlab.rl.ppo import PPOConfig

    result = train_expert(env_id="CartPole-v1", total_steps=8192, seed=1, config=PPOConfig(lr=1e-3),
                          eval_every=1024, eval_episodes=5, keep_best=True, out=tmp_path / "run")
    best = max(h["mean_return"] for h in result.history)
    assert result.final.mean_return == best
    # The kept weights are the ones evaluated best: re-evaluating them on the same episodes agrees.
    again = evaluate(result.policy, "CartPole-v1", episodes=5, seed=1 + 10_000)
    assert again.mean_return == best
    import json

    assert json.loads((tmp_path / "run" / "summary.json").read_text())["kept"] == "best evaluation"

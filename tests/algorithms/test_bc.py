import numpy as np
import pytest

from imitlab.algorithms.bc import BCConfig, train_bc
from imitlab.defaults import bc_config
from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import as_expert
from imitlab.data.collect import collect_demos


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bc_reaches_475_on_cartpole_from_10_demos(cartpole_demos, seed):
    result = train_bc(env_id="CartPole-v1", demos=cartpole_demos, seed=seed, config=bc_config("CartPole-v1"), eval_every=0)
    # Evaluate on episodes the training loop never saw.
    assert evaluate(result.policy, "CartPole-v1", episodes=50, seed=777).mean_return >= 475


def test_bc_learns_a_continuous_linear_expert():
    # A callable expert on Pendulum: torque proportional to -angular velocity, clipped.
    expert = as_expert(lambda obs: np.clip(-0.5 * obs[:, 2:3], -2, 2).astype(np.float32))
    demos = collect_demos(expert, "Pendulum-v1", episodes=4, seed=0)
    for loss in ("nll", "mse"):
        result = train_bc(
            env_id="Pendulum-v1", demos=demos, seed=0,
            config=BCConfig(epochs=30, continuous_loss=loss), eval_every=0, eval_episodes=4,
        )
        t = demos.to_transitions()
        pred = result.policy.act(t.obs)
        assert np.abs(pred - t.acts).mean() < 0.05 * np.abs(t.acts).mean() + 0.02


def test_bc_writes_a_run_directory(cartpole_demos, tmp_path):
    train_bc(env_id="CartPole-v1", demos=cartpole_demos.head(2), seed=0, config=BCConfig(epochs=2), out=tmp_path / "run", eval_episodes=5)
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.json", "metrics.csv", "progress.csv", "policy.pt", "summary.json", "tb"} <= names
    from imitlab.runlog import read_config, read_metrics

    rows = read_metrics(tmp_path / "run")
    assert [r["epoch"] for r in rows] == [1, 2]
    config = read_config(tmp_path / "run")
    assert config["seed"] == 0 and "torch" in config["versions"]


def test_bc_rejects_demos_of_another_env(cartpole_demos):
    with pytest.raises(UserError, match="do not fit Pendulum-v1"):
        train_bc(env_id="Pendulum-v1", demos=cartpole_demos)
    with pytest.raises(UserError, match="epochs must be positive"):
        train_bc(env_id="CartPole-v1", demos=cartpole_demos, config=BCConfig(epochs=0))


def test_bc_is_reproducible_from_its_seed(cartpole_demos):
    a = train_bc(env_id="CartPole-v1", demos=cartpole_demos.head(2), seed=3, config=BCConfig(epochs=2), eval_every=0, eval_episodes=2)
    b = train_bc(env_id="CartPole-v1", demos=cartpole_demos.head(2), seed=3, config=BCConfig(epochs=2), eval_every=0, eval_episodes=2)
    for pa, pb in zip(a.policy.parameters(), b.policy.parameters()):
        assert (pa == pb).all()

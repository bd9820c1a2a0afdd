import csv
import json

import numpy as np
import pytest
import torch

from imitlab.algorithms.bc import (
    BCConfig,
    EarlyStopping,
    train_bc,
    validation_scores,
    validation_split,
)
from imitlab.data.collect import collect_demos
from imitlab.defaults import bc_config
from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import as_expert, load_expert


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
    train_bc(env_id="CartPole-v1", demos=cartpole_demos.head(2), seed=0, config=BCConfig(epochs=2), out=tmp_path / "run",
             eval_every=1, eval_episodes=5)
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.json", "metrics.csv", "progress.csv", "policy.pt", "summary.json", "tb"} <= names
    from imitlab.runlog import read_config, read_metrics

    rows = read_metrics(tmp_path / "run")
    assert [r["epoch"] for r in rows] == [1, 2]
    config = read_config(tmp_path / "run")
    assert config["seed"] == 0 and "torch" in config["versions"]
    # Two episodes at the default 0.2: too few to hold out a whole one, so transitions are held out.
    assert config["validation_unit"] == "transitions" and config["n_train"] + config["n_validation"] == 1000
    with open(tmp_path / "run" / "progress.csv", newline="") as f:
        progress = list(csv.DictReader(f))
    assert [int(r["env_steps"]) for r in progress] == [1, 2]
    assert all(float(r["val_loss"]) > 0 and 0 <= float(r["val_error"]) <= 1 for r in progress)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    # 2 epochs are fewer gradient steps than min_steps: no stop, and the latest weights are kept.
    assert (summary["epochs"], summary["kept_epoch"], summary["stopped_early"]) == (2, 2, False)


def test_bc_with_nothing_held_out_trains_every_epoch_and_keeps_the_last(cartpole_demos, tmp_path):
    config = BCConfig(epochs=3, validation_fraction=0, min_steps=0, patience_steps=0, patience=1)
    train_bc(env_id="CartPole-v1", demos=cartpole_demos.head(1), seed=0, config=config, out=tmp_path / "run", eval_episodes=2)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["epochs"], summary["kept_epoch"]) == (3, 3) and "best_val_loss" not in summary
    assert json.loads((tmp_path / "run" / "config.json").read_text())["n_validation"] == 0


def test_bc_rejects_demos_of_another_env(cartpole_demos):
    with pytest.raises(UserError, match="do not fit Pendulum-v1"):
        train_bc(env_id="Pendulum-v1", demos=cartpole_demos)
    with pytest.raises(UserError, match="epochs must be positive"):
        train_bc(env_id="CartPole-v1", demos=cartpole_demos, config=BCConfig(epochs=0))
    for fraction in (-0.1, 1.0):
        with pytest.raises(UserError, match=r"validation_fraction must be in \[0, 1\)"):
            train_bc(env_id="CartPole-v1", demos=cartpole_demos, config=BCConfig(validation_fraction=fraction))


def test_bc_is_reproducible_from_its_seed(cartpole_demos):
    a = train_bc(env_id="CartPole-v1", demos=cartpole_demos.head(2), seed=3, config=BCConfig(epochs=2), eval_every=0, eval_episodes=2)
    b = train_bc(env_id="CartPole-v1", demos=cartpole_demos.head(2), seed=3, config=BCConfig(epochs=2), eval_every=0, eval_episodes=2)
    for pa, pb in zip(a.policy.parameters(), b.policy.parameters()):
        assert (pa == pb).all()


# ------------------------------------------------------------------------- held-out split
def _episode_of(lengths):
    return np.repeat(np.arange(len(lengths)), lengths)


def test_validation_split_holds_out_whole_episodes_deterministically():
    lengths = np.array([200, 150, 200, 180, 200, 90, 200, 200, 120, 200])
    a = validation_split(lengths, int(lengths.sum()), 0.2, seed=3)
    b = validation_split(lengths, int(lengths.sum()), 0.2, seed=3)
    assert a.unit == "episodes"
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.validation, b.validation)
    # Disjoint, sorted, and together every transition exactly once.
    assert not set(a.train) & set(a.validation)
    np.testing.assert_array_equal(np.sort(np.concatenate([a.train, a.validation])), np.arange(lengths.sum()))
    assert (np.diff(a.train) > 0).all() and (np.diff(a.validation) > 0).all()
    # Two of the ten episodes, each whole.
    episode = _episode_of(lengths)
    held = np.unique(episode[a.validation])
    assert len(held) == 2 and not set(held) & set(episode[a.train])
    assert len(a.validation) == lengths[held].sum()
    # The split follows the seed: over a few seeds, more than one pair of episodes is held out.
    pairs = {tuple(np.unique(episode[validation_split(lengths, int(lengths.sum()), 0.2, seed=s).validation]))
             for s in range(6)}
    assert len(pairs) > 1


def test_validation_split_falls_back_to_transitions_and_to_nothing():
    lengths = np.array([200, 200, 200, 200])  # 0.2 of 4 episodes is less than one: transitions
    split = validation_split(lengths, 800, 0.2, seed=0)
    assert split.unit == "transitions" and len(split.validation) == 160
    assert not set(split.train) & set(split.validation) and len(split.train) + len(split.validation) == 800
    # Transitions drawn from all episodes, not one episode's.
    assert len(np.unique(_episode_of(lengths)[split.validation])) == 4
    loose = validation_split(None, 800, 0.2, seed=0)  # transitions whose episodes are unknown
    assert loose.unit == "transitions"
    np.testing.assert_array_equal(loose.validation, validation_split(None, 800, 0.2, seed=0).validation)
    assert not np.array_equal(loose.validation, validation_split(None, 800, 0.2, seed=1).validation)
    for nothing in (validation_split(lengths, 800, 0.0, seed=0), validation_split(None, 1, 0.2, seed=0)):
        assert nothing.unit == "none" and len(nothing.validation) == 0
    # An empty episode is never the one held out.
    split = validation_split(np.array([0, 100, 100, 100, 100, 100]), 500, 0.2, seed=0)
    assert split.unit == "episodes" and len(split.validation) == 100


# -------------------------------------------------------------------------- early stopping
def test_early_stopping_waits_for_patience_and_min_steps_and_keeps_the_best_weights():
    net = torch.nn.Linear(1, 1)

    def run(stopper, scores):
        stops = []
        for epoch, score in enumerate(scores, start=1):
            with torch.no_grad():
                net.weight.fill_(float(epoch))  # the weights say which epoch they are from
            stops.append(stopper.update((score,), epoch=epoch, steps=10 * epoch, policy=net))  # 10 steps an epoch
        return stops

    scores = [1.0, 5.0, 4.0, 3.0, 3.5, 3.5, 3.5, 3.5]
    stopper = EarlyStopping(patience=2, patience_steps=10, min_steps=20)
    stops = run(stopper, scores)
    # Epoch 1's 1.0 comes before min_steps and does not count: the best is epoch 4's 3.0.
    assert stopper.best_epoch == 4 and stopper.best == (3.0,)
    assert stopper.best_state["weight"].item() == 4.0
    assert stops == [False] * 5 + [True] * 3  # epoch 6: 2 epochs and 20 steps without improvement
    # Both patiences must run out: here the steps' (25) binds, at epoch 7.
    assert run(EarlyStopping(patience=1, patience_steps=25, min_steps=20), scores) == [False] * 6 + [True] * 2
    # Later entries only break ties.
    tie = EarlyStopping(patience=1, patience_steps=0, min_steps=0)
    tie.update((0.1, 0.5), epoch=1, steps=1, policy=net)
    tie.update((0.1, 0.4), epoch=2, steps=2, policy=net)
    tie.update((0.2, 0.0), epoch=3, steps=3, policy=net)
    assert tie.best_epoch == 2


def test_bc_stops_early_and_restores_the_best_held_out_weights(tmp_path):
    # Random torques carry nothing to learn: memorising them makes the held-out error grow, so
    # training must stop early, and the weights kept must be the held-out best, not the last.
    rng = np.random.default_rng(0)
    noise = as_expert(lambda obs: rng.uniform(-2, 2, size=(len(obs), 1)).astype(np.float32))
    demos = collect_demos(noise, "Pendulum-v1", episodes=5, seed=0)
    config = BCConfig(epochs=300, min_steps=50, patience=5, patience_steps=20, policy=bc_config("Pendulum-v1").policy)
    result = train_bc(env_id="Pendulum-v1", demos=demos, seed=1, config=config, out=tmp_path / "run", eval_episodes=1)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["stopped_early"] and summary["epochs"] < 300
    with open(tmp_path / "run" / "progress.csv", newline="") as f:
        rows = {int(r["env_steps"]): r for r in csv.DictReader(f)}
    kept, last = summary["kept_epoch"], summary["epochs"]
    assert kept == int(rows[last]["best_epoch"]) and last - kept >= config.patience
    assert float(rows[kept]["val_error"]) < float(rows[last]["val_error"])
    # The returned policy scores on the held-out demos what the kept epoch did, not the last.
    split = validation_split(demos.lengths(), demos.n_transitions, config.validation_fraction, seed=1)
    assert split.unit == "episodes"
    trans = demos.to_transitions()
    obs = torch.as_tensor(trans.obs[split.validation], dtype=torch.float32)
    error, loss = validation_scores(result.policy, obs, torch.as_tensor(trans.acts[split.validation]), "nll")
    assert error == pytest.approx(float(rows[kept]["val_error"]), rel=1e-5)
    assert loss == pytest.approx(float(rows[kept]["val_loss"]), rel=1e-5)
    assert error != pytest.approx(float(rows[last]["val_error"]), rel=1e-3)
    assert summary["best_val_error"] == pytest.approx(error, rel=1e-5)


# ----------------------------------------------------------------------------- learning
@pytest.fixture(scope="module")
def pendulum_demos():
    return collect_demos(load_expert("zoo", "Pendulum-v1"), "Pendulum-v1", episodes=10, seed=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bc_with_default_config_reaches_0_9_on_pendulum_from_10_demos(pendulum_demos, seed):
    # With the old defaults (10 epochs, no early stopping) this scored 0.18, 0.29, 0.31: undertrained.
    # Measured with these defaults: 0.96, 0.97, 0.97 for seeds 0, 1, 2.
    result = train_bc(env_id="Pendulum-v1", demos=pendulum_demos, seed=seed, eval_episodes=1)
    assert evaluate(result.policy, "Pendulum-v1", episodes=50, seed=777).normalized_score >= 0.9

"""``imitlab train`` commands generated from the registry: config options reach the config (the
rest stays the task's), bad values are one line and exit 2, and the interactive learners log
their mixing weight under a name of its own."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest

from imitlab.algorithms.registry import get_algorithm, register
from imitlab.cli import main
from imitlab.defaults import config_for


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def recorded(monkeypatch):
    """Swap the train functions of the registry's entries for one that records its arguments."""
    calls: list[dict] = []

    def record(**kwargs):
        calls.append(kwargs)
        raise SystemExit(0)  # stop before a report is due: the arguments are what is tested

    originals = {}
    for name in ("gail", "dagger", "aggrevated", "bc"):
        originals[name] = get_algorithm(name)
        register(dataclasses.replace(originals[name], train=record), replace=True)
    yield calls
    for spec in originals.values():
        register(spec, replace=True)


def test_options_set_config_fields_and_the_rest_stays_the_tasks(recorded, cartpole_demo_file, tmp_path):
    with pytest.raises(SystemExit):
        main(["train", "gail", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file), "--out", str(tmp_path / "g"),
              "--absorbing", "--disc-updates", "3", "--disc-hidden", "32,16", "--reward", "negative", "--disc-lr", "0.001"])
    (call,) = recorded
    assert call["config"] == config_for("gail", "CartPole-v1", absorbing=True, disc_epochs=3, disc_hidden=(32, 16),
                                        reward="negative", disc_lr=0.001)
    assert call["config"].reinforce.anneal_lr  # the task's nested settings are kept
    assert call["total_steps"] == 50_000 and call["demos"].n_episodes == 10 and call["init_policy"] is None

    recorded.clear()
    with pytest.raises(SystemExit):
        main(["train", "aggrevated", "--env", "Pendulum-v1", "--expert", "zoo", "--out", str(tmp_path / "a"),
              "--lr", "0.01", "--no-per-state-scale", "--rollins", "3"])
    (call,) = recorded
    assert (call["config"].lr, call["config"].per_state_scale, call["config"].num_envs) == (0.01, False, 3)
    assert call["config"].action_samples == 16 and call["config"].init_log_std == -1.5  # Pendulum's own
    assert call["total_steps"] == 30_000 and call["resume"] is False and hasattr(call["expert"], "q")

    recorded.clear()
    with pytest.raises(SystemExit):
        main(["train", "bc", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file), "--out", str(tmp_path / "b"),
              "--epochs", "7", "--continuous-loss", "mse", "--min-steps", "0"])
    (call,) = recorded
    assert (call["config"].epochs, call["config"].continuous_loss, call["config"].min_steps) == (7, "mse", 0)
    assert "checkpoint_every" not in call and "epochs" not in call  # BC's budget is its config's; it does not resume


def test_dagger_takes_subsampled_demos(recorded, cartpole_demo_file, tmp_path):
    with pytest.raises(SystemExit):
        main(["train", "dagger", "--env", "CartPole-v1", "--expert", "zoo", "--demos", str(cartpole_demo_file),
              "--pairs", "30", "--out", str(tmp_path / "d")])
    (call,) = recorded
    assert len(call["demos"]) == 30 and call["total_steps"] == 10_000


@pytest.mark.parametrize("argv, match", [
    (["train", "dagger", "--hidden", "0"], "--hidden"),
    (["train", "dagger", "--hidden", "64,x"], "--hidden"),
    (["train", "dagger", "--continuous-loss", "l1"], "--continuous-loss"),
    (["train", "dagger", "--beta-p", "2"], "--beta-p"),
    (["train", "dagger", "--pairs", "30"], "--pairs needs --demos"),
    (["train", "dagger", "--episodes", "2"], "--episodes needs --demos"),
    (["train", "aggrevated", "--baseline", "median"], "--baseline"),
    (["train", "aggrevated", "--rollins", "0"], "--rollins"),
])
def test_bad_values_are_one_line_and_write_nothing(capsys, tmp_path, argv, match):
    out = tmp_path / "run"
    code, _, err = _run(capsys, *argv, "--env", "CartPole-v1", "--expert", "zoo:dqn", "--steps", "100", "--out", out)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and match in lines[0], err
    assert not out.exists()


def _columns(path):
    with open(path, newline="") as f:
        return next(csv.reader(f))


def test_the_mixing_weights_are_logged_as_mixture_beta_and_mixture_alpha(capsys, tmp_path):
    """``alpha`` is SAC's temperature in the expert learners' logs: the interactive learners' mixing
    weights are ``mixture_beta`` (DAgger) and ``mixture_alpha`` (AggreVaTeD)."""
    common = ["--env", "CartPole-v1", "--expert", "zoo:dqn", "--steps", "200", "--eval-episodes", "1"]
    code, _, err = _run(capsys, "train", "dagger", *common, "--steps-per-round", "100", "--hidden", "16",
                        "--learner-deterministic", "--out", tmp_path / "d")
    assert code == 0, err
    columns = _columns(tmp_path / "d" / "progress.csv")
    assert "mixture_beta" in columns and "beta" not in columns
    config = json.loads((tmp_path / "d" / "config.json").read_text())
    assert (config["hidden"], config["learner_deterministic"]) == ([16], True)
    code, _, err = _run(capsys, "train", "aggrevated", *common, "--rollins", "2", "--horizon", "50", "--out", tmp_path / "a")
    assert code == 0, err
    columns = _columns(tmp_path / "a" / "progress.csv")
    assert "mixture_alpha" in columns and "alpha" not in columns

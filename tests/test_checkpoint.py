"""Checkpoints of expert training: a stopped run continues from its checkpoint with its learner's
state (networks, optimizers, buffers, normalisers, RNGs) and its records intact."""

import csv
import shutil

import pytest
import torch

from imitlab.checkpoint import CHECKPOINT_FILE
from imitlab.cli import main
from imitlab.errors import UserError
from imitlab.experts.train import train_expert
from imitlab.rl.dqn import DQNConfig
from imitlab.rl.ppo import PPOConfig
from imitlab.rl.sac import SACConfig

# (algo, env, config, steps per checkpoint): tiny budgets, one checkpoint in the middle.
CASES = {
    "sac": ("Pendulum-v1", SACConfig(learning_starts=100, batch_size=32), 200),
    "dqn": ("CartPole-v1", DQNConfig(learning_starts=100, batch_size=32), 200),
    "ppo": ("CartPole-v1", PPOConfig(num_envs=4, num_steps=64, normalize_obs=True, normalize_reward=True), 256),
}


def _train(algo, out, steps, **kw):
    env_id, cfg, every = CASES[algo]
    kw.setdefault("config", cfg)
    return train_expert(env_id=env_id, algo=algo, total_steps=steps, seed=3, out=out, eval_every=every,
                        eval_episodes=2, **kw)


def _weights(policy):
    return {k: v.clone() for k, v in policy.state_dict().items()}


def _equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("algo", sorted(CASES))
def test_resume_restores_the_learner_and_continues_reproducibly(algo, tmp_path):
    every = CASES[algo][2]
    first = _train(algo, tmp_path / "a", 2 * every)
    assert (tmp_path / "a" / CHECKPOINT_FILE).is_file()
    saved = _weights(first.policy)

    # Resuming at the checkpoint's own step trains nothing: the weights are the checkpoint's.
    again = _train(algo, tmp_path / "a", 2 * every, resume=True)
    assert _equal(_weights(again.policy), saved)

    # Two copies resumed from one checkpoint go on identically, and not from scratch.
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    a = _train(algo, tmp_path / "a", 4 * every, resume=True)
    b = _train(algo, tmp_path / "b", 4 * every, resume=True)
    assert _equal(_weights(a.policy), _weights(b.policy))
    assert not _equal(_weights(a.policy), saved)
    assert [h["env_steps"] for h in a.history] == [every, 2 * every, 3 * every, 4 * every]
    assert a.train_seconds > first.train_seconds
    if algo == "ppo":
        assert a.policy.obs_std.ne(1).all()  # the running statistics were carried over and kept moving


def test_resume_drops_records_written_after_the_checkpoint(tmp_path):
    run = tmp_path / "run"
    _train("sac", run, 400)
    # As if the run had gone on past its checkpoint before it stopped:
    with open(run / "metrics.csv", "a") as f:
        f.write("500,,9.9,-1.0,0.0,0.5\n")
    _train("sac", run, 600, resume=True)
    with open(run / "metrics.csv", newline="") as f:
        steps = [int(row["env_steps"]) for row in csv.DictReader(f)]
    assert steps == [200, 400, 600]
    assert '"resumed_at": [\n    400\n  ]' in (run / "config.json").read_text()


def test_resume_refuses_other_settings_and_missing_checkpoints(tmp_path):
    _train("sac", tmp_path / "run", 200)
    with pytest.raises(UserError, match="different settings \\(batch_size\\)"):
        _train("sac", tmp_path / "run", 400, resume=True, config=SACConfig(learning_starts=100, batch_size=64))
    with pytest.raises(UserError, match="no checkpoint.pt"):
        _train("sac", tmp_path / "empty", 400, resume=True)


def test_cli_resume_errors_exit_2_and_say_what_to_do(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["expert", "train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "2048", "--eval-every", "1024",
            "--out", str(out)]
    assert main(base) == 0
    assert main(base) == 2
    assert "--resume continues that run" in capsys.readouterr().err
    assert main([*base[:7], "4096", *base[8:], "--resume"]) == 0
    assert [row["env_steps"] for row in csv.DictReader(open(out / "metrics.csv"))] == ["1024", "2048", "3072", "4096"]
    assert main([*base[:-1], str(tmp_path / "nothing"), "--resume"]) == 2
    assert "no checkpoint.pt" in capsys.readouterr().err


def test_a_run_checkpoints_its_last_step_too(tmp_path):
    from imitlab.checkpoint import load_checkpoint

    _train("dqn", tmp_path / "run", 300)  # checkpoints every 200 steps, and at the end
    assert load_checkpoint(tmp_path / "run")["step"] == 300


# --------------------------------------------------------------- hostile checkpoints (issue #10)
def _state():
    return {"step": 256, "config": {"algo": "expert-ppo", "lr": 3e-4}, "learner": {
        "policy": {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "flag": torch.tensor([True, False])},
        "rng": {"state": 2**100 + 7, "inc": 3}, "history": [1.5, None, "x", (1, 2)], "empty": torch.zeros(0)}}


def test_a_checkpoint_loads_back_exactly_what_was_saved(tmp_path):
    from imitlab.checkpoint import load_checkpoint, save_checkpoint

    save_checkpoint(tmp_path, _state())
    state = load_checkpoint(tmp_path)
    assert "digest" not in state and state["learner"]["rng"]["state"] == 2**100 + 7
    assert torch.equal(state["learner"]["policy"]["w"], _state()["learner"]["policy"]["w"])


@pytest.mark.parametrize("edit", [
    lambda s: s["learner"]["policy"].__setitem__("w", s["learner"]["policy"]["w"].double()),
    lambda s: s["learner"]["policy"].__setitem__("w", s["learner"]["policy"]["w"].reshape(3, 2)),
    lambda s: s["learner"]["policy"]["w"].__setitem__((0, 0), float("nan")),
    lambda s: s["learner"]["policy"].__setitem__("v", s["learner"]["policy"].pop("w")),
    lambda s: s["learner"].pop("empty"),
    lambda s: s["learner"]["history"].__setitem__(0, 1.5000000001),
    lambda s: s.__setitem__("step", 257),
    lambda s: s.pop("digest"),
], ids=["dtype", "shape", "nan", "renamed", "dropped", "float", "int", "no-digest"])
def test_an_edited_checkpoint_is_refused(tmp_path, edit):
    # The loops restore their state without checking it: a changed value must not reach them.
    from imitlab.checkpoint import load_checkpoint, save_checkpoint

    path = save_checkpoint(tmp_path, _state())
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)
    with pytest.raises(UserError, match="does not match its digest"):
        load_checkpoint(tmp_path)


def test_damaged_and_old_checkpoints_are_refused_in_one_line(tmp_path):
    from imitlab.checkpoint import load_checkpoint, save_checkpoint

    path = save_checkpoint(tmp_path, _state())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    with pytest.raises(UserError, match="not a zip archive"):
        load_checkpoint(tmp_path)
    state = {**_state(), "format": "imitlab.checkpoint", "version": 1}  # as imitlab wrote them before digests
    torch.save(state, path)
    with pytest.raises(UserError, match="checkpoint version 1; this imitlab reads version 2") as e:
        load_checkpoint(tmp_path)
    assert "\n" not in str(e.value) and "without --resume" in str(e.value)

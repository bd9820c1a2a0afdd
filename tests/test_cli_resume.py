"""``--resume`` on the imitation commands: a stopped run continues from its checkpoint with the
same command, a finished one extends with a larger budget, and misuse is one line, exit 2."""

import csv

import pytest

from imitlab.cli import main


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def cartpole_demos(tmp_path_factory):
    path = tmp_path_factory.mktemp("demos") / "demos.npz"
    assert main(["demos", "collect", "--env", "CartPole-v1", "--expert", "zoo", "--episodes", "2", "--out", str(path)]) == 0
    return path


COMMANDS = {
    "dagger": ["train", "dagger", "--env", "CartPole-v1", "--expert", "zoo", "--steps-per-round", "256",
               "--eval-every", "256", "--eval-episodes", "1"],
    "aggrevated": ["train", "aggrevated", "--env", "CartPole-v1", "--expert", "zoo:dqn", "--rollins", "4",
                   "--horizon", "64", "--eval-every", "256", "--eval-episodes", "1"],
    "gail": ["train", "gail", "--env", "CartPole-v1", "--demos", "{demos}", "--eval-every", "1024", "--eval-episodes", "1"],
    "gail-offline": ["train", "gail-offline", "--env", "CartPole-v1", "--demos", "{demos}", "--eval-every", "50",
                     "--eval-episodes", "1"],
}
BUDGETS = {"dagger": ("--steps", 256, 512), "aggrevated": ("--steps", 256, 512), "gail": ("--steps", 1024, 2048),
           "gail-offline": ("--iterations", 50, 100)}


@pytest.mark.parametrize("algo", sorted(COMMANDS))
def test_resume_extends_a_run_from_its_checkpoint(tmp_path, cartpole_demos, algo, capsys):
    args = [a.replace("{demos}", str(cartpole_demos)) for a in COMMANDS[algo]]
    flag, first, total = BUDGETS[algo]
    run = tmp_path / "run"
    assert main([*args, flag, str(first), "--out", str(run)]) == 0
    assert (run / "checkpoint.pt").is_file()
    # the same command again would start over: refused, pointing at --resume
    assert main([*args, flag, str(first), "--out", str(run)]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*args, flag, str(total), "--out", str(run), "--resume"]) == 0
    position = "epoch" if algo == "gail-offline" else "env_steps"
    evaluations = [int(float(r[position])) for r in _rows(run / "metrics.csv")]
    assert evaluations == sorted(set(evaluations)) and evaluations[-1] == total  # none twice, to the new end
    # resumed without a budget: the run's own (already reached), so nothing more is trained
    assert main([*args, "--out", str(run), "--resume"]) == 0
    assert [int(float(r[position])) for r in _rows(run / "metrics.csv")][-1] == total


@pytest.mark.parametrize("extra, message", [
    (["--resume", "--overwrite"], "drop --overwrite"),
    (["--resume"], "no checkpoint.pt"),
])
def test_resume_misuse_is_one_line(tmp_path, capsys, extra, message):
    code = main([*COMMANDS["dagger"], "--steps", "256", "--out", str(tmp_path / "none"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "none").exists()


def test_an_expert_run_resumed_at_or_past_its_budget_saves_its_checkpoints_policy(tmp_path):
    """How a long expert run stopped part-way is shipped (the Walker2d-v5 zoo file): ``--resume``
    with ``--steps`` at or below the checkpoint's step trains nothing and writes that checkpoint's
    actor and critic as policy.pt."""
    import torch

    args = ["expert", "train", "--env", "Pendulum-v1", "--algo", "sac", "--eval-every", "300", "--eval-episodes", "1",
            "--out", str(tmp_path / "run")]
    assert main([*args, "--steps", "600"]) == 0
    saved = torch.load(tmp_path / "run" / "policy.pt", weights_only=True)
    (tmp_path / "run" / "policy.pt").unlink()
    rows = _rows(tmp_path / "run" / "metrics.csv")
    assert main([*args, "--steps", "300", "--resume"]) == 0
    again = torch.load(tmp_path / "run" / "policy.pt", weights_only=True)
    assert _rows(tmp_path / "run" / "metrics.csv") == rows  # nothing trained or evaluated again
    assert all(torch.equal(saved["state_dict"][k], again["state_dict"][k]) for k in saved["state_dict"])
    assert all(torch.equal(saved["critic"]["state_dict"][k], again["critic"]["state_dict"][k]) for k in saved["critic"]["state_dict"])

"""``imitlab video``: what a user runs, through main(), with --out."""

import os

import numpy as np
import pytest

from imitlab.cli import cli, main
from imitlab.cli.video import video_cmd

imageio = pytest.importorskip("imageio.v3")


@pytest.fixture(autouse=True)
def registered():
    # Until the lead adds the command to the group in imitlab/cli/__init__.py (then this does nothing).
    if "video" not in cli.commands:
        cli.add_command(video_cmd)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_video_prints_each_episode_return_and_writes_the_frames(capsys, tmp_path):
    out = tmp_path / "cartpole.gif"
    code, stdout, err = run(capsys, "video", "--env", "CartPole-v1", "--policy", "zoo", "--episodes", "2", "--seed", "3",
                            "--max-steps", "40", "--out", str(out))
    assert code == 0, err
    lines = stdout.splitlines()
    assert lines[0] == "episode 1 (seed 3): zoo return 40.0 over 40 steps (cut at --max-steps)"
    assert lines[1] == "episode 2 (seed 4): zoo return 40.0 over 40 steps (cut at --max-steps)"
    assert lines[2].startswith(f"mean return 40.0 over 2 episodes; wrote {out} (42 frames, 600x424, 25 fps)")
    frames = np.asarray(imageio.imread(out))
    assert frames.shape == (42, 424, 600, 3)  # per episode: reset + every 2nd of 40 steps
    assert os.listdir(tmp_path) == ["cartpole.gif"]


def test_compare_zoo_prints_both_returns_in_one_wide_video(capsys, tmp_path):
    out = tmp_path / "vs.mp4"
    code, stdout, err = run(capsys, "video", "--env", "CartPole-v1", "--policy", "random", "--compare", "zoo",
                            "--max-steps", "100", "--out", str(out))
    assert code == 0, err
    first = stdout.splitlines()[0]
    assert first.startswith("episode 1 (seed 0): random return ") and first.endswith(
        "; zoo return 100.0 over 100 steps (cut at --max-steps)")
    assert np.asarray(imageio.imread(out, index=0)).shape == (424, 1200, 3)


@pytest.mark.parametrize("argv, message", [
    (["--env", "CartPole-v1", "--policy", "zoo", "--out", "v.avi"], "cannot write a .avi"),
    (["--env", "Acrobot-v1", "--policy", "zoo:dqn", "--out", "v.mp4"], "no shipped dqn expert for Acrobot-v1"),
    (["--env", "NoSuchEnv-v0", "--policy", "random", "--out", "v.mp4"], "unknown environment 'NoSuchEnv-v0'"),
    (["--env", "CartPole-v1", "--policy", "random", "--compare", "nowhere/policy.pt", "--out", "v.mp4"], "not found"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run(capsys, "video", *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []


def test_a_policy_trained_for_another_env_is_refused(capsys, tmp_path):
    from imitlab.experts import zoo_path

    policy = tmp_path / "cartpole.pt"
    policy.write_bytes(zoo_path("CartPole-v1").read_bytes())
    code, _, err = run(capsys, "video", "--env", "Pendulum-v1", "--policy", str(policy), "--out", str(tmp_path / "v.mp4"))
    assert code == 2 and "does not fit Pendulum-v1" in err
    assert os.listdir(tmp_path) == ["cartpole.pt"]

"""``imitlab reward show``: the picture and the correlations, and its refusals."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitlab.cli import main
from imitlab.rewards import save_reward
from imitlab.rewards.nets import RewardNet


def _pendulum_reward(tmp_path, *, upright_is_good: bool):
    """A state-only reward for Pendulum-v1 set by hand: cos(angle) (upright best), or its negative."""
    env = gym.make("Pendulum-v1")
    net = RewardNet(env.observation_space, env.action_space, hidden=(), state_only=True)
    with torch.no_grad():
        net.net[0].weight.zero_()
        net.net[0].weight[0, 0] = 1.0 if upright_is_good else -1.0
        net.net[0].bias.zero_()
    path = tmp_path / "reward.pt"
    save_reward(net, path, env_id="Pendulum-v1", obs_space=env.observation_space, act_space=env.action_space, gamma=0.95,
                extra={"algo": "test"})
    return path


@pytest.mark.parametrize("upright_is_good", [True, False])
def test_show_draws_and_measures_the_reward(tmp_path, capsys, upright_is_good):
    path = _pendulum_reward(tmp_path, upright_is_good=upright_is_good)
    png = tmp_path / "reward.png"
    assert main(["reward", "show", str(path), "--out", str(png), "--random-steps", "2000", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    corr = report["reward_correlation"]
    # Pendulum's true reward is -(angle^2 + 0.1 velocity^2 + 0.001 torque^2): cos(angle) follows it, -cos(angle) opposes it.
    sign = 1 if upright_is_good else -1
    assert sign * corr["random"]["pearson"] > 0.5 and sign * corr["expert"]["pearson"] > 0.5
    assert corr["expert"]["transitions"] == 2000  # 10 episodes of the shipped expert, 200 steps each


def test_show_refuses_bad_options_with_one_line(tmp_path, capsys):
    path = _pendulum_reward(tmp_path, upright_is_good=True)
    for argv, match in ((["--out", str(tmp_path / "r.jpg")], "PNG"), (["--out", str(tmp_path / "r.png"), "--dims", "0"], "two observation"),
                        (["--out", str(tmp_path / "r.png"), "--dims", "0,7"], "0..2")):
        code = main(["reward", "show", str(path), *argv, "--random-steps", "100"])
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert code == 2 and len(err) == 1 and match in err[0], err
    assert not list(tmp_path.glob("r.*"))


def test_show_draws_two_chosen_dimensions_of_any_env(tmp_path, capsys):
    env = gym.make("Acrobot-v1")
    net = RewardNet(env.observation_space, env.action_space, state_only=True)
    path = tmp_path / "reward.pt"
    save_reward(net, path, env_id="Acrobot-v1", obs_space=env.observation_space, act_space=env.action_space)
    png = tmp_path / "r.png"
    assert main(["reward", "show", str(path), "--out", str(png), "--dims", "0,4", "--random-steps", "500"]) == 0
    out = capsys.readouterr().out
    assert "random states undefined" in out  # Acrobot's reward is -1 on every step
    from matplotlib.image import imread

    img = imread(png)
    assert img.shape[1] > 1.8 * img.shape[0]  # two panels side by side: heatmap and scatter
    assert np.ptp(img[..., :3]) > 0.5

"""reward.pt: what a reward file refuses, and where a reward meets the wrong env (one line, exit 2, nothing written)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitlab.cli import main
from imitlab.errors import UserError
from imitlab.rewards import load_reward, save_reward
from imitlab.rewards.nets import RewardNet

CARTPOLE_OBS = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)


def _reward_file(tmp_path, env_id="CartPole-v1", obs_space=None, act_space=None, **kw):
    obs_space = obs_space or gym.make(env_id).observation_space
    act_space = act_space or gym.make(env_id).action_space
    path = tmp_path / f"{env_id}-reward.pt"
    save_reward(RewardNet(obs_space, act_space, **kw), path, env_id=env_id, obs_space=obs_space, act_space=act_space,
                gamma=0.99)
    return path


def _one_line_refusal(capsys, argv, out, match):
    code = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and err[0].startswith("imitlab: error:") and match in err[0], err
    assert not out.exists()


def test_train_rl_refuses_a_reward_of_another_env(tmp_path, capsys):
    path = _reward_file(tmp_path, "Acrobot-v1")
    out = tmp_path / "rl"
    _one_line_refusal(capsys, ["train", "rl", "--env", "CartPole-v1", "--reward", str(path), "--steps", "100", "--out", str(out)],
                      out, "learned on Acrobot-v1, not CartPole-v1")


def test_train_rl_refuses_a_reward_of_other_spaces(tmp_path, capsys):
    # Recorded for CartPole-v1 but with 5 observation dimensions (as if the env had changed)
    obs5 = gym.spaces.Box(-np.inf, np.inf, (5,), np.float32)
    path = _reward_file(tmp_path, "CartPole-v1", obs_space=obs5)
    out = tmp_path / "rl"
    _one_line_refusal(capsys, ["train", "rl", "--env", "CartPole-v1", "--reward", str(path), "--steps", "100", "--out", str(out)],
                      out, "observation shape (5,) vs (4,)")


@pytest.mark.parametrize("text, match", [('{"g": 15', "not valid JSON"), ("[1, 2]", "not an object"),
                                         ('{"gravity": 15}', "does not take the env kwargs")])
def test_malformed_env_kwargs_are_one_line(tmp_path, capsys, text, match):
    path = _reward_file(tmp_path, "Pendulum-v1")
    out = tmp_path / "rl"
    _one_line_refusal(capsys, ["train", "rl", "--env", "Pendulum-v1", "--reward", str(path), "--steps", "100", "--out", str(out),
                               "--env-kwargs", text], out, match)


def test_a_gail_run_has_no_reward(tmp_path):
    (tmp_path / "policy.pt").write_bytes(b"")
    with pytest.raises(UserError, match="only IRL runs"):
        load_reward(tmp_path)


def _tamper(path, **changes):
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    torch.save(payload, path)


@pytest.mark.parametrize("changes, match", [
    ({"state_only": False}, "says state_only=False"),
    ({"format": "imitlab-policy"}, "not an imitlab reward file"),
    ({"kind": "lambda"}, "unknown reward kind"),
    ({"gamma": 1.5}, "outside [0, 1)"),
    ({"absorbing_reward": float("nan")}, "not a finite number"),
    ({"config": {"hidden": [64, 64], "state_only": True}}, "config has keys"),
    ({"config": {"hidden": [10**9], "state_only": True, "absorbing": False}}, "not a list of layer sizes"),
    ({"version": 99}, "newer imitlab"),
])
def test_damaged_reward_files_are_refused_with_one_line(tmp_path, changes, match):
    path = _reward_file(tmp_path)
    _tamper(path, **changes)
    with pytest.raises(UserError, match=match.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        load_reward(path)


def test_weights_that_do_not_fit_are_refused(tmp_path):
    path = _reward_file(tmp_path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["net.0.weight"] = torch.zeros(3, 3)
    torch.save(payload, path)
    with pytest.raises(UserError, match="do not fit"):
        load_reward(path)


def test_a_reward_used_under_other_env_kwargs_warns(tmp_path):
    from imitlab.envs.vector import env_kwargs

    reward = load_reward(_reward_file(tmp_path, "Pendulum-v1"))
    reward.check_env("Pendulum-v1")  # as learned: silent
    with env_kwargs("Pendulum-v1", {"g": 12.0}), pytest.warns(UserWarning, match="reward transfer"):
        reward.check_env("Pendulum-v1")

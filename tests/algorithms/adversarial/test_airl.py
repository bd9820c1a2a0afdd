"""AIRL end to end through the CLI: it imitates, it writes a reward that loads, and the reward,
re-optimised from scratch by ``imitlab train rl`` with the env's reward never shown, is the task's."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from imitlab.cli import main
from imitlab.rewards import load_reward


@pytest.fixture(scope="module")
def acrobot(tmp_path_factory):
    root = tmp_path_factory.mktemp("airl")
    demos = root / "demos.npz"
    assert main(["demos", "collect", "--env", "Acrobot-v1", "--expert", "zoo", "--episodes", "10", "--seed", "0",
                 "--out", str(demos)]) == 0
    run = root / "airl"
    # A third of the task's budget: the score settles by 20k steps (0.98 at 20k on seed 0 with the full budget).
    assert main(["train", "airl", "--env", "Acrobot-v1", "--demos", str(demos), "--steps", "51200", "--seed", "0",
                 "--eval-every", "0", "--out", str(run)]) == 0
    return root, demos, run


def test_airl_imitates_acrobot_and_writes_its_reward(acrobot):
    _, demos, run = acrobot
    summary = json.loads((run / "summary.json").read_text())
    assert summary["final_eval"]["normalized_score"] >= 0.9
    reward = load_reward(run)
    assert reward.env_id == "Acrobot-v1" and reward.state_only and reward.absorbing_reward is not None
    assert reward.gamma == pytest.approx(0.99)
    # The learned reward ranks the expert's states above a random policy's.
    from imitlab.data.demos import load_demos
    from imitlab.envs.vector import make_vec_env

    trans = load_demos(demos).to_transitions()
    venv = make_vec_env("Acrobot-v1", 8)
    obs, rng, random_obs = venv.reset(seed=1), np.random.default_rng(0), []
    for _ in range(100):
        random_obs.append(obs)
        obs = venv.step(rng.integers(0, 3, 8))[0]
    random_obs = np.concatenate(random_obs)
    expert_r = reward(trans.obs, trans.acts).mean()
    random_r = reward(random_obs, np.zeros(len(random_obs), np.int64)).mean()
    assert expert_r > random_r


def test_train_rl_on_the_airl_reward_alone_solves_acrobot(acrobot, monkeypatch):
    root, _, run = acrobot
    out = root / "rl"
    seen: list[float] = []
    import imitlab.rewards.env as reward_env

    original = reward_env.LearnedRewardVecEnv.step

    def spy(self, actions):  # the learner must never see the env's own reward (-1 per step)
        step = original(self, actions)
        seen.extend(step[1].tolist())
        return step

    monkeypatch.setattr(reward_env.LearnedRewardVecEnv, "step", spy)
    assert main(["train", "rl", "--env", "Acrobot-v1", "--reward", str(run), "--algo", "ppo", "--steps", "30720",
                 "--eval-every", "0", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final_eval"]["normalized_score"] >= 0.9
    config = json.loads((out / "config.json").read_text())
    assert config["reward"]["algo"] == "airl" and config["reward"]["state_only"] is True
    assert seen and not np.allclose(seen, -1.0)


def test_reward_round_trip_gives_the_same_values(tmp_path):
    import gymnasium as gym

    from imitlab.rewards import save_reward
    from imitlab.rewards.nets import RewardNet

    obs_space, act_space = gym.spaces.Box(-5, 5, (3,), np.float32), gym.spaces.Box(-2, 2, (1,), np.float32)
    torch.manual_seed(0)
    net = RewardNet(obs_space, act_space, state_only=False, hidden=(8,), obs_mean=np.ones(3), obs_std=np.full(3, 2.0))
    save_reward(net, tmp_path / "reward.pt", env_id="Pendulum-v1", obs_space=obs_space, act_space=act_space, gamma=0.95,
                env_kwargs={"g": 12.0})
    loaded = load_reward(tmp_path / "reward.pt")
    obs, acts = np.random.default_rng(0).normal(size=(7, 3)), np.random.default_rng(1).normal(size=(7, 1))
    with torch.no_grad():
        want = net(torch.as_tensor(obs, dtype=torch.float32), torch.as_tensor(acts, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(loaded(obs, acts), want, rtol=1e-6)
    assert loaded.env_kwargs == {"g": 12.0} and not loaded.state_only and loaded.absorbing_reward is None
    assert loaded.terminal_bonus(0.9) == 0.0

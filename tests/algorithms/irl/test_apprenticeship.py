import csv
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from imitlab.algorithms.irl.apprenticeship import ApprenticeshipConfig, feature_expectations, train_apprenticeship
from imitlab.cli import main
from imitlab.errors import UserError
from imitlab.rewards import load_reward
from imitlab.rewards.linear import LinearReward


def test_apprenticeship_learns_cartpole_from_the_cli(cartpole_demo_file, tmp_path):
    """The task defaults (50,000 env steps) on seed 0, as a user runs them: normalized >= 0.9
    (measured 1.0 on seeds 0-2 with 50 episodes), the gap curve, reward.pt, the kept policies."""
    out = tmp_path / "run"
    status = main(["train", "apprenticeship", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file), "--seed", "0",
                   "--out", str(out), "--eval-every", "0", "--eval-episodes", "20"])
    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final_eval"]["normalized_score"] >= 0.9
    assert 45_000 <= summary["env_steps"] <= 56_000  # RL phases leave room for the mu roll-outs
    gaps = summary["feature_gap"]
    assert len(gaps) == summary["iterations"] + 1 >= 4
    # the projection never moves mu_bar away from mu_E, and the first RL step closes most of the gap
    assert all(b <= a + 1e-9 for a, b in zip(gaps, gaps[1:]))
    assert gaps[-1] < 0.3 * gaps[0]
    lam = np.array(summary["mixture_weights"])
    assert lam.min() >= 0 and lam.sum() == pytest.approx(1.0) and len(lam) == len(gaps)
    assert summary["mixture_gap"] <= min(summary["mu_distance"]) + 1e-9
    assert summary["mu_distance"][summary["best_iteration"]] == min(summary["mu_distance"])
    # CartPole's reward is 1 on every step: no correlation to give, and the summary says so
    assert summary["reward_correlation"]["expert"]["pearson"] is None
    assert (out / "feature_gap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (out / "policies").iterdir()) == [f"iteration_{i:03d}.pt" for i in range(len(gaps))]
    with open(out / "progress.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["feature_gap"]]
    assert [float(r["feature_gap"]) for r in rows] == pytest.approx(gaps)
    # the reward: a unit w whose absorbing entry (a fall, which the expert never makes) is negative
    reward = load_reward(out)
    assert reward.meta["kind"] == "linear" and reward.gamma == pytest.approx(0.995)
    assert reward.absorbing_reward < 0
    assert float(reward.module.weight.norm()) == pytest.approx(1.0, abs=1e-5)


def test_bad_inputs_are_one_line_and_write_nothing(cartpole_demo_file, tmp_path, capsys):
    for extra in (["--subsample-every", "20"], ["--no-include-state", "--n-fourier", "0"]):
        out = tmp_path / "run"
        status = main(["train", "apprenticeship", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file),
                       "--out", str(out), "--steps", "1000", *extra])
        assert status == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "needs whole expert episodes" in err and "has no features" in err


def test_validation(cartpole_demos):
    with pytest.raises(UserError, match="total_steps must be positive"):
        train_apprenticeship(env_id="CartPole-v1", demos=cartpole_demos, total_steps=0)
    with pytest.raises(UserError, match="unknown generator"):
        train_apprenticeship(env_id="CartPole-v1", demos=cartpole_demos, total_steps=10,
                             config=ApprenticeshipConfig(generator="sac"))  # type: ignore[arg-type]
    with pytest.raises(UserError, match="recorded in CartPole-v1 .* do not fit Acrobot-v1"):
        train_apprenticeship(env_id="Acrobot-v1", demos=cartpole_demos, total_steps=10)


def test_feature_expectations_count_the_absorbing_state_after_terminations_only():
    import gymnasium as gym

    r = LinearReward(gym.spaces.Box(-np.inf, np.inf, (2,), np.float32), None, n_fourier=4)
    gamma = 0.9
    terminated = SimpleNamespace(obs=np.zeros((4, 2), np.float32), terminated=True)  # 3 steps, then the goal
    truncated = SimpleNamespace(obs=np.zeros((4, 2), np.float32), terminated=False)
    mean, per_episode = feature_expectations(r, [terminated, truncated], gamma)
    phi0 = r.features(torch.zeros(1, 2))[0].numpy()
    steps = (1 + gamma + gamma**2) * phi0
    np.testing.assert_allclose(per_episode[1], steps, rtol=1e-6)
    np.testing.assert_allclose(per_episode[0][:-1], steps[:-1], rtol=1e-6)
    assert per_episode[0][-1] == pytest.approx(gamma**3 / (1 - gamma))
    np.testing.assert_allclose(mean, per_episode.mean(0))


def test_a_user_feature_function_trains_and_its_weights_go_to_the_summary(cartpole_demos, tmp_path):
    calls = []

    def features(obs: np.ndarray) -> np.ndarray:
        calls.append(obs.shape)
        return np.concatenate([obs, obs**2], axis=1)

    cfg = ApprenticeshipConfig(steps_per_iteration=1024, mu_episodes=2)
    result = train_apprenticeship(env_id="CartPole-v1", demos=cartpole_demos, total_steps=3000, seed=1, config=cfg,
                                  features=features, out=tmp_path / "run", eval_every=0, eval_episodes=2)
    assert calls and all(shape[1] == 4 for shape in calls)
    assert not (tmp_path / "run" / "reward.pt").exists()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["reward_file"] is None and len(summary["reward_weights"]) == 4 + 4 + 1
    assert np.linalg.norm(summary["reward_weights"]) == pytest.approx(1.0, abs=1e-6)
    assert result.reward is not None and result.reward.feature_dim == 9


def test_same_seed_same_run(cartpole_demos):
    cfg = ApprenticeshipConfig(steps_per_iteration=1024, mu_episodes=2, n_fourier=8)
    runs = [train_apprenticeship(env_id="CartPole-v1", demos=cartpole_demos, total_steps=2500, seed=3, config=cfg,
                                 eval_every=0, eval_episodes=2) for _ in range(2)]
    for a, b in zip(runs[0].policy.state_dict().values(), runs[1].policy.state_dict().values()):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(runs[0].reward.weight, runs[1].reward.weight)


def test_the_reward_written_is_the_step_weighted_mean_the_kept_or_the_last_w():
    from imitlab.algorithms.irl.apprenticeship import chosen_reward

    used = [(np.array([1.0, 0.0]), 3000), (np.array([0.0, 1.0]), 1000)]
    last = np.array([0.0, -2.0])
    np.testing.assert_allclose(chosen_reward("mean", used, last, 2), np.array([3.0, 1.0]) / np.sqrt(10.0))
    np.testing.assert_allclose(chosen_reward("kept", used, last, 2), [0.0, 1.0])
    np.testing.assert_allclose(chosen_reward("kept", used, last, 0), [1.0, 0.0])  # the initial policy: the first w
    np.testing.assert_allclose(chosen_reward("last", used, last, 2), [0.0, -1.0])
    np.testing.assert_allclose(chosen_reward("mean", [], last, 0), [0.0, -1.0])
    with pytest.raises(UserError, match="unknown reward_from"):
        chosen_reward("best", used, last, 0)

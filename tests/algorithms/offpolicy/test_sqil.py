"""SQIL end to end through the CLI: with rewards 1 on demonstrations and 0 on its own steps, and
never the env's reward, it imitates CartPole-v1; its rewards and absorbing tail on known numbers."""

from __future__ import annotations

import json

import pytest
import torch

from imitlab.cli import main
from imitlab.rl.replay import ReplayBatch


def test_sqil_rewards_and_the_absorbing_tail():
    from imitlab.algorithms.offpolicy.sqil import sqil_rewards

    batch = ReplayBatch(obs=torch.zeros(3, 2), acts=torch.zeros(3), next_obs=torch.zeros(3, 2),
                        terminated=torch.tensor([0.0, 1.0, 0.0]))
    torch.testing.assert_close(sqil_rewards(batch, 1.0, absorbing=False, gamma=0.9), torch.ones(3))
    # at a true termination the expert keeps its reward 1 forever after: 1 + 0.9 / 0.1
    torch.testing.assert_close(sqil_rewards(batch, 1.0, absorbing=True, gamma=0.9), torch.tensor([1.0, 10.0, 1.0]))
    torch.testing.assert_close(sqil_rewards(batch, 0.0, absorbing=True, gamma=0.9), torch.zeros(3))


def test_sqil_imitates_cartpole(tmp_path, monkeypatch):
    demos = tmp_path / "demos.npz"
    assert main(["demos", "collect", "--env", "CartPole-v1", "--expert", "zoo", "--episodes", "10", "--seed", "0",
                 "--out", str(demos)]) == 0
    # The learner never sees the env's reward: the loop's buffer stores none.
    from imitlab.rl import replay

    original = replay.ReplayBuffer.add

    def no_env_rewards(self, *args, rews=None, **kw):
        assert rews is None
        return original(self, *args, rews=rews, **kw)

    monkeypatch.setattr(replay.ReplayBuffer, "add", no_env_rewards)
    out = tmp_path / "run"
    # A quarter of the task's budget (5,000 steps: seeds 0 / 1 / 2 all 1.000 over 20 episodes).
    assert main(["train", "sqil", "--env", "CartPole-v1", "--demos", str(demos), "--steps", "5000", "--seed", "0",
                 "--eval-every", "0", "--eval-episodes", "20", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final_eval"]["normalized_score"] >= 0.9
    assert json.loads((out / "config.json").read_text())["alpha"] == pytest.approx(0.1)  # the task's defaults


def test_float64_demo_actions_train_a_continuous_learner(tmp_path):
    """Demos built from float64 arrays meet the agent's float32 replay in one batch."""
    import numpy as np

    from imitlab.algorithms.offpolicy.sqil import SQILConfig, train_sqil
    from imitlab.data.demos import Transitions

    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, (64, 3)).astype(np.float32)
    trans = Transitions(obs, rng.uniform(-2, 2, (64, 1)), obs, np.zeros(64, bool))
    assert trans.acts.dtype == np.float64
    result = train_sqil(env_id="Pendulum-v1", demos=trans, total_steps=80, seed=0, eval_every=0, eval_episodes=1,
                        config=SQILConfig(hidden=(16, 16), batch_size=16, learning_starts=40))
    assert result.final is not None

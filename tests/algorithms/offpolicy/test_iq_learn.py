"""IQ-Learn end to end through the CLI: offline from one demo it imitates CartPole-v1 and Acrobot-v1
without a single env step of training, and it writes the recovered reward as a reward.pt that the
reward commands read; online it runs, checkpoints and resumes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from imitlab.cli import main
from imitlab.rewards import load_reward


@pytest.fixture(scope="module")
def one_demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("iq")

    def make(env_id: str):
        path = root / f"{env_id}.npz"
        if not path.exists():
            assert main(["demos", "collect", "--env", env_id, "--expert", "zoo", "--episodes", "1", "--seed", "0",
                         "--out", str(path)]) == 0
        return path

    return root, make


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Acrobot-v1"])
def test_offline_iq_learn_imitates_from_one_demo(one_demo, env_id):
    root, make = one_demo
    out = root / f"off-{env_id}"
    # Two thirds of the task's 3,000 updates (seed 0 at 2,000: CartPole 0.99, Acrobot 0.99).
    assert main(["train", "iq-learn-offline", "--env", env_id, "--demos", str(make(env_id)), "--iterations", "2000",
                 "--seed", "0", "--eval-every", "0", "--eval-episodes", "20", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["offline"] is True and summary["updates"] == 2000
    assert summary["final_eval"]["normalized_score"] >= 0.85
    config = json.loads((out / "config.json").read_text())
    from imitlab.defaults import config_for

    assert config["offline"] is True and config["alpha"] == config_for("iq-learn-offline", env_id).alpha  # the task's


def test_reward_pt_is_the_implied_reward_of_the_learned_q(one_demo):
    """reward.pt holds r(s, a) = Q(s, a) - gamma E[V(s')] of the run's own soft Q-network, fitted
    where the data is (offline: the expert's pairs), and the reward commands read it."""
    import torch

    from imitlab.data.demos import load_demos
    from imitlab.losses import soft_value
    from imitlab.policies import load_policy

    root, make = one_demo
    out = root / "reward-acrobot"
    assert main(["train", "iq-learn", "--offline", "--env", "Acrobot-v1", "--demos", str(make("Acrobot-v1")),
                 "--steps", "1500", "--alpha", "0.1", "--seed", "1", "--eval-every", "0", "--eval-episodes", "5",
                 "--out", str(out)]) == 0
    reward = load_reward(out)
    assert reward.env_id == "Acrobot-v1" and not reward.state_only and reward.gamma == pytest.approx(0.99)
    qnet, _ = load_policy(out / "policy.pt")
    trans = load_demos(make("Acrobot-v1")).to_transitions()
    with torch.no_grad():
        next_v = soft_value(qnet.q_values(torch.as_tensor(trans.next_obs)), 0.1)
        implied = qnet.q(torch.as_tensor(trans.obs), torch.as_tensor(trans.acts)) - 0.99 * (
            1 - torch.as_tensor(trans.dones).float()) * next_v
    fitted = reward(trans.obs, trans.acts)
    assert np.corrcoef(fitted, implied.numpy())[0, 1] >= 0.8
    assert main(["reward", "show", str(out), "--out", str(root / "reward.png")]) == 0

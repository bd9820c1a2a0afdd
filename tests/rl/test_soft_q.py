"""The soft Q-learner: Boltzmann actions at the softmax's odds, TD steps that fit their target,
a state that round-trips."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from imitlab.policies import QPolicy
from imitlab.rl.replay import ReplayBatch
from imitlab.rl.soft_q import SoftQ


def _learner(alpha: float = 1.0, seed: int = 0) -> SoftQ:
    torch.manual_seed(seed)
    qnet = QPolicy(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2), (16,))
    return SoftQ(qnet, alpha=alpha, lr=1e-2, gamma=0.9, tau=1.0, max_grad_norm=10.0, seed=seed)


def test_boltzmann_actions_follow_softmax_of_q_over_alpha():
    learner = _learner(alpha=0.5)
    with torch.no_grad():
        learner.qnet.net[-1].weight.zero_()
        learner.qnet.net[-1].bias.copy_(torch.tensor([0.0, 0.5]))  # Q = (0, 0.5) everywhere
    acts = learner.act(np.zeros((20_000, 3), np.float32))
    p1 = np.exp(1.0) / (1 + np.exp(1.0))  # softmax((0, 0.5) / 0.5)
    assert abs(acts.mean() - p1) < 0.015
    torch.testing.assert_close(learner.value(torch.zeros(1, 3)), torch.tensor([0.5 * np.log(1 + np.exp(1.0))], dtype=torch.float32))


def test_td_steps_fit_a_terminal_reward():
    learner = _learner()
    obs = torch.randn(64, 3)
    batch = ReplayBatch(obs=obs, acts=torch.zeros(64, dtype=torch.int64), rews=torch.full((64,), 2.0),
                        next_obs=obs, terminated=torch.ones(64))
    for _ in range(300):
        stats = learner.td_step(batch)
    assert stats["td_loss"] < 1e-2 and abs(stats["q"] - 2.0) < 0.1
    assert learner.updates == 300


def test_state_round_trips():
    a, b = _learner(seed=0), _learner(seed=1)
    a.td_step(ReplayBatch(obs=torch.randn(8, 3), acts=torch.ones(8, dtype=torch.int64), rews=torch.ones(8),
                          next_obs=torch.randn(8, 3), terminated=torch.zeros(8)))
    b.load_state_dict(a.state_dict())
    obs = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    np.testing.assert_array_equal(a.act(obs), b.act(obs))
    assert b.updates == 1

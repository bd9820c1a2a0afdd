"""Temporal-difference value learning: DQN's Huber loss and double-Q targets.

Pure functions: each takes tensors or arrays and returns a value, holding no state, so each is
tested on known numbers (tests/losses/test_value.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def huber_td_loss(q: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """DQN's temporal-difference loss with the Huber (smooth L1) penalty, which clips the gradient
    of large errors to +-1 (Mnih et al. 2015, "Human-level control through deep RL")."""
    return F.smooth_l1_loss(q, target)


def double_q_target(
    rews: torch.Tensor, terminated: torch.Tensor, next_q_online: torch.Tensor, next_q_target: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Double DQN target (van Hasselt et al. 2016, arXiv:1509.06461): the online network picks the
    next action, the target network values it, ``r + gamma * (1 - terminated) * Q_target(s', argmax_a Q_online(s', a))``.

    ``next_q_*`` are [B, n_actions]. Only a true termination cuts the bootstrap, not a time limit.
    """
    best = next_q_online.argmax(-1, keepdim=True)
    return rews + gamma * (1.0 - terminated) * next_q_target.gather(-1, best).squeeze(-1)

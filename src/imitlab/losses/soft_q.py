"""Soft (maximum-entropy) actor-critic: SAC's critic target, actor and temperature losses.

Pure functions: each takes tensors or arrays and returns a value, holding no state, so each is
tested on known numbers (tests/losses/test_soft_q.py)."""

from __future__ import annotations

import torch


def sac_q_target(
    rews: torch.Tensor, terminated: torch.Tensor, next_q: torch.Tensor, next_logp: torch.Tensor, alpha: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Soft Bellman target of SAC (Haarnoja et al. 2018, arXiv:1812.05905):
    ``r + gamma * (1 - terminated) * (min_i Q_target_i(s', a') - alpha * log pi(a'|s'))``, a' ~ pi(.|s')."""
    return rews + gamma * (1.0 - terminated) * (next_q - alpha * next_logp)


def sac_actor_loss(q: torch.Tensor, logp: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """SAC's policy loss ``E[alpha * log pi(a|s) - Q(s, a)]`` with a reparameterised a ~ pi(.|s)
    (Haarnoja et al. 2018, eq. 7 of arXiv:1812.05905)."""
    return (alpha * logp - q).mean()


def sac_alpha_loss(log_alpha: torch.Tensor, logp: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """Automatic entropy tuning (Haarnoja et al. 2018, eq. 18 of arXiv:1812.05905): raises alpha
    when the policy's entropy ``-log pi`` falls below ``target_entropy``, lowers it above.
    Written in log alpha, the usual parameterisation, so alpha stays positive."""
    return -(log_alpha * (logp.detach() + target_entropy)).mean()

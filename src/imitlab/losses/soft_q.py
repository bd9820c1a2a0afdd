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


def soft_value(q_values: torch.Tensor, alpha: float) -> torch.Tensor:
    """The soft state value of discrete actions, ``V(s) = alpha * log sum_a exp(Q(s, a) / alpha)``
    (Haarnoja et al. 2017, arXiv:1702.08165, eq. 4): the value of the Boltzmann policy
    ``pi(a|s) = exp((Q(s, a) - V(s)) / alpha)``, entropy bonus included. ``q_values`` is [B, n]; returns [B]."""
    return alpha * torch.logsumexp(q_values / alpha, dim=-1)


def soft_td_target(rews: torch.Tensor, terminated: torch.Tensor, next_v: torch.Tensor, gamma: float) -> torch.Tensor:
    """Soft Q-learning's target ``r + gamma * (1 - terminated) * V(s')`` (Haarnoja et al. 2017;
    SQIL, Reddy et al. 2019, arXiv:1905.11108, eq. 1, with r = 1 on demonstrations and 0 on the agent's own steps)."""
    return rews + gamma * (1.0 - terminated) * next_v


def iq_learn_loss(
    expert_reward: torch.Tensor, value_gap: torch.Tensor, reg_reward: torch.Tensor, chi2_alpha: float
) -> torch.Tensor:
    """Inverse soft-Q learning's critic loss (Garg et al. 2021, arXiv:2106.12142, eq. 10 with the
    chi-squared divergence), to minimise:

    ``-E_expert[r_Q(s, a)] + E_rho[V(s) - gamma V(s')] + E_reg[r_Q(s, a)^2] / (4 chi2_alpha)``,

    where ``r_Q(s, a) = Q(s, a) - gamma (1 - terminated) V(s')`` is the reward the soft Q-function
    implies (the inverse Bellman operator). The second term is the paper's telescoped form of
    ``(1 - gamma) E_{s0}[V(s0)]`` over any state distribution rho (expert states offline, expert and
    policy states online), which needs no initial states. The last term is the concave conjugate of the
    chi-squared divergence, ``phi(r) = r - r^2 / (4 alpha)``, read on both expert and policy pairs as
    the paper recommends for stability; it keeps the implied rewards bounded.

    Args:
        expert_reward: r_Q at expert pairs, [B_E].
        value_gap: V(s) - gamma (1 - terminated) V(s') at the states of rho, [B_rho].
        reg_reward: r_Q at the pairs the regulariser reads, [B_reg].
        chi2_alpha: the divergence's alpha (0.5 in the paper: a weight of 1/2 on the squares).
    """
    return -expert_reward.mean() + value_gap.mean() + reg_reward.square().mean() / (4.0 * chi2_alpha)

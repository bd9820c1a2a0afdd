"""Policy-gradient surrogates and the KL divergences that bound a step (PPO, TRPO).

Pure functions: each takes tensors or arrays and returns a value, holding no state, so each is
tested on known numbers (tests/losses/test_policy_gradient.py)."""

from __future__ import annotations

import torch


def ppo_clip_loss(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, clip: float) -> torch.Tensor:
    """PPO's clipped surrogate objective, negated for minimisation (Schulman et al. 2017, arXiv:1707.06347)."""
    ratio = torch.exp(logp - old_logp)
    return -torch.min(ratio * adv, ratio.clamp(1.0 - clip, 1.0 + clip) * adv).mean()


def categorical_kl(old_logits: torch.Tensor, new_logits: torch.Tensor) -> torch.Tensor:
    """KL(old || new) per row between categorical distributions given by logits."""
    old_logp = torch.log_softmax(old_logits, -1)
    return (old_logp.exp() * (old_logp - torch.log_softmax(new_logits, -1))).sum(-1)


def gaussian_kl(
    old_mean: torch.Tensor, old_log_std: torch.Tensor, new_mean: torch.Tensor, new_log_std: torch.Tensor
) -> torch.Tensor:
    """KL(old || new) per row between diagonal Gaussians, summed over dimensions. (The KL between
    two tanh-squashed Gaussians equals that of their pre-squash Gaussians: tanh is a bijection.)"""
    var_ratio = torch.exp(2 * (old_log_std - new_log_std))
    return (0.5 * (var_ratio + (old_mean - new_mean).square() * torch.exp(-2 * new_log_std) - 1) + new_log_std - old_log_std).sum(-1)

"""Behavioral cloning's losses: cross-entropy, Gaussian negative log-likelihood, squared error.

Pure functions: each takes tensors or arrays and returns a value, holding no state, so each is
tested on known numbers (tests/losses/test_bc.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bc_discrete_loss(logits: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
    """Behavioral cloning for discrete actions: cross-entropy to the expert's action (Pomerleau 1991)."""
    return F.cross_entropy(logits, acts.long())


def bc_nll_loss(log_probs: torch.Tensor) -> torch.Tensor:
    """Behavioral cloning for continuous actions: negative log-likelihood of the expert's actions
    under the policy (maximum likelihood); ``log_probs`` are the policy's log pi(a_expert | s)."""
    return -log_probs.mean()


def bc_mse_loss(mean: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
    """Behavioral cloning for continuous actions: squared error of the policy's deterministic
    action, both in the unit action space."""
    return (acts - mean).square().sum(-1).mean()

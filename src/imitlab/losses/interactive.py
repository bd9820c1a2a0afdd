"""Interactive imitation with the expert's cost-to-go: AggreVaTeD's losses.

Pure functions: each takes tensors or arrays and returns a value, holding no state, so each is
tested on known numbers (tests/losses/test_interactive.py)."""

from __future__ import annotations

import torch


def aggrevated_discrete_loss(logits: torch.Tensor, q_values: torch.Tensor) -> torch.Tensor:
    """AggreVaTeD's loss for discrete actions, exact over the action set: the expected cost-to-go
    ``E_{a~pi(.|s)}[-Q*(s, a)] = -sum_a pi(a|s) Q*(s, a)``, averaged over the visited states.

    AggreVaTe (Ross & Bagnell 2014, arXiv:1406.5979) reduces imitation to cost-sensitive learning
    on the expert's cost-to-go; AggreVaTeD (Sun et al. 2017, arXiv:1703.01030) makes it a
    differentiable policy loss, computed here exactly by summing over actions instead of sampling.
    ``q_values`` ([B, n_actions], no gradient) may be shifted by any per-state constant (an
    advantage) and scaled without moving the minimiser: ``sum_a pi(a|s) = 1``.
    """
    return -(torch.softmax(logits, -1) * q_values).sum(-1).mean()


def aggrevated_continuous_loss(log_probs: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """AggreVaTeD's likelihood-ratio loss for continuous actions (Sun et al. 2017, arXiv:1703.01030,
    eq. 7): ``-log pi(a|s) * A*(s, a)`` averaged over actions a sampled from the policy at visited
    states, with A*(s, a) = Q*(s, a) - V*(s) the expert's advantage (normalised by the caller).
    Its gradient is the REINFORCE estimate of the gradient of ``E_{a~pi}[-Q*(s, a)]``."""
    return -(log_probs * advantages).mean()

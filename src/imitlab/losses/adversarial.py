"""Adversarial imitation: the discriminator's loss and regularisers, AIRL's logit, and the rewards read from logits (GAIL, AIRL, DAC).

Pure functions: each takes tensors or arrays and returns a value, holding no state, so each is
tested on known numbers (tests/losses/test_adversarial.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(expert_logits: torch.Tensor, policy_logits: torch.Tensor) -> torch.Tensor:
    """GAIL's discriminator loss (Ho & Ermon 2016, arXiv:1606.03476): binary cross-entropy with
    D = sigmoid(logit) = probability that (s, a) is the expert's; expert pairs labelled 1,
    policy pairs 0, each half weighted equally whatever the batch sizes."""
    return F.binary_cross_entropy_with_logits(
        expert_logits, torch.ones_like(expert_logits)
    ) + F.binary_cross_entropy_with_logits(policy_logits, torch.zeros_like(policy_logits))


def bernoulli_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean entropy of Bernoulli(sigmoid(logits)); a discriminator entropy bonus keeps it from
    growing over-confident (as in the `imitation` library's GAIL)."""
    p = torch.sigmoid(logits)
    return (F.softplus(logits) - p * logits).mean()


def gradient_penalty(critic, expert_x: torch.Tensor, policy_x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """``E[(||grad_x critic(x)|| - 1)^2]`` at random interpolates of expert and policy inputs
    (Gulrajani et al. 2017, arXiv:1704.00028; used for GAIL's discriminator by Kostrikov et al.
    2019, DAC). ``critic`` maps encoded inputs [B, d] to logits [B]."""
    n = min(len(expert_x), len(policy_x))
    eps = torch.rand(n, 1, generator=generator)
    x = (eps * expert_x[:n] + (1 - eps) * policy_x[:n]).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return (grad.norm(dim=-1) - 1).square().mean()


def airl_logit(
    g: torch.Tensor, h: torch.Tensor, h_next: torch.Tensor, logp: torch.Tensor, gamma: float, cont: torch.Tensor
) -> torch.Tensor:
    """AIRL's discriminator logit (Fu et al. 2018, arXiv:1710.11248, eq. 4):
    ``f(s, a, s') - log pi(a|s)`` with ``f = g(s[, a]) + gamma * h(s') - h(s)``, so that
    D = exp(f) / (exp(f) + pi(a|s)) = sigmoid(f - log pi).

    ``g`` is the reward approximator, ``h`` the shaping potential at s and at s'. ``cont`` [B] is 0
    where s' is a true terminal state (nothing follows it, so h(s') does not count) and 1 elsewhere
    (a time-limit truncation still has a future; so does the absorbing state, which follows itself).
    The generator's reward is this logit, ``log D - log(1 - D)``: an entropy-regularised reward
    whose optimum is the expert's policy."""
    return g + gamma * cont * h_next - h - logp


REWARD_FORMS = ("positive", "negative", "logit")


def gail_reward(logits: torch.Tensor, form: str) -> torch.Tensor:
    """The imitation reward from discriminator logits, D = sigmoid(logits), computed stably.

    - ``positive``: ``-log(1 - D) = softplus(logit) > 0``. A survival bonus: every step earns
      reward, so agents learn to prolong episodes (right for CartPole-like tasks, wrong where
      reaching a goal ends the episode).
    - ``negative``: ``log D = -softplus(-logit) < 0``. A per-step cost: agents learn to end
      episodes early.
    - ``logit``: ``log D - log(1 - D) = logit``, the AIRL form (Fu et al. 2018), no sign bias.
    """
    if form == "positive":
        return F.softplus(logits)
    if form == "negative":
        return -F.softplus(-logits)
    if form == "logit":
        return logits
    raise ValueError(f"unknown reward form {form!r}; choose one of {REWARD_FORMS}")


def absorbing_tail(r_absorbing: float, gamma: float) -> float:
    """The discounted return of sitting in the absorbing state forever after a true termination
    (Kostrikov et al. 2019, DAC), seen from the terminal transition:
    ``sum_{k>=1} gamma**k * r_absorbing = gamma / (1 - gamma) * r_absorbing``. It starts one step
    after the terminal transition, whose own reward is counted as usual, hence ``gamma`` on top."""
    return gamma / (1.0 - gamma) * r_absorbing

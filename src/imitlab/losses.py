"""Pure loss and estimator functions, each with the paper it comes from.

Every function takes tensors or arrays and returns a value; none holds state or touches a network
beyond what it is handed, so each can be tested on known numbers.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def gae(
    rews: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    *,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalized advantage estimation (Schulman et al. 2016, arXiv:1506.02438), [T, N] arrays.

    ``next_values[t]`` is V of the state transition t led to (the true final state at an episode's
    end). A terminated transition bootstraps from 0; a truncated one from ``next_values`` (the time
    limit is not part of the task, Pardo et al. 2018). Either way the advantage does not flow back
    across the episode boundary, so the first step of the next episode never leaks into this one.

    Returns:
        ``(advantages, returns)`` where ``returns = advantages + values`` (the value targets).
    """
    T = rews.shape[0]
    adv = np.zeros_like(rews, dtype=np.float32)
    not_term = 1.0 - terminated.astype(np.float32)
    cont = 1.0 - (terminated | truncated).astype(np.float32)
    deltas = rews + gamma * next_values * not_term - values
    last = np.zeros_like(rews[0], dtype=np.float32)
    for t in range(T - 1, -1, -1):
        last = deltas[t] + gamma * lam * cont[t] * last
        adv[t] = last
    return adv, adv + values


def ppo_clip_loss(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, clip: float) -> torch.Tensor:
    """PPO's clipped surrogate objective, negated for minimisation (Schulman et al. 2017, arXiv:1707.06347)."""
    ratio = torch.exp(logp - old_logp)
    return -torch.min(ratio * adv, ratio.clamp(1.0 - clip, 1.0 + clip) * adv).mean()


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


def discriminator_loss(expert_logits: torch.Tensor, policy_logits: torch.Tensor) -> torch.Tensor:
    """GAIL's discriminator loss (Ho & Ermon 2016, arXiv:1606.03476): binary cross-entropy with
    D = sigmoid(logit) = probability that (s, a) is the expert's; expert pairs labelled 1,
    policy pairs 0, each half weighted equally whatever the batch sizes."""
    return F.binary_cross_entropy_with_logits(
        expert_logits, torch.ones_like(expert_logits)
    ) + F.binary_cross_entropy_with_logits(policy_logits, torch.zeros_like(policy_logits))


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

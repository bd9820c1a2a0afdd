"""Returns and advantages: GAE (Schulman et al. 2016), discounted reward-to-go, advantage normalisation.

Pure functions: each takes tensors or arrays and returns a value, holding no state, so each is
tested on known numbers (tests/losses/test_returns.py)."""

from __future__ import annotations

import numpy as np
import torch


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


def discounted_returns(
    rews: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    next_values: np.ndarray,
    *,
    gamma: float,
) -> np.ndarray:
    """Discounted reward-to-go within each episode, [T, N] arrays (Williams 1992, REINFORCE).

    ``G_t = r_t + gamma * G_{t+1}``, restarted at every episode end so no return ever crosses into
    the next episode: 0 after a termination, ``next_values`` after a time-limit truncation and after
    the last step of the batch (pass zeros for plain Monte-Carlo returns cut at those points).
    """
    T = rews.shape[0]
    out = np.zeros_like(rews, dtype=np.float32)
    cut = truncated.copy()
    cut[-1] = True  # the batch ends mid-episode: bootstrap (or cut) there
    following = np.zeros_like(rews[0], dtype=np.float32)
    for t in range(T - 1, -1, -1):
        tail = np.where(cut[t], next_values[t], following)
        following = rews[t] + gamma * np.where(terminated[t], 0.0, tail)
        out[t] = following
    return out


def normalize_advantages(adv: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale advantages to unit standard deviation over the batch (their per-state mean is already
    removed by the baseline), so one learning rate fits any reward scale."""
    return adv / (adv.std() + eps)

"""How a learned reward compares with the env's own: Pearson and Spearman correlation on the
expert's transitions and on a random policy's (:func:`reward_correlation`, which every IRL run's
summary records as ``reward_correlation``).

A transition's learned reward is what an RL learner sees for it: ``r(s, a)``, plus at a true
termination the discounted return of the absorbing state forever after (``terminal_bonus``,
``gamma / (1 - gamma) * r_absorbing``) for rewards learned with absorbing states. The env's reward
is the one recorded with the transition. Correlation is undefined where either side is constant
(CartPole's reward is 1 on every step: its information is all in when episodes end); such an entry
is None, with a note saying which side is constant.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from imitlab.data.demos import Demonstrations, Transitions
from imitlab.envs.vector import make_vec_env
from imitlab.errors import UserError
from imitlab.rewards import LoadedReward, reward_values


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's correlation of ``x`` and ``y``; None where either is constant (or fewer than 2 points)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or _constant(x) or _constant(y):
        return None
    xc, yc = x - x.mean(), y - y.mean()
    r = float(xc @ yc / math.sqrt(float(xc @ xc) * float(yc @ yc)))
    return max(-1.0, min(1.0, r))


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0 .. n-1 of ``x``, ties given their average rank (as Spearman's correlation needs)."""
    x = np.asarray(x)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    new_group = np.r_[True, xs[1:] != xs[:-1]]
    group = np.cumsum(new_group) - 1
    counts = np.bincount(group)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    out = np.empty(len(x))
    out[order] = (starts + (counts - 1) / 2.0)[group]
    return out


def spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman's rank correlation (Pearson's of the ranks); None where either is constant."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or _constant(x) or _constant(y):
        return None
    return pearson(ranks(x), ranks(y))


def _constant(x: np.ndarray) -> bool:
    # relative: a learned reward that differs only in float rounding is constant
    return float(np.ptp(x)) <= 1e-9 * max(1.0, float(np.abs(x).max()))


def correlation_entry(learned: np.ndarray, true: np.ndarray) -> dict[str, Any]:
    """``{"transitions", "pearson", "spearman"}`` of one set of transitions (and ``note`` where undefined)."""
    entry: dict[str, Any] = {"transitions": int(len(true)), "pearson": pearson(learned, true), "spearman": spearman(learned, true)}
    if entry["pearson"] is None:
        sides = [name for name, x in (("the true reward", true), ("the learned reward", learned))
                 if len(x) > 1 and _constant(np.asarray(x, np.float64))]
        verb = "is" if len(sides) == 1 else "are"
        entry["note"] = f"{' and '.join(sides)} {verb} constant" if sides else "too few transitions"
    return entry


def _expert_transitions(demos: Demonstrations) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The demos' (obs, acts, env rewards, terminated) per step; None if they carry no rewards."""
    trajs = [t for t in demos.trajectories if len(t)]
    if not trajs or any(t.rews is None for t in trajs):
        return None
    obs = np.concatenate([t.obs[:-1] for t in trajs]).astype(np.float32)
    acts = np.concatenate([t.acts for t in trajs])
    rews = np.concatenate([np.asarray(t.rews, np.float64) for t in trajs])
    term = np.concatenate([(np.arange(len(t)) == len(t) - 1) & t.terminated for t in trajs])
    return obs, acts, rews, term


def random_transitions(env_id: str, steps: int, *, seed: int, num_envs: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """About ``steps`` transitions of a uniform-random policy in ``env_id``: (obs, acts, env rewards, terminated)."""
    venv = make_vec_env(env_id, num_envs)
    space = venv.single_action_space
    space.seed(seed)
    obs = venv.reset(seed=seed)
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    try:
        for _ in range(max(1, -(-steps // num_envs))):
            acts = np.stack([space.sample() for _ in range(num_envs)])
            # the first return is what the policy acts on next (already reset where an episode ended)
            acting_obs, rew, term, _trunc, _final_obs = venv.step(acts)
            rows.append((obs.copy(), acts, np.asarray(rew, np.float64), np.asarray(term, bool)))
            obs = acting_obs
    finally:
        venv.close()
    return tuple(np.concatenate([r[i] for r in rows]) for i in range(4))  # type: ignore[return-value]


def reward_correlation(
    reward: Any,
    env_id: str,
    demos: Demonstrations | Transitions | None,
    *,
    seed: int = 0,
    random_steps: int = 5000,
    terminal_bonus: float | None = None,
) -> dict[str, Any]:
    """Pearson and Spearman correlation of a learned reward with ``env_id``'s true reward.

    Args:
        reward: a :class:`~imitlab.rewards.LoadedReward` (checked against ``env_id``), or a reward
            module (any callable on float32 observations [B, d] and actions [B, ...] tensors that
            returns rewards [B], e.g. a reward kind of :data:`~imitlab.rewards.REWARD_KINDS`).
        env_id: the env whose reward is the truth (made with the active env kwargs).
        demos: the expert's demonstrations, which carry the env's rewards (None, transitions, or
            demos recorded without rewards: no expert entry).
        seed: seeds the random policy and its env resets.
        random_steps: transitions of the uniform-random policy to compare on (0: none).
        terminal_bonus: added to the learned reward of each transition into a true termination
            (default: a LoadedReward's ``terminal_bonus(gamma)``, a module's 0).

    Returns:
        ``{"expert": E, "random": E, "all": E, "terminal_bonus": float}`` where each ``E`` is
        ``{"transitions": n, "pearson": r or None, "spearman": rho or None}`` (with ``note`` where
        undefined), or None where that set is empty (the demos carry no rewards, ``random_steps`` 0).
    """
    if isinstance(reward, LoadedReward):
        reward.check_env(env_id)
        if terminal_bonus is None:
            terminal_bonus = reward.terminal_bonus(reward.gamma) if reward.gamma is not None else 0.0
        module = reward.module
    else:
        module = reward
    bonus = float(terminal_bonus or 0.0)
    if random_steps < 0:
        raise UserError(f"random_steps must be >= 0, got {random_steps}")

    def learned(obs: np.ndarray, acts: np.ndarray, term: np.ndarray) -> np.ndarray:
        return reward_values(module, obs, acts) + bonus * term

    sets: dict[str, tuple[np.ndarray, np.ndarray] | None] = {"expert": None, "random": None}
    expert = _expert_transitions(demos) if isinstance(demos, Demonstrations) else None
    if expert is not None:
        obs, acts, rews, term = expert
        sets["expert"] = (learned(obs, acts, term), rews)
    if random_steps:
        obs, acts, rews, term = random_transitions(env_id, random_steps, seed=seed)
        sets["random"] = (learned(obs, acts, term), rews)
    present = [s for s in sets.values() if s is not None]
    out: dict[str, Any] = {name: None if s is None else correlation_entry(*s) for name, s in sets.items()}
    out["all"] = (correlation_entry(np.concatenate([s[0] for s in present]), np.concatenate([s[1] for s in present]))
                  if present else None)
    out["terminal_bonus"] = bonus
    return out


__all__ = ["correlation_entry", "pearson", "random_transitions", "ranks", "reward_correlation", "spearman"]

"""Exact dynamic programming on tabular MDPs (numpy, vectorised over states and actions).

Every function takes the reward as a table R[s, a] and the dynamics as the *continuation* tensor
C[s, a, s'] = P(s' | s, a) for transitions that do not end the episode
(:attr:`imitlab.envs.tabular.TabularMDP.continuation`): nothing follows a termination, so a
terminal transition's value is its reward alone. Two settings:

- discounted, infinite horizon (``horizon=0``, ``gamma`` < 1): stationary values and policies;
- finite horizon ``H`` (``horizon=H``, any ``gamma`` <= 1, e.g. an env's time limit): arrays
  indexed by the step t = 0 .. H-1, ``[t]`` having H - t steps left; an episode is cut after H steps.

Soft (maximum-entropy) value iteration (Ziebart et al. 2008, 2010) replaces the max over actions
by ``temperature * logsumexp(Q / temperature)``; its policy is pi(a|s) = exp((Q(s,a) - V(s)) / temperature),
the maximum causal entropy policy of the reward. :func:`state_visitation` gives the expected
discounted visits of a policy, the other half of maximum-entropy IRL's gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from imitlab.errors import UserError

DENSE_SOLVE_MAX_STATES = 3000
"""Up to this many states, stationary visitation and policy evaluation solve the linear system
exactly; beyond it they iterate to a tolerance (a dense solve is cubic in the states)."""


@dataclass(frozen=True)
class Solution:
    """Values and policy of a (soft) value iteration.

    Stationary (discounted): ``q`` [S, A], ``v`` [S], ``log_pi`` [S, A]. Finite horizon H: ``q`` and
    ``log_pi`` [H, S, A], ``v`` [H + 1, S] (``v[H]`` = 0, the value after the last step).
    ``log_pi`` is the soft policy's log-probabilities (soft iteration), or the uniform policy over
    the optimal actions with -inf elsewhere (hard iteration, :func:`optimal_actions` deciding ties).
    """

    q: np.ndarray
    v: np.ndarray
    log_pi: np.ndarray
    iterations: int

    @property
    def first_q(self) -> np.ndarray:
        """Q at the first step [S, A] (the stationary Q when discounted)."""
        return self.q if self.q.ndim == 2 else self.q[0]

    @property
    def first_log_pi(self) -> np.ndarray:
        """The policy at the first step [S, A] (the stationary policy when discounted): the one a
        stationary policy file keeps."""
        return self.log_pi if self.log_pi.ndim == 2 else self.log_pi[0]


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with a x = b (float64). Solved by torch, whose LAPACK runs on torch's threads (imitlab sets
    one): numpy's OpenBLAS starts a thread per core, and where the cores are busy its threads spin
    (a 100 x 100 solve measured 0.13 ms on one thread, 0.6 to 3 ms on two busy cores)."""
    return torch.linalg.solve(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)).numpy()


def _check(reward: np.ndarray, continuation: np.ndarray, gamma: float, horizon: int) -> tuple[int, int]:
    S, A = reward.shape
    if continuation.shape != (S, A, S):
        raise ValueError(f"continuation has shape {continuation.shape}, the reward {reward.shape}: need [S, A, S]")
    if horizon < 0:
        raise UserError(f"horizon must be >= 0 (0: discounted, infinite horizon), got {horizon}")
    if not 0 <= gamma <= 1 or (horizon == 0 and gamma >= 1):
        raise UserError(f"gamma must be in [0, 1) for an infinite horizon and in [0, 1] for a finite one, got {gamma} "
                        f"with horizon {horizon}")
    return S, A


def backup(reward: np.ndarray, continuation: np.ndarray, v: np.ndarray, gamma: float) -> np.ndarray:
    """Q[s, a] = R[s, a] + gamma * sum_s' C[s, a, s'] V[s'] (one Bellman backup) [S, A]."""
    S, A = reward.shape
    return reward + gamma * (continuation.reshape(S * A, S) @ v).reshape(S, A)


def soft_max(q: np.ndarray, temperature: float) -> np.ndarray:
    """``temperature * logsumexp(q / temperature)`` over the last axis, computed stably."""
    m = q.max(-1)
    return m + temperature * np.log(np.exp((q - m[..., None]) / temperature).sum(-1))


def optimal_actions(q: np.ndarray, *, rtol: float = 1e-6, atol: float = 1e-9) -> np.ndarray:
    """Which actions are optimal [..., A] (bool): those within ``atol + rtol * max|Q|`` of the best,
    so that actions whose values tie up to rounding all count (FrozenLake's symmetric moves)."""
    best = q.max(-1, keepdims=True)
    scale = np.abs(q).max(-1, keepdims=True)
    return q >= best - (atol + rtol * scale)


def _greedy_log_pi(q: np.ndarray, rtol: float) -> np.ndarray:
    best = optimal_actions(q, rtol=rtol)
    with np.errstate(divide="ignore"):
        return np.log(best / best.sum(-1, keepdims=True))


def value_iteration(
    reward: np.ndarray,
    continuation: np.ndarray,
    *,
    gamma: float,
    horizon: int = 0,
    tol: float = 1e-10,
    max_iterations: int = 100_000,
    v0: np.ndarray | None = None,
    tie_rtol: float = 1e-6,
) -> Solution:
    """Optimal values and policy of the reward: V(s) = max_a R(s, a) + gamma E[V(s')].

    Discounted: sweeps until V changes by less than ``tol`` (from ``v0``, default 0); finite
    horizon: exactly ``horizon`` backward sweeps. ``log_pi`` is uniform over the optimal actions
    (ties within ``tie_rtol``, see :func:`optimal_actions`).

    Raises:
        UserError: bad ``gamma`` / ``horizon``, or no convergence within ``max_iterations``.
    """
    return _iterate(reward, continuation, gamma=gamma, horizon=horizon, tol=tol, max_iterations=max_iterations,
                    v0=v0, temperature=None, tie_rtol=tie_rtol)


def soft_value_iteration(
    reward: np.ndarray,
    continuation: np.ndarray,
    *,
    gamma: float,
    horizon: int = 0,
    temperature: float = 1.0,
    tol: float = 1e-10,
    max_iterations: int = 100_000,
    v0: np.ndarray | None = None,
) -> Solution:
    """Soft values and the maximum causal entropy policy of the reward (Ziebart et al. 2010):

        Q(s, a) = R(s, a) + gamma * sum_s' C(s, a, s') V(s'),
        V(s) = temperature * log sum_a exp(Q(s, a) / temperature),
        pi(a | s) = exp((Q(s, a) - V(s)) / temperature).

    Discounted: sweeps until V changes by less than ``tol`` (warm-started from ``v0``: maximum-
    entropy IRL passes the last iteration's values, which the next reward changes little);
    finite horizon: ``horizon`` backward sweeps from V = 0 after the last step.

    Raises:
        UserError: bad ``gamma`` / ``horizon`` / ``temperature``, or no convergence within ``max_iterations``.
    """
    if not temperature > 0:
        raise UserError(f"temperature must be positive, got {temperature}")
    return _iterate(reward, continuation, gamma=gamma, horizon=horizon, tol=tol, max_iterations=max_iterations,
                    v0=v0, temperature=temperature, tie_rtol=0.0)


def _iterate(reward: np.ndarray, continuation: np.ndarray, *, gamma: float, horizon: int, tol: float,
             max_iterations: int, v0: np.ndarray | None, temperature: float | None, tie_rtol: float) -> Solution:
    reward = np.asarray(reward, dtype=np.float64)
    S, A = _check(reward, continuation, gamma, horizon)
    flat = continuation.reshape(S * A, S)

    def value(q: np.ndarray) -> np.ndarray:
        return q.max(-1) if temperature is None else soft_max(q, temperature)

    def policy(q: np.ndarray, v: np.ndarray) -> np.ndarray:
        return _greedy_log_pi(q, tie_rtol) if temperature is None else (q - v[..., None]) / temperature

    if horizon > 0:
        qs = np.empty((horizon, S, A))
        vs = np.zeros((horizon + 1, S))
        for t in range(horizon - 1, -1, -1):
            qs[t] = reward + gamma * (flat @ vs[t + 1]).reshape(S, A)
            vs[t] = value(qs[t])
        return Solution(q=qs, v=vs, log_pi=policy(qs, vs[:-1]), iterations=horizon)
    v = np.zeros(S) if v0 is None else np.asarray(v0, dtype=np.float64).copy()
    if temperature is not None and S <= DENSE_SOLVE_MAX_STATES:
        return _soft_policy_iteration(reward, continuation, gamma=gamma, temperature=temperature, tol=tol,
                                      max_iterations=max_iterations, v=v)
    for i in range(1, max_iterations + 1):
        q = reward + gamma * (flat @ v).reshape(S, A)
        new = value(q)
        delta = np.abs(new - v).max()
        v = new
        if delta < tol * max(1.0, np.abs(v).max()):
            q = reward + gamma * (flat @ v).reshape(S, A)
            return Solution(q=q, v=v, log_pi=policy(q, v), iterations=i)
    raise UserError(f"value iteration did not converge in {max_iterations:,} sweeps (last change {delta:.3g}); "
                    "use a smaller gamma or a finite horizon")


def _soft_policy_iteration(reward: np.ndarray, continuation: np.ndarray, *, gamma: float, temperature: float,
                           tol: float, max_iterations: int, v: np.ndarray) -> Solution:
    """The discounted soft fixed point by soft policy iteration: evaluate the current soft policy
    exactly (a linear solve of its entropy-regularised Bellman equation), improve it to the soft
    policy of the new Q, repeat. The same fixed point as soft value iteration's sweeps (soft policy
    improvement is monotone, Haarnoja et al. 2018), reached in a handful of solves instead of
    hundreds of sweeps when gamma is near 1: Newton's method on the soft Bellman equation."""
    S, A = reward.shape
    eye = np.eye(S)
    q = backup(reward, continuation, v, gamma)
    for i in range(1, max_iterations + 1):
        log_pi = (q - soft_max(q, temperature)[:, None]) / temperature
        pi = np.exp(log_pi)
        r_pi = (pi * (reward - temperature * log_pi)).sum(1)
        new = _solve(eye - gamma * policy_matrix(pi, continuation), r_pi)
        q = backup(reward, continuation, new, gamma)
        delta = np.abs(new - v).max()
        v = new
        if delta < tol * max(1.0, np.abs(v).max()):
            v = soft_max(q, temperature)
            return Solution(q=q, v=v, log_pi=(q - v[:, None]) / temperature, iterations=i)
    raise UserError(f"soft policy iteration did not converge in {max_iterations:,} solves (last change {delta:.3g}); "
                    "use a smaller gamma or a finite horizon")


def policy_matrix(policy: np.ndarray, continuation: np.ndarray) -> np.ndarray:
    """C_pi[s, s'] = sum_a pi(a | s) C[s, a, s'] [S, S]: the state-to-state continuation under ``policy`` [S, A]."""
    return np.einsum("sa,sat->st", policy, continuation)


def state_visitation(
    policy: np.ndarray,
    continuation: np.ndarray,
    initial: np.ndarray,
    *,
    gamma: float,
    horizon: int = 0,
    tol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected discounted visits of ``policy`` from ``initial``: D(s) = sum_t gamma^t P(s_t = s)
    [S], and D(s, a) = sum_t gamma^t P(s_t = s, a_t = a) [S, A].

    ``policy`` holds probabilities, [S, A] (stationary) or [H, S, A] (finite horizon H = ``horizon``:
    the sum runs over t < H). Stationary and discounted, D solves (I - gamma C_pi^T) D = initial
    exactly (up to :data:`DENSE_SOLVE_MAX_STATES` states; beyond, it is iterated to ``tol``). An
    episode that terminates stops adding visits.
    """
    policy = np.asarray(policy, dtype=np.float64)
    initial = np.asarray(initial, dtype=np.float64)
    S = len(initial)
    if horizon > 0:
        if policy.shape != (horizon, S, continuation.shape[1]):
            raise ValueError(f"a finite-horizon policy needs shape [H={horizon}, S, A], got {policy.shape}")
        d = initial.copy()
        d_sa = np.zeros(policy.shape[1:])
        discount = 1.0
        for t in range(horizon):
            pairs = d[:, None] * policy[t]
            d_sa += discount * pairs
            d = np.einsum("sa,sat->t", pairs, continuation)
            discount *= gamma
        return d_sa.sum(1), d_sa
    _check(np.zeros(policy.shape), continuation, gamma, horizon)
    c_pi = policy_matrix(policy, continuation)
    if S <= DENSE_SOLVE_MAX_STATES:
        d = _solve(np.eye(S) - gamma * c_pi.T, initial)
    else:
        d, term = initial.copy(), initial.copy()
        while term.sum() > tol:
            term = gamma * (c_pi.T @ term)
            d += term
    d = np.maximum(d, 0.0)  # round-off below zero where a state is never visited
    return d, d[:, None] * policy


def evaluate_policy(
    policy: np.ndarray,
    reward: np.ndarray,
    continuation: np.ndarray,
    *,
    gamma: float,
    horizon: int = 0,
) -> np.ndarray:
    """The exact expected return V^pi(s) [S] of a stationary ``policy`` [S, A] (probabilities): the
    discounted infinite-horizon one (``horizon`` 0), or that of the first ``horizon`` steps (an env's
    time limit; ``gamma`` 1 gives the undiscounted return an evaluation measures)."""
    policy = np.asarray(policy, dtype=np.float64)
    r_pi = (policy * reward).sum(-1)
    c_pi = policy_matrix(policy, continuation)
    if horizon > 0:
        v = np.zeros(len(r_pi))
        for _ in range(horizon):
            v = r_pi + gamma * (c_pi @ v)
        return v
    _check(np.asarray(reward), continuation, gamma, horizon)
    S = len(r_pi)
    if S <= DENSE_SOLVE_MAX_STATES:
        return _solve(np.eye(S) - gamma * c_pi, r_pi)
    v = np.zeros(S)
    while True:
        new = r_pi + gamma * (c_pi @ v)
        if np.abs(new - v).max() < 1e-12 * max(1.0, np.abs(new).max()):
            return new
        v = new


def absorbing_probability(policy: np.ndarray, continuation: np.ndarray, initial: np.ndarray, *, steps: int = 100_000) -> float:
    """The probability that an episode of the stationary ``policy`` [S, A] from ``initial`` ends
    (terminates) at all, within ``steps`` steps: below 1 where it can loop forever, which an env
    without a time limit (CliffWalking-v1) never cuts short."""
    c_pi = policy_matrix(np.asarray(policy, dtype=np.float64), continuation)
    d = np.asarray(initial, dtype=np.float64).copy()
    # repeated squaring: after k squarings the matrix carries 2^k steps
    power, n = c_pi, 1
    while n < steps and d.sum() > 1e-12:
        d = d @ power
        power = power @ power
        n *= 2
    return float(1.0 - d.sum())

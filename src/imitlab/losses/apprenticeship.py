"""Apprenticeship learning's arithmetic (Abbeel & Ng 2004, "Apprenticeship Learning via Inverse
Reinforcement Learning", ICML): discounted feature expectations, the projection method's step, and
the mixture of the policies found whose feature expectations come closest to the expert's.

With a reward linear in features, R(s) = w . phi(s), a policy's value is ``w . mu(pi)`` where
``mu(pi) = E[sum_t gamma^t phi(s_t)]`` (section 2). A policy whose ``mu`` is within eps of the
expert's ``mu_E`` is within eps of the expert's value for every ``||w|| <= 1`` (section 3), the
true reward's w included if the features can express it. All functions here are pure numpy
(float64): the vectors are small and the algorithm's loop (``imitlab.algorithms.irl.apprenticeship``)
calls them once per iteration.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def discounted_feature_sum(
    phi: np.ndarray, gamma: float, *, terminated: bool = False, absorbing: np.ndarray | None = None
) -> np.ndarray:
    """One episode's ``sum_t gamma^t phi(s_t)`` over its steps t = 0 .. T-1 (``phi`` [T, k]).

    An episode that ended in a true termination (``terminated``) continues, in the absorbing-state
    view, in the absorbing state forever: its features ``absorbing`` [k] count from step T on,
    ``gamma^T / (1 - gamma)`` times. A truncated episode (a time limit) adds nothing after T: the
    expert's and the learner's episodes are cut by the same limit. Without ``absorbing`` a
    termination adds nothing either (feature expectations of short episodes are then smaller,
    which rewards features of the wrong sign for ending episodes: the reason for the absorbing state).
    """
    phi = np.asarray(phi, np.float64)
    if phi.ndim != 2:
        raise ValueError(f"phi must be [T, k], got shape {phi.shape}")
    T = len(phi)
    total = (gamma ** np.arange(T)) @ phi if T else np.zeros(phi.shape[1])
    if terminated and absorbing is not None:
        total = total + gamma**T / (1.0 - gamma) * np.asarray(absorbing, np.float64)
    return total


class ProjectionStep(NamedTuple):
    """The projection method's state after one new policy."""

    mu_bar: np.ndarray
    """The point of the convex hull of the policies' mu found so far, projected towards mu_E."""
    w: np.ndarray
    """The next reward's weights, ``mu_E - mu_bar`` (not normalised)."""
    t: float
    """The feature-expectation gap ``||mu_E - mu_bar||_2`` (the margin; the run stops when it is small)."""
    step: float
    """How far along the segment from the old mu_bar to the new mu the new mu_bar lies, in [0, 1]."""


def projection_step(mu_expert: np.ndarray, mu_bar: np.ndarray | None, mu_new: np.ndarray) -> ProjectionStep:
    """One step of the projection method (Abbeel & Ng 2004, section 3.1).

    The new ``mu_bar`` is the orthogonal projection of ``mu_E`` onto the line through the previous
    ``mu_bar`` and the new policy's ``mu``:

        mu_bar_i = mu_bar_{i-1} + [(mu_i - mu_bar_{i-1}) . (mu_E - mu_bar_{i-1})
                                   / ||mu_i - mu_bar_{i-1}||^2] (mu_i - mu_bar_{i-1})

    then ``w = mu_E - mu_bar_i`` and ``t = ||w||_2``. The coefficient is clipped to [0, 1], i.e.
    projected onto the segment, so that mu_bar stays a convex combination of the policies' mu (a
    mixture that exists) even when the inner RL step returns a policy that is not optimal for the
    last w (with an exact RL step the coefficient is in [0, 1] anyway). ``mu_bar`` None is the
    first iteration: ``mu_bar_0 = mu_0``.
    """
    mu_e = np.asarray(mu_expert, np.float64)
    mu = np.asarray(mu_new, np.float64)
    if mu_bar is None:
        new_bar, step = mu.copy(), 1.0
    else:
        bar = np.asarray(mu_bar, np.float64)
        d = mu - bar
        dd = float(d @ d)
        step = 0.0 if dd <= 1e-300 else float(np.clip(d @ (mu_e - bar) / dd, 0.0, 1.0))
        new_bar = bar + step * d
    w = mu_e - new_bar
    return ProjectionStep(new_bar, w, float(np.linalg.norm(w)), step)


def project_to_simplex(v: np.ndarray) -> np.ndarray:
    """The Euclidean projection of ``v`` [n] onto the probability simplex {x >= 0, sum x = 1}
    (the sort-based algorithm: Held et al. 1974; Duchi et al. 2008, figure 1)."""
    v = np.asarray(v, np.float64)
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    k = np.arange(1, len(v) + 1)
    rho = int(np.nonzero(u - css / k > 0)[0][-1])
    theta = css[rho] / (rho + 1)
    return np.maximum(v - theta, 0.0)


def closest_mixture(mus: np.ndarray, mu_expert: np.ndarray, *, iterations: int = 5000, tol: float = 1e-12) -> np.ndarray:
    """The mixture weights lambda over policies whose mixed feature expectations come closest to
    the expert's: ``argmin ||mu_E - sum_i lambda_i mu_i||_2`` over the simplex (Abbeel & Ng 2004,
    section 3: a small quadratic program), solved by accelerated projected gradient (FISTA with
    :func:`project_to_simplex`). Running policy i with probability lambda_i, drawn once per episode,
    has feature expectations ``sum_i lambda_i mu_i``.

    Args:
        mus: [n, k], one row per policy.
        mu_expert: [k].
        iterations: the most gradient steps.
        tol: stop when an step moves lambda less than this (max-norm).
    """
    M = np.asarray(mus, np.float64)
    mu_e = np.asarray(mu_expert, np.float64)
    n = len(M)
    if n == 0:
        raise ValueError("closest_mixture needs at least one policy")
    G, c = M @ M.T, M @ mu_e  # the objective is 0.5 x'Gx - c'x + const
    lipschitz = float(np.linalg.eigvalsh(G)[-1])
    if n == 1 or lipschitz <= 0:
        return np.full(n, 1.0 / n)
    # start from the single closest policy: the answer is never further from mu_E than it
    x = np.zeros(n)
    x[int(np.argmin(np.linalg.norm(M - mu_e, axis=1)))] = 1.0
    y, t = x.copy(), 1.0
    for _ in range(iterations):
        x_new = project_to_simplex(y - (G @ y - c) / lipschitz)
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        y = x_new + (t - 1) / t_new * (x_new - x)
        moved = float(np.abs(x_new - x).max())
        x, t = x_new, t_new
        if moved < tol:
            break
    return x


__all__ = ["ProjectionStep", "closest_mixture", "discounted_feature_sum", "project_to_simplex", "projection_step"]

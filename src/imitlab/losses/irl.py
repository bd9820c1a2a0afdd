"""Maximum-entropy inverse RL's pure pieces (numpy; exact, tabular).

Maximum entropy IRL (Ziebart, Maas, Bagnell & Dey 2008, "Maximum Entropy Inverse Reinforcement
Learning", AAAI) and its causal form for stochastic dynamics (Ziebart, Bagnell & Dey 2010,
"Modeling Interaction via the Principle of Maximum Causal Entropy", ICML) model the expert as the
policy of highest causal entropy whose expected feature counts match the expert's. With a linear
reward R(s, a) = theta . phi(s, a) that policy is the soft-optimal policy of R
(:func:`imitlab.rl.tabular.soft_value_iteration`), and the gradient of the demonstrations'
log-likelihood in theta is the expert's feature counts minus the policy's expected ones:

    grad = mu_expert - mu_pi,   mu_pi = sum_{s, a} D_pi(s, a) phi(s, a),

D_pi being the policy's (discounted) state-action visitation (:func:`imitlab.rl.tabular.state_visitation`).
Counts are discounted by gamma^t on both sides (infinite-horizon causal entropy, e.g. Zhou,
Bloem & Bambos 2018, "Infinite Time Horizon Maximum Causal Entropy IRL"), or summed over the first
H steps (finite horizon).
"""

from __future__ import annotations

import numpy as np


def discount_weights(times: np.ndarray, gamma: float) -> np.ndarray:
    """gamma^t for each step's time index t within its episode [N] (float64)."""
    return np.power(float(gamma), np.asarray(times, dtype=np.float64))


def step_times(lengths: np.ndarray) -> np.ndarray:
    """The time index of every step of episodes of ``lengths``, concatenated: [0, 1, .., T_0 - 1, 0, ..]."""
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.arange(int(lengths.sum())) - starts


def expert_visitation(
    states: np.ndarray,
    actions: np.ndarray,
    times: np.ndarray,
    *,
    n_states: int,
    n_actions: int,
    n_episodes: int,
    gamma: float,
    horizon: int = 0,
) -> np.ndarray:
    """The demonstrations' discounted state-action visits per episode,
    D_E(s, a) = (1 / N) sum_i sum_t gamma^t [s_t = s, a_t = a] [S, A]: the empirical side of feature
    matching, since any linear feature's expert count is ``feature_counts(phi, D_E)``.

    Args:
        states, actions, times: the demonstrations' steps [N] and their time indices in their episodes.
        n_states, n_actions: the table's size.
        n_episodes: the number of episodes they come from.
        gamma: the discount of the counts.
        horizon: count only steps t < ``horizon`` (0: all), as a finite-horizon learner does.
    """
    weights = discount_weights(times, gamma)
    if horizon > 0:
        weights = np.where(np.asarray(times) < horizon, weights, 0.0)
    visits = np.zeros((n_states, n_actions))
    np.add.at(visits, (np.asarray(states, dtype=np.int64), np.asarray(actions, dtype=np.int64)), weights)
    return visits / max(n_episodes, 1)


def feature_counts(features: np.ndarray, visitation: np.ndarray) -> np.ndarray:
    """Expected feature counts, mu = sum_{s, a} D(s, a) phi(s, a) [K], of a state-action visitation
    D [S, A] (a policy's, Ziebart et al. 2008's "expected state visitation frequencies", or the
    expert's empirical one) and features phi [S, A, K]. Features of the state entered are their
    expectation over the next state, phi(s, a) = sum_s' P(s' | s, a) phi(s'), as causal entropy has it."""
    return np.einsum("sa,sak->k", visitation, features)


def maxent_gradient(expert_counts: np.ndarray, learner_counts: np.ndarray, theta: np.ndarray | None = None,
                    *, l2: float = 0.0) -> np.ndarray:
    """The gradient of the demonstrations' log-likelihood under the maximum causal entropy policy,
    in the reward's weights: ``mu_expert - mu_pi`` (Ziebart et al. 2008; in Ziebart et al. 2010 the gradient of the
    maximum causal entropy problem's dual), minus ``l2 * theta`` for a Gaussian prior on the weights (which keeps the
    reward of states the expert never visits finite). Ascend it."""
    grad = np.asarray(expert_counts, dtype=np.float64) - np.asarray(learner_counts, dtype=np.float64)
    if l2 and theta is not None:
        grad = grad - l2 * np.asarray(theta, dtype=np.float64)
    return grad


def demo_log_likelihood(
    log_pi: np.ndarray,
    states: np.ndarray,
    actions: np.ndarray,
    times: np.ndarray,
    *,
    n_episodes: int,
    gamma: float,
    horizon: int = 0,
) -> float:
    """The demonstrations' discounted log-likelihood per episode under a policy,
    (1 / N) sum_i sum_t gamma^t log pi_t(a_t | s_t): the quantity maximum-entropy IRL ascends.

    ``log_pi`` is [S, A] (stationary) or [H, S, A] (finite horizon: step t reads ``log_pi[t]``,
    and steps t >= H are left out).
    """
    weights = discount_weights(times, gamma)
    times = np.asarray(times, dtype=np.int64)
    if log_pi.ndim == 3:
        keep = times < len(log_pi)
        values = np.zeros(len(times))
        values[keep] = log_pi[times[keep], states[keep], actions[keep]]
        weights = np.where(keep, weights, 0.0)
    else:
        if horizon > 0:
            weights = np.where(times < horizon, weights, 0.0)
        values = log_pi[states, actions]
    return float((weights * values).sum() / max(n_episodes, 1))


__all__ = ["demo_log_likelihood", "discount_weights", "expert_visitation", "feature_counts", "maxent_gradient", "step_times"]

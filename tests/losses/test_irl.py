"""Maximum-entropy IRL's pure pieces on known numbers, and the identity its gradient rests on:
the gradient of the soft value of the start in the reward's weights is the soft policy's
expected feature counts."""

import math

import numpy as np
import pytest

from imitlab.losses.irl import (
    demo_log_likelihood,
    discount_weights,
    expert_visitation,
    feature_counts,
    maxent_gradient,
    step_times,
)
from imitlab.rl.tabular import soft_value_iteration, state_visitation


def test_step_times_and_discounts():
    assert step_times(np.array([3, 2])).tolist() == [0, 1, 2, 0, 1]
    assert step_times(np.array([], dtype=np.int64)).tolist() == []
    assert discount_weights(np.array([0, 1, 3]), 0.5).tolist() == [1.0, 0.5, 0.125]


def test_expert_visitation_by_hand():
    # two episodes: (s0 a1, s1 a0, s0 a1) and (s0 a0); gamma 0.5, per episode
    states, actions = np.array([0, 1, 0, 0]), np.array([1, 0, 1, 0])
    times = step_times(np.array([3, 1]))
    d = expert_visitation(states, actions, times, n_states=2, n_actions=2, n_episodes=2, gamma=0.5)
    assert d.tolist() == [[0.5, (1 + 0.25) / 2], [0.5 / 2, 0.0]]
    cut = expert_visitation(states, actions, times, n_states=2, n_actions=2, n_episodes=2, gamma=1.0, horizon=2)
    assert cut.tolist() == [[0.5, 0.5], [0.5, 0.0]]  # the third step of the first episode is past the horizon


def test_feature_counts_and_gradient():
    features = np.arange(2 * 2 * 3, dtype=np.float64).reshape(2, 2, 3)
    visits = np.array([[1.0, 0.0], [0.5, 2.0]])
    assert feature_counts(features, visits).tolist() == (features[0, 0] + 0.5 * features[1, 0] + 2 * features[1, 1]).tolist()
    grad = maxent_gradient(np.array([1.0, 2.0]), np.array([0.5, 3.0]))
    assert grad.tolist() == [0.5, -1.0]
    assert maxent_gradient(np.array([1.0, 2.0]), np.array([0.5, 3.0]), np.array([1.0, -2.0]), l2=0.5).tolist() == [0.0, 0.0]


def test_demo_log_likelihood():
    log_pi = np.log(np.array([[0.5, 0.5], [0.25, 0.75]]))
    states, actions, times = np.array([0, 1]), np.array([0, 1]), np.array([0, 1])
    ll = demo_log_likelihood(log_pi, states, actions, times, n_episodes=1, gamma=0.5)
    assert ll == pytest.approx(math.log(0.5) + 0.5 * math.log(0.75))
    # finite horizon: step t reads log_pi[t]; steps at or past the horizon are left out
    timed = np.stack([log_pi, np.log(np.array([[0.9, 0.1], [0.2, 0.8]]))])
    ll = demo_log_likelihood(timed, np.array([0, 1, 1]), np.array([0, 1, 1]), np.array([0, 1, 2]), n_episodes=1, gamma=1.0)
    assert ll == pytest.approx(math.log(0.5) + math.log(0.8))


@pytest.mark.parametrize("horizon, gamma", [(0, 0.9), (6, 1.0)])
def test_soft_value_gradient_is_the_policys_feature_counts(horizon, gamma):
    """d/dtheta of initial . V_soft(theta) = mu_pi(theta): why mu_expert - mu_pi is the
    log-likelihood's gradient (its other term, theta . mu_expert, has gradient mu_expert).
    Checked by central differences on a random MDP with random features."""
    rng = np.random.default_rng(0)
    S, A, K = 6, 3, 4
    continuation = rng.dirichlet(np.ones(S), size=(S, A)) * 0.9  # a 10% chance to end at every step
    features = rng.normal(size=(S, A, K))
    initial = rng.dirichlet(np.ones(S))
    theta = rng.normal(size=K)

    def start_value(th):
        sol = soft_value_iteration(features @ th, continuation, gamma=gamma, horizon=horizon, tol=1e-13)
        return initial @ (sol.v if horizon == 0 else sol.v[0])

    sol = soft_value_iteration(features @ theta, continuation, gamma=gamma, horizon=horizon, tol=1e-13)
    _, visits = state_visitation(np.exp(sol.log_pi), continuation, initial, gamma=gamma, horizon=horizon)
    mu = feature_counts(features, visits)
    eps = 1e-5
    numeric = np.array([(start_value(theta + eps * e) - start_value(theta - eps * e)) / (2 * eps) for e in np.eye(K)])
    assert numeric == pytest.approx(mu, abs=1e-6)
    # and the gradient vanishes when the "expert" visits are the model's own
    assert np.abs(maxent_gradient(feature_counts(features, visits), mu)).max() == 0.0

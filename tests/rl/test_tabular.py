"""Exact tabular dynamic programming: soft value iteration against a hand-computed 2-state MDP,
the two solvers against each other, visitation and policy evaluation against their definitions."""

import math

import numpy as np
import pytest

import imitlab.rl.tabular as tab
from imitlab.envs.tabular import tabular_mdp
from imitlab.errors import UserError
from imitlab.rl.tabular import (
    absorbing_probability,
    evaluate_policy,
    optimal_actions,
    soft_value_iteration,
    state_visitation,
    value_iteration,
)

PHI = (1 + math.sqrt(5)) / 2  # the golden ratio


def stay_or_exit(exit_reward: float = 0.0):
    """State 0: action 0 stays (reward 0), action 1 ends the episode (reward ``exit_reward``).
    State 1 is never reached (it only keeps the tensor square)."""
    reward = np.array([[0.0, exit_reward], [0.0, 0.0]])
    continuation = np.zeros((2, 2, 2))
    continuation[0, 0, 0] = 1.0  # stay
    continuation[1, :, 1] = 1.0
    return reward, continuation


def test_soft_value_iteration_on_a_hand_computed_mdp():
    """gamma = 1/2: V = log(exp(V / 2) + exp(0)). With x = exp(V / 2), x^2 = x + 1, so x is the
    golden ratio: V = 2 log(phi), pi(stay) = x / x^2 = 1 / phi, pi(exit) = 1 / phi^2. The expected
    discounted visits of state 0 are sum_t (gamma pi(stay))^t = 1 / (1 - 1 / (2 phi))."""
    reward, continuation = stay_or_exit()
    sol = soft_value_iteration(reward, continuation, gamma=0.5)
    assert sol.v[0] == pytest.approx(2 * math.log(PHI), abs=1e-9)
    assert np.exp(sol.log_pi[0]) == pytest.approx([1 / PHI, 1 / PHI**2], abs=1e-9)
    assert sol.q[0] == pytest.approx([math.log(PHI), 0.0], abs=1e-9)  # Q(stay) = gamma V
    d, d_sa = state_visitation(np.exp(sol.log_pi), continuation, np.array([1.0, 0.0]), gamma=0.5)
    assert d[0] == pytest.approx(1 / (1 - 1 / (2 * PHI)), abs=1e-9) and d[1] == 0.0
    assert d_sa[0] == pytest.approx(d[0] * np.array([1 / PHI, 1 / PHI**2]), abs=1e-9)


def test_temperature_scales_the_soft_max():
    """Temperature 2 on rewards (0, log 4) with gamma 0 (one step): V = 2 log(1 + 4^(1/2)) = 2 log 3."""
    reward, continuation = stay_or_exit(math.log(4))
    sol = soft_value_iteration(reward, continuation, gamma=0.0, horizon=1, temperature=2.0)
    assert sol.v[0, 0] == pytest.approx(2 * math.log(3))
    assert np.exp(sol.log_pi[0, 0]) == pytest.approx([1 / 3, 2 / 3])


def test_finite_horizon_soft_values_by_hand():
    """H = 2, gamma = 1: Q_1 = (0, 0), V_1 = log 2; Q_0 = (log 2, 0), V_0 = log 3, pi_0(stay) = 2/3,
    pi_1(stay) = 1/2. Visits of state 0: 1 at t = 0, 2/3 at t = 1."""
    reward, continuation = stay_or_exit()
    sol = soft_value_iteration(reward, continuation, gamma=1.0, horizon=2)
    assert sol.q.shape == (2, 2, 2) and sol.v.shape == (3, 2)
    assert sol.v[:, 0] == pytest.approx([math.log(3), math.log(2), 0.0])
    assert np.exp(sol.log_pi[:, 0]) == pytest.approx(np.array([[2 / 3, 1 / 3], [1 / 2, 1 / 2]]))
    assert np.exp(sol.first_log_pi[0]) == pytest.approx([2 / 3, 1 / 3])
    d, d_sa = state_visitation(np.exp(sol.log_pi), continuation, np.array([1.0, 0.0]), gamma=1.0, horizon=2)
    assert d[0] == pytest.approx(5 / 3)
    assert d_sa[0] == pytest.approx([2 / 3 + 1 / 3, 1 / 3 + 1 / 3])


def test_hard_value_iteration_and_ties():
    reward, continuation = stay_or_exit(1.0)
    sol = value_iteration(reward, continuation, gamma=0.9)
    assert sol.v[0] == pytest.approx(1.0) and sol.q[0] == pytest.approx([0.9, 1.0])
    assert np.exp(sol.log_pi[0]).tolist() == [0.0, 1.0]
    tied = value_iteration(np.array([[0.0, 0.0], [0.0, 0.0]]), continuation * 0, gamma=0.9)
    assert np.exp(tied.log_pi[0]).tolist() == [0.5, 0.5]  # ties split evenly
    q = np.array([[1.0, 1.0 - 1e-9, 0.5], [2.0, 1.0, 2.0]])
    assert optimal_actions(q).tolist() == [[True, True, False], [True, False, True]]
    assert optimal_actions(q, rtol=0, atol=0).tolist() == [[True, False, False], [True, False, True]]


def random_mdp(rng, S=12, A=3, terminal_p=0.1):
    P = rng.dirichlet(np.ones(S) * 0.3, size=(S, A))
    continuation = P * (rng.random((S, A, S)) > terminal_p)
    return rng.normal(size=(S, A)), continuation


def test_policy_iteration_path_equals_value_iteration_sweeps(monkeypatch):
    """Soft policy iteration (the dense path) and soft value-iteration sweeps reach one fixed point."""
    rng = np.random.default_rng(0)
    reward, continuation = random_mdp(rng)
    fast = soft_value_iteration(reward, continuation, gamma=0.95, tol=1e-12)
    monkeypatch.setattr(tab, "DENSE_SOLVE_MAX_STATES", 0)
    slow = soft_value_iteration(reward, continuation, gamma=0.95, tol=1e-12)
    assert fast.iterations < 15 < slow.iterations
    assert fast.v == pytest.approx(slow.v, abs=1e-8)
    assert fast.log_pi == pytest.approx(slow.log_pi, abs=1e-8)
    # the fixed point: V = logsumexp(R + gamma C V)
    q = reward + 0.95 * continuation @ fast.v
    assert fast.v == pytest.approx(np.log(np.exp(q).sum(1)), abs=1e-9)


def test_visitation_solve_equals_iteration_and_the_definition(monkeypatch):
    rng = np.random.default_rng(1)
    _, continuation = random_mdp(rng)
    policy = rng.dirichlet(np.ones(3), size=12)
    initial = rng.dirichlet(np.ones(12))
    d, d_sa = state_visitation(policy, continuation, initial, gamma=0.9)
    # the definition, summed over 400 steps (0.9^400 is negligible)
    p, expected = initial.copy(), np.zeros(12)
    for t in range(400):
        expected += 0.9**t * p
        p = np.einsum("s,sa,sat->t", p, policy, continuation)
    assert d == pytest.approx(expected, abs=1e-10)
    assert d_sa.sum(1) == pytest.approx(d)
    monkeypatch.setattr(tab, "DENSE_SOLVE_MAX_STATES", 0)
    assert state_visitation(policy, continuation, initial, gamma=0.9)[0] == pytest.approx(expected, abs=1e-9)


def test_evaluate_policy_frozen_lake_optimum_and_absorption():
    """The optimal FrozenLake-v1 policy reaches the goal with probability 0.740 within its 100 steps
    (the known figure for the slippery 4x4 lake)."""
    mdp = tabular_mdp("FrozenLake-v1")
    sol = value_iteration(mdp.expected_reward(), mdp.continuation, gamma=0.999)
    policy = np.exp(sol.log_pi)
    within_limit = mdp.initial @ evaluate_policy(policy, mdp.expected_reward(), mdp.continuation, gamma=1.0, horizon=100)
    assert within_limit == pytest.approx(0.7402, abs=1e-4)
    discounted = evaluate_policy(policy, mdp.expected_reward(), mdp.continuation, gamma=0.999)
    assert discounted == pytest.approx(sol.v, abs=1e-8)  # V* is the optimal policy's value
    assert absorbing_probability(policy, mdp.continuation, mdp.initial) == pytest.approx(1.0)
    reward, continuation = stay_or_exit()
    assert absorbing_probability(np.array([[1.0, 0.0], [1.0, 0.0]]), continuation, np.array([1.0, 0.0])) == 0.0
    assert absorbing_probability(np.array([[0.5, 0.5], [1.0, 0.0]]), continuation, np.array([1.0, 0.0])) == pytest.approx(1.0)


def test_bad_discounts_are_user_errors():
    reward, continuation = stay_or_exit()
    with pytest.raises(UserError, match="gamma must be in"):
        soft_value_iteration(reward, continuation, gamma=1.0)
    with pytest.raises(UserError, match="temperature must be positive"):
        soft_value_iteration(reward, continuation, gamma=0.5, temperature=0.0)
    with pytest.raises(UserError, match="did not converge"):  # staying earns 1 a step: V = 1 / (1 - gamma)
        value_iteration(reward + np.array([[1.0, 0.0], [0.0, 0.0]]), continuation, gamma=0.999999, max_iterations=10)

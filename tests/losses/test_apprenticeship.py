import itertools

import numpy as np
import pytest

from imitlab.losses.apprenticeship import closest_mixture, discounted_feature_sum, project_to_simplex, projection_step


def test_projection_step_projects_mu_expert_onto_the_segment():
    # mu_E = (1, 1), mu_bar = (0, 0), new mu = (2, 0): the projection of (1, 1) on the x axis is (1, 0)
    step = projection_step(np.array([1.0, 1.0]), np.array([0.0, 0.0]), np.array([2.0, 0.0]))
    np.testing.assert_allclose(step.mu_bar, [1.0, 0.0])
    np.testing.assert_allclose(step.w, [0.0, 1.0])
    assert step.t == pytest.approx(1.0)
    assert step.step == pytest.approx(0.5)


def test_projection_step_first_iteration_and_clipping():
    first = projection_step(np.array([1.0, 1.0]), None, np.array([3.0, 5.0]))
    np.testing.assert_allclose(first.mu_bar, [3.0, 5.0])
    np.testing.assert_allclose(first.w, [-2.0, -4.0])
    assert first.t == pytest.approx(np.sqrt(20.0))
    # a new mu pointing away from mu_E: the line's projection would leave the segment (coefficient
    # -1); clipped to 0, mu_bar stays where it was
    away = projection_step(np.array([1.0, 0.0]), np.array([0.0, 0.0]), np.array([-1.0, 0.0]))
    np.testing.assert_allclose(away.mu_bar, [0.0, 0.0])
    assert away.step == 0.0 and away.t == pytest.approx(1.0)
    # overshooting: the line's projection is past the new mu (coefficient 2), clipped to the new mu
    past = projection_step(np.array([2.0, 0.0]), np.array([0.0, 0.0]), np.array([1.0, 0.0]))
    np.testing.assert_allclose(past.mu_bar, [1.0, 0.0])
    assert past.step == 1.0
    # the same mu again: nothing to project on, mu_bar unchanged
    same = projection_step(np.array([1.0, 1.0]), np.array([0.5, 0.0]), np.array([0.5, 0.0]))
    np.testing.assert_allclose(same.mu_bar, [0.5, 0.0])


def test_the_projection_method_with_an_exact_rl_step_converges_to_mu_expert():
    """Abbeel & Ng's toy setting: the policies' feature expectations are the corners of the unit
    square; an exact RL step returns the corner maximising w . mu. mu_E inside the square is a
    mixture of corners, so the gap t must fall (never rise) to near 0."""
    corners = np.array(list(itertools.product([0.0, 1.0], repeat=2)))
    mu_e = np.array([0.3, 0.6])
    step = projection_step(mu_e, None, corners[0])
    gaps = [step.t]
    for _ in range(200):
        best = corners[int(np.argmax(corners @ step.w))]
        step = projection_step(mu_e, step.mu_bar, best)
        gaps.append(step.t)
    assert all(b <= a + 1e-12 for a, b in zip(gaps, gaps[1:]))
    assert gaps[0] == pytest.approx(np.linalg.norm(mu_e))
    assert gaps[-1] < 0.02


def test_discounted_feature_sum_counts_steps_and_the_absorbing_tail():
    phi = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    absorbing = np.array([0.0, 1.0])
    # 1 + 0.5 + 0.25 over three steps
    np.testing.assert_allclose(discounted_feature_sum(phi, 0.5), [1.75, 0.0])
    # terminated at T = 3: gamma^3 / (1 - gamma) = 0.125 / 0.5 of the absorbing feature
    np.testing.assert_allclose(discounted_feature_sum(phi, 0.5, terminated=True, absorbing=absorbing), [1.75, 0.25])
    # truncated: nothing after the last step
    np.testing.assert_allclose(discounted_feature_sum(phi, 0.5, terminated=False, absorbing=absorbing), [1.75, 0.0])
    # an episode that ends at once is all absorbing state: 1 / (1 - gamma)
    np.testing.assert_allclose(discounted_feature_sum(np.zeros((0, 2)), 0.5, terminated=True, absorbing=absorbing), [0.0, 2.0])
    # with the absorbing tail, the sum of the "alive" and absorbing entries is 1 / (1 - gamma) whatever the length
    for T in (1, 5, 40):
        total = discounted_feature_sum(np.tile([1.0, 0.0], (T, 1)), 0.9, terminated=True, absorbing=absorbing)
        assert total.sum() == pytest.approx(10.0)


def test_project_to_simplex_against_known_answers():
    np.testing.assert_allclose(project_to_simplex(np.array([0.2, 0.8])), [0.2, 0.8])
    np.testing.assert_allclose(project_to_simplex(np.array([2.0, 0.0])), [1.0, 0.0])
    np.testing.assert_allclose(project_to_simplex(np.array([1.0, 1.0, 1.0])), [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(project_to_simplex(np.array([0.5, 0.5, -3.0])), [0.5, 0.5, 0.0])
    rng = np.random.default_rng(0)
    for _ in range(20):
        v = rng.normal(size=5) * 3
        p = project_to_simplex(v)
        assert p.min() >= 0 and p.sum() == pytest.approx(1.0)
        # optimality: no random simplex point is closer to v
        others = rng.dirichlet(np.ones(5), size=200)
        assert np.linalg.norm(v - p) <= np.linalg.norm(v - others, axis=1).min() + 1e-9


def test_closest_mixture_solves_the_qp():
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    lam = closest_mixture(corners, np.array([0.3, 0.6]))
    assert lam.min() >= 0 and lam.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(lam @ corners, [0.3, 0.6], atol=1e-6)
    # mu_E outside the hull of (0, 0) and (1, 0): its projection (0.25, 0), lambda = (0.75, 0.25)
    np.testing.assert_allclose(closest_mixture(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([0.25, 1.0])), [0.75, 0.25], atol=1e-6)
    # beyond the segment's end: all weight on the nearer policy
    np.testing.assert_allclose(closest_mixture(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([3.0, 1.0])), [0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(closest_mixture(np.array([[5.0, 5.0]]), np.zeros(2)), [1.0])

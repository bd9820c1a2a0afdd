"""imitlab.losses.returns on known numbers."""

import numpy as np
import pytest

from imitlab.losses.returns import gae


def _gae_reference(rews, values, next_values, term, trunc, gamma, lam):
    """Per-env, per-episode GAE written the slow obvious way."""
    T, N = rews.shape
    adv = np.zeros((T, N))
    for n in range(N):
        for t in range(T):
            total, discount = 0.0, 1.0
            for k in range(t, T):
                boot = 0.0 if term[k, n] else next_values[k, n]
                delta = rews[k, n] + gamma * boot - values[k, n]
                total += discount * delta
                if term[k, n] or trunc[k, n]:
                    break
                discount *= gamma * lam
            adv[t, n] = total
    return adv


def test_gae_matches_reference_with_terminations_and_truncations():
    rng = np.random.default_rng(0)
    T, N = 12, 3
    rews = rng.normal(size=(T, N)).astype(np.float32)
    values = rng.normal(size=(T, N)).astype(np.float32)
    next_values = rng.normal(size=(T, N)).astype(np.float32)
    term = rng.random((T, N)) < 0.15
    trunc = (rng.random((T, N)) < 0.15) & ~term
    adv, ret = gae(rews, values, next_values, term, trunc, gamma=0.97, lam=0.9)
    ref = _gae_reference(rews, values, next_values, term, trunc, 0.97, 0.9)
    np.testing.assert_allclose(adv, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ret, adv + values, rtol=1e-6)


def test_gae_truncation_bootstraps_and_termination_does_not_across_an_autoreset():
    # One env, 3 steps: step 0 ends an episode, step 1 starts the next one (after autoreset).
    rews = np.array([[1.0], [1.0], [1.0]], np.float32)
    values = np.array([[0.0], [5.0], [0.0]], np.float32)
    next_values = np.array([[10.0], [0.0], [0.0]], np.float32)  # V(final obs of episode 1) = 10
    no = np.zeros((3, 1), bool)
    at0 = np.array([[True], [False], [False]])
    gamma, lam = 0.5, 1.0

    adv_trunc, _ = gae(rews, values, next_values, no, at0, gamma=gamma, lam=lam)
    adv_term, _ = gae(rews, values, next_values, at0, no, gamma=gamma, lam=lam)
    # Truncated: bootstrap from the final obs's value, nothing from the next episode (values[1] = 5).
    assert adv_trunc[0, 0] == pytest.approx(1.0 + gamma * 10.0)
    # Terminated: no bootstrap at all.
    assert adv_term[0, 0] == pytest.approx(1.0)
    # The next episode's first step is the same either way.
    assert adv_trunc[1, 0] == pytest.approx(adv_term[1, 0])

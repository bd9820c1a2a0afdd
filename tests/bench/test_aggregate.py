"""Aggregation on numbers worked out by hand."""

import numpy as np
import pytest

from imitlab.bench.aggregate import (
    bootstrap_ci,
    iqm,
    iqm_weights,
    mean_curve,
    summarize_records,
    summarize_scores,
)


def test_iqm_drops_the_outer_quarters_when_runs_divide_by_four():
    assert iqm([1, 2, 3, 4]) == pytest.approx(2.5)
    assert iqm([8, 1, 7, 2, 6, 3, 5, 4]) == pytest.approx(4.5)  # mean of 3, 4, 5, 6; order does not matter
    assert iqm([0, 0, 1, 100]) == pytest.approx(0.5)  # an outlier does not move it


def test_iqm_weights_boundary_runs_by_their_share_of_the_middle_half():
    np.testing.assert_allclose(iqm_weights(3), np.array([0.25, 1.0, 0.25]) / 1.5)
    np.testing.assert_allclose(iqm_weights(5), np.array([0.0, 0.75, 1.0, 0.75, 0.0]) / 2.5)
    assert iqm([0, 1, 10]) == pytest.approx((0.25 * 0 + 1 + 0.25 * 10) / 1.5)
    assert iqm([7.0]) == 7.0
    assert iqm([2.0, 4.0]) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        iqm([])


def test_bootstrap_ci_of_two_runs_covers_the_possible_means():
    # Resampling [0, 1]: means 0, 0.5, 1 with probability 1/4, 1/2, 1/4, so the 2.5% and 97.5%
    # quantiles are the extremes.
    assert bootstrap_ci([0.0, 1.0], statistic="mean") == (0.0, 1.0)
    assert bootstrap_ci([0.3, 0.3, 0.3], statistic="iqm") == pytest.approx((0.3, 0.3))
    assert bootstrap_ci([0.7], statistic="mean") == (0.7, 0.7)


def test_bootstrap_ci_is_reproducible_and_near_the_normal_interval():
    x = np.random.default_rng(1).normal(0.5, 0.2, size=200)
    lo, hi = bootstrap_ci(x, statistic="mean")
    assert (lo, hi) == bootstrap_ci(x, statistic="mean")  # a fixed RNG seed
    half = 1.96 * x.std() / np.sqrt(len(x))
    assert lo == pytest.approx(x.mean() - half, abs=0.15 * half)
    assert hi == pytest.approx(x.mean() + half, abs=0.15 * half)
    ilo, ihi = bootstrap_ci(x, statistic="iqm")
    assert ilo < iqm(x) < ihi
    with pytest.raises(ValueError, match="unknown statistic"):
        bootstrap_ci(x, statistic="median")


def test_summaries_group_runs_by_env_algo_and_demos():
    records = [
        {"env": "E", "algo": "bc", "n_demos": 1, "seed": s, "normalized_score": v} for s, v in enumerate([0.0, 0.5, 1.0])
    ] + [{"env": "E", "algo": "dagger", "n_demos": 0, "seed": 0, "normalized_score": 0.9}]
    out = summarize_records(records)
    assert set(out) == {("E", "bc", 1), ("E", "dagger", 0)}
    bc = out[("E", "bc", 1)]
    assert (bc.n_runs, bc.mean, bc.iqm) == (3, pytest.approx(0.5), pytest.approx(0.5))
    assert bc.mean_ci[0] < 0.5 < bc.mean_ci[1]
    assert out[("E", "dagger", 0)].iqm_ci == (0.9, 0.9)
    assert summarize_scores([0.0, 1.0]).mean_ci == (0.0, 1.0)


def test_mean_curve_averages_evaluation_by_evaluation():
    a = [{"env_steps": 10, "train_seconds": 1.0, "normalized_score": 0.0},
         {"env_steps": 20, "train_seconds": 2.0, "normalized_score": 0.5}]
    b = [{"env_steps": 10, "train_seconds": 3.0, "normalized_score": 1.0},
         {"env_steps": 20, "train_seconds": 4.0, "normalized_score": 1.0},
         {"env_steps": 30, "train_seconds": 5.0, "normalized_score": 1.0}]
    xs, mean, lo, hi = mean_curve([a, b], x="train_seconds")
    np.testing.assert_allclose(xs, [2.0, 3.0])  # cut to the shorter run
    np.testing.assert_allclose(mean, [0.5, 0.75])
    np.testing.assert_allclose(lo, [0.0, 0.5])
    np.testing.assert_allclose(hi, [1.0, 1.0])

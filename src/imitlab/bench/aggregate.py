"""Aggregate benchmark scores over seeds: mean and interquartile mean (IQM) with percentile
bootstrap confidence intervals, as recommended by Agarwal et al. 2021, "Deep Reinforcement
Learning at the Edge of the Statistical Precipice".

All functions are pure: numbers in, numbers out, with an explicit RNG seed for the bootstrap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def iqm_weights(n: int) -> np.ndarray:
    """Weights on the sorted scores that average exactly the middle 50% of ``n`` runs.

    Each run holds 1/n of the probability mass; the weight of a run is the share of its mass that
    lies between the 25th and the 75th percentile. For ``n`` divisible by 4 this drops the lowest
    and highest quarter whole (scipy's ``trim_mean(x, 0.25)``, what rliable computes); for other
    ``n`` the boundary runs count in part instead of being dropped or kept whole, so that with 3
    seeds the IQM is not just the mean.
    """
    if n < 1:
        raise ValueError(f"need at least one score, got {n}")
    lo, hi = 0.25 * n, 0.75 * n
    edges = np.arange(n + 1, dtype=np.float64)
    w = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None)
    return w / w.sum()


def iqm(scores: Iterable[float]) -> float:
    """Interquartile mean: the mean of the middle 50% of ``scores`` (see :func:`iqm_weights`)."""
    x = np.sort(np.asarray(list(scores), dtype=np.float64))
    return float(x @ iqm_weights(len(x)))


def _iqm_rows(samples: np.ndarray) -> np.ndarray:
    """IQM of each row of a [resamples, n] array."""
    return np.sort(samples, axis=1) @ iqm_weights(samples.shape[1])


def _mean_rows(samples: np.ndarray) -> np.ndarray:
    return samples.mean(axis=1)


STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"mean": _mean_rows, "iqm": _iqm_rows}


def bootstrap_ci(
    scores: Iterable[float],
    *,
    statistic: str = "iqm",
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = 0.95,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``statistic`` ("mean" or "iqm") over runs.

    Resamples the runs with replacement ``resamples`` times (a numpy Generator seeded by ``seed``,
    so the interval is reproducible) and returns the (1 - confidence) / 2 and (1 + confidence) / 2
    quantiles of the statistic. One run gives a zero-width interval at its score.
    """
    x = np.asarray(list(scores), dtype=np.float64)
    if x.size == 0:
        raise ValueError("need at least one score")
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; use one of {', '.join(STATISTICS)}")
    rng = np.random.default_rng(seed)
    samples = x[rng.integers(0, x.size, size=(resamples, x.size))]
    values = STATISTICS[statistic](samples)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


@dataclass(frozen=True)
class ScoreSummary:
    """Mean and IQM of one group's normalized scores over runs, with 95% bootstrap intervals."""

    n_runs: int
    mean: float
    mean_ci: tuple[float, float]
    iqm: float
    iqm_ci: tuple[float, float]


def summarize_scores(scores: Iterable[float], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> ScoreSummary:
    """Mean and IQM of ``scores`` with their percentile-bootstrap 95% intervals."""
    x = np.asarray(list(scores), dtype=np.float64)
    return ScoreSummary(
        n_runs=int(x.size),
        mean=float(x.mean()),
        mean_ci=bootstrap_ci(x, statistic="mean", resamples=resamples, seed=seed),
        iqm=iqm(x),
        iqm_ci=bootstrap_ci(x, statistic="iqm", resamples=resamples, seed=seed),
    )


GroupKey = tuple[str, str, int]  # (env, algo, n_demos); n_demos 0 = interactive, no demos


def group_scores(records: Iterable[dict[str, Any]]) -> dict[GroupKey, list[float]]:
    """Normalized scores of finished runs grouped by (env, algo, n_demos), in record order."""
    groups: dict[GroupKey, list[float]] = {}
    for r in records:
        if r.get("normalized_score") is None:
            continue
        groups.setdefault((r["env"], r["algo"], int(r["n_demos"])), []).append(float(r["normalized_score"]))
    return groups


def summarize_records(records: Iterable[dict[str, Any]], *, resamples: int = BOOTSTRAP_RESAMPLES,
                      seed: int = BOOTSTRAP_SEED) -> dict[GroupKey, ScoreSummary]:
    """A :class:`ScoreSummary` per (env, algo, n_demos) group of run records."""
    return {k: summarize_scores(v, resamples=resamples, seed=seed) for k, v in group_scores(records).items()}


def mean_curve(histories: list[list[dict[str, Any]]], *, x: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Average learning curves over runs, evaluation by evaluation.

    Runs of one group share a budget and evaluation schedule, so their i-th evaluations line up in
    env steps; in seconds they do not, and the x of point i is then the runs' mean. Curves are cut
    to the shortest run. Returns (x, mean score, min score, max score) over runs.
    """
    length = min(len(h) for h in histories)
    xs = np.array([[float(row[x]) for row in h[:length]] for h in histories])
    ys = np.array([[_score(row) for row in h[:length]] for h in histories])
    return xs.mean(0), ys.mean(0), ys.min(0), ys.max(0)


def _score(row: dict[str, Any]) -> float:
    s = row.get("normalized_score")
    return float("nan") if s is None else float(s)

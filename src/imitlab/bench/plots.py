"""The bench's figures: normalized score against the number of demos, and learning curves."""

from __future__ import annotations

import os
from typing import Any

from imitlab.bench.aggregate import ScoreSummary, mean_curve
from imitlab.bench.grid import ALGOS, INTERACTIVE
from imitlab.utils import atomic_write


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | os.PathLike) -> None:
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))


def _colors(algos: list[str]) -> dict[str, str]:
    # By rank among the figure's own algorithms: matplotlib's cycle has 10 colours and the
    # registry more algorithms, so a registry-wide index gave gail and dac the same one.
    return {a: f"C{i % 10}" for i, a in enumerate(a for a in ALGOS if a in algos)}


def plot_scores_vs_demos(env_id: str, summaries: dict[tuple[str, int], ScoreSummary], path: str | os.PathLike) -> None:
    """IQM normalized score against demo episodes, one line per algorithm with its 95% bootstrap
    band; interactive algorithms (no demos) as a horizontal line and band across the plot.

    ``summaries`` maps (algo, n_demos) to the group's summary.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    counts = sorted({n for _, n in summaries if n != INTERACTIVE}) or [1]
    colors = _colors([a for a, _ in summaries])
    for algo in colors:
        points = sorted((n, s) for (a, n), s in summaries.items() if a == algo)
        if not points:
            continue
        if points[0][0] == INTERACTIVE:
            s = points[0][1]
            xs = [counts[0], counts[-1]] if len(counts) > 1 else [counts[0] * 0.8, counts[0] * 1.25]
            ax.plot(xs, [s.iqm] * 2, ls="--", color=colors[algo], label=f"{algo} (interactive, no demos)")
            ax.fill_between(xs, [s.iqm_ci[0]] * 2, [s.iqm_ci[1]] * 2, color=colors[algo], alpha=0.15)
            continue
        xs = [n for n, _ in points]
        ax.plot(xs, [s.iqm for _, s in points], marker="o", color=colors[algo], label=algo)
        ax.fill_between(xs, [s.iqm_ci[0] for _, s in points], [s.iqm_ci[1] for _, s in points], color=colors[algo], alpha=0.2)
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.axhline(0.0, color="grey", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xticks(counts, [str(n) for n in counts])
    ax.minorticks_off()
    ax.set_xlabel("expert demonstration episodes")
    ax.set_ylabel("normalized score (IQM over seeds)")
    ax.set_title(f"{env_id}: IQM with 95% bootstrap CI")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def final_scores(records: list[dict[str, Any]]) -> dict[tuple[str, int], float]:
    """The mean final normalized score of each (algorithm, demos) group, from the records'
    ``normalized_score`` (runs without one are left out; a group with none is absent).

    Not from the learning curves: those are cut to the group's shortest run, and runs that stop
    early (BC) differ in length, so the curves' last point is not every run's final score.
    """
    scores: dict[tuple[str, int], list[float]] = {}
    for r in records:
        if r.get("normalized_score") is not None:
            scores.setdefault((r["algo"], int(r["n_demos"])), []).append(float(r["normalized_score"]))
    return {k: sum(v) / len(v) for k, v in scores.items()}


def plot_bench_curves(env_id: str, records: list[dict[str, Any]], path: str | os.PathLike, *,
                      log_steps: bool = False) -> None:
    """Normalized score against env steps (left) and training seconds (right), the mean over
    seeds of each (algorithm, demos) group with a min-max band. Offline methods take no env steps:
    on the left they are a horizontal line at their runs' mean final score (``normalized_score``),
    and on the right a star marks that score at their mean training seconds, since runs that stop
    early end their curves at different points. ``log_steps``: a log scale of env steps, for
    methods whose budgets differ tenfold."""
    plt = _pyplot()
    groups: dict[tuple[str, int], list[list[dict[str, Any]]]] = {}
    seconds: dict[tuple[str, int], list[float]] = {}
    for r in records:
        if r.get("history"):
            key = (r["algo"], int(r["n_demos"]))
            groups.setdefault(key, []).append(r["history"])
            seconds.setdefault(key, []).append(float(r["train_seconds"]))
    finals = final_scores(records)
    colors = _colors([a for a, _ in groups])
    counts = sorted({n for _, n in groups if n != INTERACTIVE})
    styles = {n: ls for n, ls in zip(reversed(counts), ["-", "--", ":", "-."] * len(counts), strict=False)}
    styles[INTERACTIVE] = "-"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for (algo, n), histories in sorted(groups.items(), key=lambda kv: (list(ALGOS).index(kv[0][0]), kv[0][1])):
        label = f"{algo} ({'interactive' if n == INTERACTIVE else f'{n} demos'})"
        style = {"color": colors[algo], "ls": styles[n]}
        offline = ALGOS[algo].unit != "env_steps"
        final = finals.get((algo, n))
        for ax, x in zip(axes, ("env_steps", "train_seconds"), strict=True):
            if offline and x == "env_steps":
                if final is not None:
                    ax.axhline(final, label=label + ", final", lw=1.2, **style)
                continue
            xs, mean, lo, hi = mean_curve(histories, x=x)
            ax.plot(xs, mean, label=label, marker="." if len(xs) < 30 else None, **style)
            ax.fill_between(xs, lo, hi, color=colors[algo], alpha=0.1)
            if offline and final is not None:
                ax.plot([sum(seconds[algo, n]) / len(seconds[algo, n])], [final], marker="*", ms=9, ls="none",
                        color=colors[algo], label="_nolegend_")
    from matplotlib.ticker import EngFormatter

    if log_steps:
        axes[0].set_xscale("log")
    axes[0].xaxis.set_major_formatter(EngFormatter(sep=""))  # 200k, not 200000 run into its neighbour
    axes[0].set_xlabel("environment steps (learner's own)")
    axes[1].set_xlabel("training seconds (evaluation excluded)")
    for ax in axes:
        ax.set_ylabel("normalized score (mean over seeds)")
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, loc="lower right", handlelength=4)
    fig.suptitle(f"{env_id}: learning curves (band: min-max over seeds; flat line and star: an offline "
                 "method's final mean score)")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)

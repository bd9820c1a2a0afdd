"""The report's figures, as PNG bytes: learning curves, the adversary's health, the evaluation's
return histogram. All in :mod:`imitlab.report.style`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from imitlab.report.runs import EvalReplay, RunData
from imitlab.report.style import normalized_reference_lines, png_bytes, series_style, styled


def _column(rows: list[dict[str, float]], key: str) -> np.ndarray:
    return np.array([row.get(key, math.nan) for row in rows], dtype=np.float64)


def _score_axis(runs: list[RunData]) -> tuple[str, str]:
    """``("normalized_score", label)`` when every run has normalized scores (its env is in the
    task registry), else the mean return."""
    if all(r.metrics and np.isfinite(_column(r.metrics, "normalized_score")).any() for r in runs):
        return "normalized_score", "normalized score (0: random, 1: expert)"
    return "mean_return", "mean return (deterministic policy)"


def _std_band(run: RunData, key: str) -> np.ndarray | None:
    """The evaluation's std of returns in the units of ``key`` (normalized: divided by the
    registry's expert - random gap)."""
    std = _column(run.metrics, "std_return")
    if key == "mean_return":
        return std
    from imitlab.tasks import get_task

    task = get_task(run.env_id)
    return None if task is None else std / (task.expert_return - task.random_return)


def learning_curves_png(runs: list[RunData], *, title: str = "") -> bytes:
    """Normalized score (or mean return) against env steps (left) and training seconds (right),
    one series per run, each with a band of ±1 std of its evaluation episodes. A run without env
    steps of its own (BC) is plotted against its epochs on the left, or, beside runs that have env
    steps, as a flat line at its final score."""
    key, ylabel = _score_axis(runs)
    with styled() as plt:
        # Fixed margins, not a layout engine: constrained or tight layout doubles a figure's cost.
        fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.4))
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.15, top=0.88, wspace=0.2)
        all_offline = all(r.offline for r in runs)
        for i, run in enumerate(runs):
            if not run.metrics:
                continue
            style = series_style(i)
            y = _column(run.metrics, key)
            band = _std_band(run, key)
            label = run.name if len(runs) > 1 else run.algo
            for ax, xkey in zip(axes, ("env_steps", "train_seconds"), strict=True):
                if xkey == "env_steps" and run.offline:
                    if not all_offline:
                        ax.axhline(y[-1], color=style["color"], ls=style["ls"], lw=1.2, label=f"{label} (offline: final)")
                        continue
                    xkey = "epoch"
                x = _column(run.metrics, xkey)
                ok = np.isfinite(x) & np.isfinite(y)
                ax.plot(x[ok], y[ok], label=label, markevery=max(1, ok.sum() // 12), **style)
                if band is not None and ok.sum() > 1:
                    ax.fill_between(x[ok], (y - band)[ok], (y + band)[ok], color=style["color"], alpha=0.12, lw=0)
        from matplotlib.ticker import EngFormatter

        axes[0].xaxis.set_major_formatter(EngFormatter(sep=""))
        axes[0].set_xlabel("epochs" if all_offline else "environment steps (the learner's own)")
        axes[1].set_xlabel("training time (s, evaluations excluded)")
        for ax in axes:
            ax.set_ylabel(ylabel)
            if key == "normalized_score":
                normalized_reference_lines(ax)
            if len(runs) > 1 and ax.get_legend_handles_labels()[0]:
                ax.legend(loc="lower right")
        fig.suptitle(title or "learning curves (band: ±1 std over the evaluation's episodes)")
        return png_bytes(fig)


_HEALTH_PANELS: list[tuple[str, list[tuple[str, str]], str, float | None]] = [
    ("discriminator accuracy", [("disc_expert_acc", "on expert pairs"), ("disc_policy_acc", "on policy pairs")],
     "accuracy (fraction)", 0.5),
    ("discriminator logit", [("disc_expert_logit", "on expert pairs"), ("disc_policy_logit", "on policy pairs")],
     "mean logit (nats)", 0.0),
    ("reward given to the policy", [("mean_reward", "mean per step")], "reward per step", None),
    ("the policy's episodes", [("episode_length", "mean length")], "episode length (steps)", None),
]


def adversary_health_png(run: RunData) -> bytes | None:
    """The discriminator's accuracy and logits on expert and policy pairs, the reward it gives,
    and the policy's episode length, over env steps; None if progress.csv logged none of them.

    Healthy: accuracies above 0.5 but short of 1, logits apart but bounded. A discriminator that
    wins outright (accuracy 1, logits diverging) gives the policy no signal."""
    if not run.has_health:
        return None
    x = run.progress.get("env_steps")
    if x is None:
        x = np.arange(len(next(iter(run.progress.values()))), dtype=np.float64)
    panels = [p for p in _HEALTH_PANELS if any(c in run.progress and np.isfinite(run.progress[c]).any() for c, _ in p[1])]
    with styled() as plt:
        cols = 2
        rows = math.ceil(len(panels) / cols)
        height = 2.7 * rows + 0.4
        fig, axes = plt.subplots(rows, cols, figsize=(9.6, height), squeeze=False)
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.45 / height, top=1 - 0.65 / height, wspace=0.2, hspace=0.6)
        from matplotlib.ticker import EngFormatter

        for ax, (title, series, ylabel, ref) in zip(axes.flat, panels, strict=False):
            for i, (column, label) in enumerate(series):
                y = run.progress.get(column)
                if y is None:
                    continue
                ok = np.isfinite(y) & np.isfinite(x)
                style = series_style(i)
                ax.plot(x[ok], y[ok], label=label, markevery=max(1, ok.sum() // 12), **style)
            if ref is not None:
                ax.axhline(ref, color="#444444", lw=0.9, ls=":")
            if title == "discriminator accuracy":
                ax.set_ylim(-0.02, 1.02)
            ax.set_title(title)
            ax.set_ylabel(ylabel)
            ax.set_xlabel("environment steps")
            ax.xaxis.set_major_formatter(EngFormatter(sep=""))
            if len(series) > 1:
                ax.legend(loc="best")
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        fig.suptitle(f"{run.name}: the adversary's health (dotted: chance accuracy 0.5, logit 0)")
        return png_bytes(fig)


def return_histogram_png(run: RunData, replay: EvalReplay) -> bytes:
    """The replayed evaluation's episode returns as a histogram, against the task registry's
    expert and random returns (mean, and a band of ±1 std); a top axis in normalized score."""
    from imitlab.tasks import get_task

    task = get_task(run.env_id)
    returns = replay.returns
    with styled() as plt:
        fig, ax = plt.subplots(figsize=(9.6, 3.2))
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.15, top=0.78)
        lo, hi = float(returns.min()), float(returns.max())
        refs: list[tuple[str, float, float, dict[str, Any]]] = []
        if task is not None:
            refs = [("random", task.random_return, task.random_std, series_style(2)),
                    ("expert", task.expert_return, task.expert_std, series_style(1))]
            lo = min(lo, *(m - s for _, m, s, _ in refs))
            hi = max(hi, *(m + s for _, m, s, _ in refs))
        span = hi - lo or max(1.0, abs(hi))
        bins = np.linspace(lo - 0.02 * span, hi + 0.02 * span, 41)
        ax.hist(returns, bins=bins, color=series_style(0)["color"], alpha=0.85,
                label=f"{run.name}: {len(returns)} episodes, mean {returns.mean():.1f} ± {returns.std():.1f}")
        for name, mean, std, style in refs:
            ax.axvspan(mean - std, mean + std, color=style["color"], alpha=0.15, lw=0)
            ax.axvline(mean, color=style["color"], ls="--", lw=1.4, label=f"{name} (task registry): {mean:.1f} ± {std:.1f}")
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("episode return")
        ax.set_ylabel("episodes")
        ax.legend(loc="best")
        if task is not None:
            gap = task.expert_return - task.random_return
            top = ax.secondary_xaxis("top", functions=(lambda r: (r - task.random_return) / gap,
                                                       lambda s: s * gap + task.random_return))
            top.set_xlabel("normalized score")
        ax.set_title(f"{run.name}: the final evaluation's returns (seed {replay.seed}, deterministic)")
        return png_bytes(fig)

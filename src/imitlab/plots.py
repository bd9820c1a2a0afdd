"""Learning-curve figures (matplotlib, no display needed)."""

from __future__ import annotations

import os
from typing import Any

from imitlab.utils import atomic_write


def plot_learning_curves(
    curves: dict[str, list[dict[str, Any]]],
    path: str | os.PathLike,
    *,
    title: str,
    references: dict[str, float] | None = None,
) -> None:
    """One panel per x-axis kind: runs evaluated by env steps, runs evaluated by epochs.

    ``curves`` maps a run's name to its evaluation history (rows with ``env_steps`` or ``epoch``
    and ``mean_return``); ``references`` draws horizontal lines (e.g. expert and random returns).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_steps = {k: v for k, v in curves.items() if v and v[0].get("epoch") is None}
    by_epoch = {k: v for k, v in curves.items() if v and v[0].get("epoch") is not None}
    panels = [(by_steps, "env_steps", "environment steps"), (by_epoch, "epoch", "epochs")]
    panels = [p for p in panels if p[0]]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (runs, key, label) in zip(axes[0], panels):
        for name, rows in runs.items():
            ax.plot([r[key] for r in rows], [r["mean_return"] for r in rows], marker="o", ms=3, label=name)
        for name, value in (references or {}).items():
            ax.axhline(value, ls="--", lw=1, color="grey")
            ax.annotate(name, (0, value), xycoords=("axes fraction", "data"), fontsize=8, va="bottom", color="grey")
        ax.set_xlabel(label)
        ax.set_ylabel("mean return (deterministic)")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)

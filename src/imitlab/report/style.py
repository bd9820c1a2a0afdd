"""One matplotlib style for every figure of a report: readable on screen and in print.

Colour-blind-safe colours (matplotlib's ``tableau-colorblind10``), markers and line styles that
still tell series apart in grey print, light grids, no top and right spines, axis labels with
their units, and the normalized score's reference lines (0: random, 1: expert) drawn the same way
everywhere.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

COLORS = ["#006BA4", "#FF800E", "#595959", "#C85200", "#5F9ED1", "#ABABAB", "#898989", "#A2C8EC", "#FFBC79", "#CFCFCF"]
LINESTYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P"]
DPI = 100

STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "lines.markersize": 3.5,
    "legend.frameon": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
}


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def styled() -> Iterator[Any]:
    """pyplot with :data:`STYLE` and the colour cycle applied for the block."""
    plt = pyplot()
    from cycler import cycler

    with plt.rc_context({**STYLE, "axes.prop_cycle": cycler(color=COLORS)}):
        yield plt


def series_style(i: int) -> dict[str, Any]:
    """The colour, line style and marker of the i-th series of a figure."""
    return {"color": COLORS[i % len(COLORS)], "ls": LINESTYLES[i % len(LINESTYLES)], "marker": MARKERS[i % len(MARKERS)]}


def normalized_reference_lines(ax: Any) -> None:
    """The normalized score's 0 (random) and 1 (expert) lines, labelled at the left edge."""
    for y, name in ((0.0, "random"), (1.0, "expert")):
        ax.axhline(y, color="#444444", lw=0.9, ls=":", zorder=1)
        ax.annotate(f"{name} = {y:g}", (0.0, y), xycoords=("axes fraction", "data"), xytext=(2, 2),
                    textcoords="offset points", ha="left", va="bottom", fontsize=7, color="#444444")


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes (closed after)."""
    plt = pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return buf.getvalue()

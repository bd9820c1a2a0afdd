"""``imitlab report``: one HTML page for one run or a set of runs."""

from __future__ import annotations

import time

import click

from imitlab.cli._common import threads


@click.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path())
@click.option("--out", default="report.html", show_default=True, type=click.Path(dir_okay=False),
              help="The page: one self-contained .html file (figures and videos embedded).")
@click.option("--eval-episodes", type=click.IntRange(min=0),
              help="Episodes of the replayed final evaluation behind the return histogram. Default: the run's own "
                   "final evaluation's count (so the histogram is that evaluation); 0: no histogram.")
@click.option("--title", help="The page's title.")
def report_cmd(runs, out, eval_episodes, title) -> None:
    """Write an HTML report of run directories: curves, adversary health, returns, video, config."""
    threads()
    from imitlab.report.html import build_report

    t0 = time.perf_counter()
    path = build_report(list(runs), out, eval_episodes=eval_episodes, title=title)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {len(runs)} run{'s' if len(runs) > 1 else ''}) "
               f"in {time.perf_counter() - t0:.1f} s")

"""``imitlab quickstart``: the whole pipeline on one task."""

from __future__ import annotations

import click

from imitlab.cli._common import threads


@click.command()
@click.option("--out", default="imitlab-quickstart", show_default=True, type=click.Path(), help="Output directory.")
@click.option("--env", "env_id", default="CartPole-v1", show_default=True)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--demos", "n_demos", default=10, show_default=True, type=click.IntRange(min=1), help="Expert episodes to learn from.")
def quickstart(out: str, env_id: str, seed: int, n_demos: int) -> None:
    """Shipped expert -> demos -> BC and GAIL -> evaluation table, plot, summary.json."""
    threads()
    from imitlab.quickstart import run_quickstart

    run_quickstart(out=out, env_id=env_id, seed=seed, n_demos=n_demos, progress=True)

"""``imitlab zoo``: the shipped experts and the task registry."""

from __future__ import annotations

import click

from imitlab.cli._common import echo_json


@click.group()
def zoo() -> None:
    """The shipped experts and the task registry."""


@zoo.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def zoo_list(as_json) -> None:
    """Each task: its shipped experts, their returns and how they were made, the random return, Q*."""
    from imitlab.experts.catalog import format_zoo_table, zoo_entries

    rows = zoo_entries()
    if as_json:
        echo_json(rows)
        return
    click.echo(format_zoo_table(rows))

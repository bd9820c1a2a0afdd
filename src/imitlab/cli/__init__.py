"""The ``imitlab`` command line: ``main`` and the root group; one module per command group.

A user's mistake (:class:`~imitlab.errors.UserError`, or a bad option) prints one line on stderr
and exits with 2; a warning is one line on stderr too.
"""

from __future__ import annotations

import sys
import warnings

import click

from imitlab.cli import bench, demos, expert, quickstart, reward, train, zoo
from imitlab.cli import eval as eval_module
from imitlab.cli._common import INVOCATION
from imitlab.cli.report import report_cmd
from imitlab.cli.video import video_cmd
from imitlab.errors import UserError

_INVOCATION: list[str] = INVOCATION  # the command line main() runs, as an expert file records it


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imitlab")
def cli() -> None:
    """imitlab: learn control policies from expert demonstrations."""


# The groups keep their modules' names (imitlab.cli.train is the module, imitlab.cli.train.train the group).
for _command in (quickstart.quickstart, expert.expert, demos.demos, train.train, reward.reward, bench.bench, zoo.zoo,
                 eval_module.eval_cmd, video_cmd, report_cmd):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the CLI and maps a user's mistake to one line on stderr, exit status 2;
    a warning is one line on stderr too."""
    _INVOCATION[:] = sys.argv[1:] if argv is None else argv
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning
        return _run(list(_INVOCATION))


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"imitlab: warning: {' '.join(str(message).split())}", err=True)


def _run(args: list[str]) -> int:
    try:
        cli.main(args=args, prog_name="imitlab", standalone_mode=False)
    except UserError as e:
        # One line whatever the message holds (a library's text quoted in it may span several).
        click.echo(f"imitlab: error: {' '.join(str(e).split())}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("imitlab: aborted", err=True)
        return 130
    except click.UsageError as e:
        where = e.ctx.command_path if e.ctx is not None else "imitlab"
        click.echo(f"imitlab: error: {e.format_message()} (see '{where} --help')", err=True)
        return 2
    except click.ClickException as e:
        click.echo(f"imitlab: error: {e.format_message()}", err=True)
        return e.exit_code
    except KeyboardInterrupt:
        click.echo("imitlab: interrupted", err=True)
        return 130
    return 0


__all__ = ["cli", "main"]

"""What the command groups share: one torch thread, JSON output, help texts computed when shown,
budgets that default to the task's or a resumed run's, run directories, the training report."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import click

from imitlab.errors import UserError

INVOCATION: list[str] = []  # the command line main() runs, as an expert file records it (filled in place)


def threads() -> None:
    # One thread: small MLPs gain nothing from two, and two spin when the other core is busy.
    import torch

    torch.set_num_threads(1)


ENV_KWARGS_HELP = ("""Keyword arguments the env is made with, as a JSON object (e.g. '{"g": 15.0}' for Pendulum-v1's """
                   "gravity, '{\"enable_wind\": true}' for LunarLander-v3); recorded in config.json. Normalized scores "
                   "are not given under them (the task registry's returns are the registered env's).")


def env_kwargs_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--env-kwargs JSON`` option (parameter ``env_kwargs_json``)."""
    return click.option("--env-kwargs", "env_kwargs_json", metavar="JSON", help=ENV_KWARGS_HELP)(f)


def env_kwargs_scope(env_id: str, text: str | None) -> contextlib.AbstractContextManager[None]:
    """The block in which every env of ``env_id`` is made with ``--env-kwargs`` (checked first)."""
    from imitlab.envs.vector import env_kwargs, parse_env_kwargs

    return env_kwargs(env_id, parse_env_kwargs(text))


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2))


class LateHelpOption(click.Option):
    """An option whose help ends with a sentence built when the help is shown: a default that
    depends on ``--env`` (Click can show only one static default), or a list that is read from a
    registry. Built late because it may need the defaults table, hence torch: too slow to build
    for every command line."""

    def __init__(self, *args: Any, late_help: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._late_help = late_help

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        base = self.help
        self.help = f"{base or ''} {self._late_help()}".strip()
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = base


def by_value(pairs: Sequence[tuple[str, Hashable]], fmt: Callable[[Any], str] = "{:,}".format) -> str:
    """``[("A", 1), ("B", 2), ("C", 1)]`` -> ``"1 on A and C; 2 on B"`` (values in first-seen order)."""
    groups: dict[Hashable, list[str]] = {}
    for env_id, value in pairs:
        groups.setdefault(value, []).append(env_id)
    return "; ".join(f"{fmt(value)} on {' and '.join(envs)}" for value, envs in groups.items())


def per_task(value_on: Callable[[str | None], Hashable], fmt: Callable[[Any], str]) -> tuple[str | None, str]:
    """How a per-task default varies: ``(None, "X")`` when every task has the fallback X (the
    value on an env without task defaults), else ``("X on A; Y on B and C", fallback)``."""
    from imitlab.tasks import TASKS

    fallback = value_on(None)
    special = [(env_id, value) for env_id in TASKS if (value := value_on(env_id)) != fallback]
    return (by_value(special, fmt) if special else None), fmt(fallback)


def budget_help(algo: str) -> Callable[[], str]:
    """The help sentence on the default budget of ``imitlab train ALGO``: the bench's, per task."""

    def describe() -> str:
        from imitlab.bench.grid import base_budget

        special, fallback = per_task(lambda env_id: base_budget(algo, env_id), "{:,}".format)
        if special is None:
            return f"Default: {fallback}, the bench's budget on every task (imitlab.bench.grid.base_budget)."
        return (f"Default: the bench's budget for the task (imitlab.bench.grid.base_budget): "
                f"{special}; {fallback} on any other env.")

    return describe


def recorded_steps(run_dir: str, key: str = "total_steps") -> int | None:
    """The budget (``key``) in ``run_dir``'s config.json, or None where there is none to read
    (resuming then fails on the missing checkpoint, with its own message)."""
    try:
        steps = json.loads((Path(run_dir) / "config.json").read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return steps if isinstance(steps, int) and steps > 0 else None


def resolve_budget(value: int | None, algo: str, env_id: str, *, resume_out: str | None = None,
                   key: str = "total_steps") -> int:
    """``value``, or when the option was not given: a resumed run's own budget (``key`` in its
    config.json: a default would silently extend it), else the task's default budget of ``algo``."""
    if value is not None:
        return value
    if resume_out is not None:
        recorded = recorded_steps(resume_out, key)
        if recorded is not None:
            return recorded
    from imitlab.bench.grid import base_budget

    return base_budget(algo, env_id)


def run_dir_for(out: str, *, overwrite: bool, resume: bool) -> Path:
    """The run directory: ``out`` as it is to resume it, else checked to be new (or --overwrite)."""
    from imitlab.runlog import prepare_run_dir

    if resume:
        if overwrite:
            raise UserError("--resume continues the run in --out; drop --overwrite (it would start the run afresh)")
        return Path(out)
    return prepare_run_dir(out, overwrite=overwrite)


def report(result: Any, where: Any) -> None:
    """One line on a finished training: its time, final return and score, and what it wrote."""
    f = result.final
    score = "" if f is None or f.normalized_score is None else f", normalized {f.normalized_score:.3f}"
    ret = "" if f is None else f"; final return {f.mean_return:.1f} ± {f.std_return:.1f}{score}"
    click.echo(f"trained in {result.train_seconds:.2f} s{ret}; wrote {where}")
    corr = getattr(result, "reward_correlation", None)
    if corr:
        click.echo(correlation_line(corr))


def correlation_line(corr: dict[str, Any]) -> str:
    """One line on a learned reward's correlation with the env's reward (``rewards.analysis.reward_correlation``)."""

    def fmt(entry: dict[str, Any] | None) -> str:
        if entry is None:
            return "n/a"
        if entry.get("pearson") is None:
            return f"undefined ({entry.get('note', 'constant')})"
        n = entry.get("transitions")
        return f"Pearson {entry['pearson']:.3f}, Spearman {entry['spearman']:.3f}" + ("" if n is None else f" ({n} transitions)")

    return f"learned vs true reward: expert states {fmt(corr.get('expert'))}; random states {fmt(corr.get('random'))}"

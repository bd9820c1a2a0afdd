"""``imitlab train``: one command per imitation algorithm of the registry, generated from its entry.

A command's options are the shared ones that the algorithm's needs call for (``--demos``,
``--episodes``, ``--subsample-every``, ``--pairs`` for demonstrations; ``--expert`` for an
expert; ``--init-from`` for a warm start; ``--resume`` and ``--checkpoint-every`` when its runs
resume; the budget option, whose default is the task's) and one option per documented field of
its config dataclass: the field's attribute docstring (its first paragraph) is the help, its type
the option's (bool: ``--x/--no-x``; ``Literal``: a choice; ``tuple[int, ...]``: comma-separated
integers), and the entry's :class:`~imitlab.algorithms.registry.OptionSpec` an older name and the
values accepted. A config option left out keeps the task's value (:func:`imitlab.defaults.config_for`),
which ``--help`` states task by task. So ``--help`` and the Python API cannot drift apart.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, MutableMapping
from dataclasses import fields
from typing import Any, Literal, Union, get_args, get_origin

import click

from imitlab.algorithms.registry import ALGORITHMS, AlgorithmSpec, OptionSpec, field_docs
from imitlab.cli._common import (
    ENV_KWARGS_HELP,
    LateHelpOption,
    budget_help,
    env_kwargs_scope,
    per_task,
    report,
    resolve_budget,
    run_dir_for,
    threads,
)
from imitlab.errors import UserError

_UNIT_WORDS = {"epochs": "Epochs", "env_steps": "Env steps", "iterations": "Iterations"}
_EXPERT_HELP = ("'zoo', 'zoo:ALGO' (e.g. zoo:dqn), 'optimal' (exact, for envs with tabular dynamics), 'sb3:PATH' "
                "(a Stable-Baselines3 zip) or a policy file / run dir.")
_SUBSETS = (("n_episodes", "--episodes"), ("subsample_every", "--subsample-every"), ("pairs", "--pairs"))
_CONFIG_DEST = "cfg_"  # a config option's parameter name is this + the field's, apart from the shared ones


# -------------------------------------------------------------------------------- config fields
class IntTuple(click.ParamType):
    """Comma-separated positive integers (layer sizes): ``64,64`` -> ``(64, 64)``."""

    name = "INTS"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        try:
            sizes = tuple(int(part) for part in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not comma-separated integers, e.g. 64,64", param, ctx)
        if min(sizes) < 1:
            self.fail(f"{value!r}: sizes must be positive, e.g. 64,64", param, ctx)
        return sizes


def _type_hints(config_class: type) -> dict[str, Any]:
    """The fields' types, resolved (``from __future__ import annotations`` leaves them strings)."""
    try:
        return typing.get_type_hints(config_class)
    except Exception:  # noqa: BLE001 - an annotation that cannot be resolved: keep the strings
        return {f.name: f.type for f in fields(config_class)}


def _unwrap_optional(hint: Any) -> Any:
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _param_type(hint: Any, opt: OptionSpec) -> click.ParamType | bool | None:
    """The click type of a field of type ``hint``; True for a flag (bool); None if the CLI cannot
    set it (a nested config, a network spec)."""
    hint = _unwrap_optional(hint)
    if hint in (bool, "bool"):
        return True
    if get_origin(hint) is Literal and all(isinstance(v, str) for v in get_args(hint)):
        return click.Choice(list(get_args(hint)))
    if hint in (int, "int"):
        if opt.min is None and opt.max is None:
            return click.INT
        return click.IntRange(min=_int_bound(opt.min), max=_int_bound(opt.max), max_open=opt.max_open)
    if hint in (float, "float"):
        if opt.min is None and opt.max is None:
            return click.FLOAT
        return click.FloatRange(min=opt.min, max=opt.max, max_open=opt.max_open)
    if hint in (str, "str"):
        return click.STRING
    if get_origin(hint) is tuple and get_args(hint) == (int, ...):
        return IntTuple()
    return None


def _int_bound(bound: float | None) -> int | None:
    """An int field's bound as an int (OptionSpec's bounds are floats, to serve float fields too).

    Raises:
        ValueError: the registry gives an int field a bound that is not a whole number.
    """
    if bound is None:
        return None
    if bound != int(bound):
        raise ValueError(f"an int config field's bound must be a whole number, got {bound}")
    return int(bound)


def _show(value: Any, flag: str) -> str:
    """A default as a user would give it: a bool as its flag (``--x`` or ``--no-x``)."""
    if isinstance(value, bool):
        return flag if value else f"--no-{flag[2:]}"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def _field_default_help(algo: str, name: str, flag: str) -> Callable[[], str]:
    """The help sentence on a config option's default: the task's config's value, task by task."""

    def describe() -> str:
        from imitlab.defaults import config_for

        special, fallback = per_task(lambda env_id: getattr(config_for(algo, env_id), name), lambda v: _show(v, flag))
        return f"Default: {fallback}." if special is None else f"Default: {special}; {fallback} on any other env."

    return describe


def _help_text(doc: str, flags: dict[str, str]) -> str:
    """A field docstring's first paragraph on one line; its ``name`` references as the options'
    names where the fields are options, else bare."""
    text = " ".join(doc.split("\n\n")[0].split())
    return re.sub(r"``([^`]+)``", lambda m: flags.get(m[1], m[1]), text)


def _flag_names(name: str, opt: OptionSpec) -> list[str]:
    own = "--" + name.replace("_", "-")
    return [opt.flag, own] if opt.flag and opt.flag != own else [own]


def config_options(spec: AlgorithmSpec, taken: set[str]) -> tuple[list[click.Option], list[str]]:
    """The options of ``spec``'s config fields, and the fields they set.

    A field is an option when it has an attribute docstring or an entry in ``spec.options``, and
    its type is one the CLI can parse; the budget field (BC's epochs) is the budget option.

    Raises:
        ValueError: ``spec.options`` names no field, or an option would take a name in ``taken``.
    """
    config_class = spec.config_class
    names = [f.name for f in fields(config_class)]
    unknown = set(spec.options) - set(names)
    if unknown:
        raise ValueError(f"{spec.name}: the registry's options name no field of {config_class.__name__}: {sorted(unknown)}")
    docs, hints = field_docs(config_class), _type_hints(config_class)
    chosen: list[tuple[str, OptionSpec, click.ParamType | bool]] = []
    for name in names:
        opt = spec.options.get(name)
        if (name in docs or opt is not None) and not (spec.budget.in_config and name == spec.budget.param):
            param_type = _param_type(hints.get(name), opt or OptionSpec())
            if param_type is not None:
                chosen.append((name, opt or OptionSpec(), param_type))
    # What a docstring's ``field`` means on the command line: the option that sets it.
    flags_of = {name: _flag_names(name, opt)[0] for name, opt, _ in chosen}
    if spec.budget.in_config:
        flags_of[spec.budget.param] = spec.budget.option
    taken = set(taken)
    options: list[click.Option] = []
    for name, opt, param_type in chosen:
        flags = _flag_names(name, opt)
        negations = [f"--no-{flag[2:]}" for flag in flags] if param_type is True else []
        clash = (set(flags) | set(negations)) & taken
        if clash:
            raise ValueError(f"{spec.name}: config field {name!r} would take the option {sorted(clash)[0]}")
        taken |= set(flags) | set(negations)
        decls = [f"{flag}/{negation}" for flag, negation in zip(flags, negations)] if param_type is True else flags
        help_text = _help_text(docs[name], flags_of) if name in docs else (opt.help or "")
        kwargs: dict[str, Any] = {"default": None} if param_type is True else {"type": param_type}
        options.append(LateHelpOption([*decls, _CONFIG_DEST + name], help=help_text,
                                      late_help=_field_default_help(spec.name, name, flags[0]), **kwargs))
    return options, [name for name, _, _ in chosen]


# -------------------------------------------------------------------------------- shared options
def shared_options(spec: AlgorithmSpec) -> list[click.Option]:
    """The options of ``imitlab train NAME`` that come from what the algorithm needs, not its config."""
    unit = _UNIT_WORDS[spec.budget.unit]
    takes_demos = "demos" in spec.needs or "demos" in spec.accepts
    options = [click.Option(["--env", "env_id"], required=True),
               click.Option(["--env-kwargs", "env_kwargs_json"], metavar="JSON", help=ENV_KWARGS_HELP)]
    if takes_demos:
        required = "demos" in spec.needs
        options += [
            click.Option(["--demos", "demos_file"], required=required, type=click.Path(dir_okay=False),
                         help=None if required else "Demonstrations to start from (optional)."),
            click.Option(["--episodes", "n_episodes"], type=click.IntRange(min=1), help="Use the first N demo episodes."),
            click.Option(["--subsample-every", "subsample_every"], type=click.IntRange(min=1),
                         help="Keep every k-th step of each episode."),
            click.Option(["--pairs", "pairs"], type=click.IntRange(min=1), help="Train on this many random (s, a) pairs."),
        ]
    if spec.needs_expert:
        options.append(click.Option(["--expert", "expert_spec"], required=True, help=_EXPERT_HELP))
    options += [
        LateHelpOption([spec.budget.option, "budget"], type=click.IntRange(min=1), help=spec.budget.help,
                       late_help=budget_help(spec.name)),
        click.Option(["--seed", "seed"], default=0, show_default=True, type=int),
        click.Option(["--out", "out"], required=True, type=click.Path(), help="Run directory."),
        click.Option(["--eval-every", "eval_every"], default=spec.eval_every, show_default=True, type=click.IntRange(min=0),
                     help=spec.eval_every_help or f"{unit} between evaluations."),
        click.Option(["--eval-episodes", "eval_episodes"], default=50, show_default=True, type=click.IntRange(min=1)),
        click.Option(["--overwrite", "overwrite"], is_flag=True, help="Reuse a non-empty run directory."),
        click.Option(["--video", "video"], is_flag=True,
                     help="Film the final policy into the run directory: video.mp4, one episode (needs imitlab[video])."),
    ]
    if "init_policy" in spec.accepts:
        options.append(click.Option(["--init-from", "init_from"], type=click.Path(),
                                    help="Warm-start the policy from a run dir or policy file (e.g. a BC run)."))
    if spec.resumable:
        options += [
            click.Option(["--checkpoint-every", "checkpoint_every"], type=click.IntRange(min=0),
                         help=f"{unit} between checkpoints of the run directory (default: --eval-every; 0: none)."),
            click.Option(["--resume", "resume"], is_flag=True,
                         help="Continue the run in --out from its checkpoint (same options; the budget may grow)."),
        ]
    return options


# -------------------------------------------------------------------------------------- running
def load_training_demos(env_id: str, demos_file: str, n_episodes: int | None, subsample_every: int | None,
                        pairs: int | None, seed: int):
    """The demos of ``--demos``, cut to ``--episodes`` and subsampled by ``--subsample-every`` or
    ``--pairs`` (drawn from ``seed``), checked against ``env_id``."""
    import numpy as np

    from imitlab.data.demos import load_demos
    from imitlab.envs.vector import check_env_id

    check_env_id(env_id)
    d = load_demos(demos_file)
    if n_episodes:
        d = d.head(n_episodes)
    if subsample_every and pairs:
        raise UserError("pass at most one of --subsample-every and --pairs")
    if subsample_every or pairs:
        from imitlab.algorithms._inputs import expert_transitions

        expert_transitions(env_id, d)  # check the env before subsampling hides it
        return d.subsample(every=subsample_every, pairs=pairs, rng=np.random.default_rng(seed))
    return d


def load_init_policy(path: str | None, env_id: str):
    """The warm-start policy of ``--init-from``, checked against ``env_id``."""
    if path is None:
        return None
    from imitlab.algorithms._inputs import check_init_policy
    from imitlab.envs.vector import env_spaces
    from imitlab.policies import load_policy

    policy, meta = load_policy(path)
    if meta.get("env_id") != env_id:
        raise UserError(f"--init-from {path!r} was trained on {meta.get('env_id')}, not {env_id}; start from a run of {env_id}")
    check_init_policy(policy, env_id, *env_spaces(env_id))
    return policy


def _inputs(spec: AlgorithmSpec, kw: dict[str, Any]) -> dict[str, Any]:
    """What the train function takes besides its config and budget: demos, expert, warm start.
    Everything that can fail on the user's files fails here, before the run directory exists."""
    from imitlab.envs.vector import check_env_id

    env_id = kw["env_id"]
    check_env_id(env_id)
    inputs: dict[str, Any] = {}
    if kw.get("demos_file"):
        inputs["demos"] = load_training_demos(env_id, kw["demos_file"], kw["n_episodes"], kw["subsample_every"],
                                              kw["pairs"], kw["seed"])
    else:
        for dest, flag in _SUBSETS:
            if kw.get(dest):
                raise UserError(f"{flag} needs --demos")
    if spec.needs_expert:
        from imitlab.experts import load_expert

        inputs["expert"] = load_expert(kw["expert_spec"], env_id)
    if "init_policy" in spec.accepts:
        inputs["init_policy"] = load_init_policy(kw["init_from"], env_id)
    return inputs


def run_train_command(spec: AlgorithmSpec, config_fields: list[str], kw: dict[str, Any]) -> None:
    """``imitlab train NAME`` with the parsed options ``kw``: load and check the inputs, build the
    task's config with the options given, resolve the budget, then train into the run directory."""
    threads()
    with env_kwargs_scope(kw["env_id"], kw.get("env_kwargs_json")):
        _run_train_command(spec, config_fields, kw)


def _run_train_command(spec: AlgorithmSpec, config_fields: list[str], kw: dict[str, Any]) -> None:
    from imitlab.defaults import config_for

    env_id, out = kw["env_id"], kw["out"]
    inputs = _inputs(spec, kw)
    if kw.get("video"):
        from imitlab.report.video import require_video_support

        require_video_support(env_id)  # a missing encoder or off-screen GL is found now, not after the training
    overrides = {name: kw[_CONFIG_DEST + name] for name in config_fields if kw[_CONFIG_DEST + name] is not None}
    config = config_for(spec.name, env_id, **overrides)
    if "q_expert" in spec.needs:
        from imitlab.experts.montecarlo import require_q

        require_q(env_id, inputs["expert"])
    resume = bool(kw.get("resume"))
    budget = resolve_budget(kw["budget"], spec.name, env_id, resume_out=out if resume else None, key=spec.budget.param)
    run_dir = run_dir_for(out, overwrite=kw["overwrite"], resume=resume)
    config, budget_kwargs = spec.apply_budget(config, budget)
    resume_kwargs = {"checkpoint_every": kw["checkpoint_every"], "resume": resume} if spec.resumable else {}
    result = spec.train_fn(
        env_id=env_id, seed=kw["seed"], config=config, out=run_dir, eval_every=kw["eval_every"],
        eval_episodes=kw["eval_episodes"], progress=True, **inputs, **budget_kwargs, **resume_kwargs,
    )
    report(result, run_dir)
    if kw.get("video"):
        from imitlab.report.video import episode_summary, write_run_video

        filmed = write_run_video(run_dir, seed=kw["seed"])
        click.echo(f"wrote {filmed.path}: {episode_summary(filmed.episodes[0])}")


def build_train_command(spec: AlgorithmSpec) -> click.Command:
    """The ``imitlab train NAME`` command of a registry entry."""
    shared = shared_options(spec)
    taken = {name for option in shared for name in (*option.opts, *option.secondary_opts)}
    config_opts, config_fields = config_options(spec, taken)
    return click.Command(spec.name, params=[*shared, *config_opts], help=spec.description,
                         callback=lambda **kw: run_train_command(spec, config_fields, kw))


class RegistryGroup(click.Group):
    """A group whose commands are the registry's imitation algorithms, each built from its entry
    when first asked for (building imports the config class, hence torch) and rebuilt if the entry
    changes; ``commands`` reads the registry live, so an algorithm registered later is a command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._built: dict[str, tuple[AlgorithmSpec, click.Command]] = {}
        super().__init__(*args, **kwargs)

    fixed: dict[str, click.Command] = {}
    """Commands that are not algorithms of the registry (``imitlab train rl``), by name."""

    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        return {**{name: self._built_command(name, spec) for name, spec in ALGORITHMS.items()}, **self.fixed}

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        if value:
            raise TypeError("imitlab train's commands come from the algorithm registry: register() an algorithm instead")

    def _command(self, name: str) -> click.Command | None:
        if name in self.fixed:
            return self.fixed[name]
        spec = ALGORITHMS.get(name)
        return None if spec is None else self._built_command(name, spec)

    def _built_command(self, name: str, spec: AlgorithmSpec) -> click.Command:
        """The command of the entry ``spec`` (registered as ``name``), built again if the entry changed."""
        built = self._built.get(name)
        if built is None or built[0] is not spec:
            built = self._built[name] = (spec, build_train_command(spec))
        return built[1]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*ALGORITHMS, *self.fixed])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._command(cmd_name)


@click.group(cls=RegistryGroup)
def train() -> None:
    """Train a policy by imitation: one command per algorithm of the registry."""


def _add_rl() -> None:
    from imitlab.cli.train_rl import train_rl

    RegistryGroup.fixed["rl"] = train_rl


_add_rl()

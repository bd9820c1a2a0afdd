"""``imitlab demos``: collect, inspect, import and export demonstrations."""

from __future__ import annotations

import json
from typing import Any

import click

from imitlab.cli._common import echo_json, env_kwargs_option, env_kwargs_scope, threads

_FORMATS = ("minari", "imitation", "npz")  # imitlab.data.importers.FORMATS, without importing it for --help
_KEY_OPTIONS = (
    ("obs", "--obs-key", "Array of observations (default: obs or observations)."),
    ("acts", "--acts-key", "Array of actions (default: acts or actions)."),
    ("next_obs", "--next-obs-key", "Array of next observations, one per step (default: next_obs or next_observations)."),
    ("rews", "--rews-key", "Array of rewards (default: rews or rewards)."),
    ("dones", "--dones-key", "Per-step flags, true on each episode's last step."),
    ("lengths", "--lengths-key", "Episode lengths (default: episode_lengths or lengths)."),
    ("episode_starts", "--episode-starts-key", "Per-step flags, true on each episode's first step (SB3's episode_starts)."),
    ("terminated", "--terminated-key", "Termination flags, per step or per episode (default: terminated or terminals)."),
    ("truncated", "--truncated-key", "Truncation flags, per step or per episode (default: truncated or timeouts)."),
)


@click.group()
def demos() -> None:
    """Collect, inspect, import and export demonstrations."""


@demos.command("collect")
@click.option("--env", "env_id", required=True)
@click.option("--expert", "expert_spec", required=True,
              help="'zoo' (the shipped expert; for tabular envs the exact optimal one), 'optimal', or a policy file / run dir.")
@click.option("--episodes", required=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", required=True, help="The .npz file to write, or with --format minari the Minari dataset id.")
@click.option("--format", "fmt", type=click.Choice(["npz", "minari"]), default="npz", show_default=True,
              help="npz: an imitlab demo file; minari: a dataset in the local Minari root (minari.load_dataset opens it).")
@env_kwargs_option
def demos_collect(env_id, expert_spec, episodes, seed, out, fmt, env_kwargs_json) -> None:
    """Record expert episodes to an .npz file (or a Minari dataset)."""
    threads()
    with env_kwargs_scope(env_id, env_kwargs_json):
        _collect(env_id, expert_spec, episodes, seed, out, fmt)


def _collect(env_id: str, expert_spec: str, episodes: int, seed: int, out: str, fmt: str) -> None:
    from imitlab.data.collect import collect_demos
    from imitlab.data.importers.arrays import provenance
    from imitlab.envs.vector import active_env_kwargs
    from imitlab.experts import load_expert

    if fmt == "minari":
        from imitlab.data.importers.minari import check_new_dataset

        check_new_dataset(out)  # before the episodes are run: an id in use is refused at once
    expert_policy = load_expert(expert_spec, env_id)
    metadata: dict[str, Any] = {"expert": str(expert_spec)}
    if active_env_kwargs(env_id):
        metadata["env_kwargs"] = active_env_kwargs(env_id)
    d = collect_demos(expert_policy, env_id, episodes=episodes, seed=seed, metadata=metadata)
    d.metadata["provenance"] = provenance(f"expert {expert_spec} in {env_id}, seed {seed}", "imitlab demos collect")
    _add_layout(d)
    if fmt == "minari":
        from imitlab.data.importers import export_demos

        where = f"Minari dataset {export_demos(d, 'minari', out)!r}"
    else:
        d.save(out)
        where = out
    click.echo(
        f"wrote {where}: {d.n_episodes} episodes, {d.n_transitions} transitions, "
        f"expert return {d.metadata['expert_mean_return']:.1f} ± {d.metadata['expert_std_return']:.1f}"
    )


def _add_layout(d: Any) -> None:
    """Record the env's Dict/Tuple observation layout in demos that lack it."""
    if d.obs_layout is None:
        from imitlab.envs.dict_obs import observation_layout

        d.obs_layout = observation_layout(d.env_id)


@demos.command("import")
@click.argument("source")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The imitlab demo file (.npz) to write.")
@click.option("--env", "env_id", default=None,
              help="Gymnasium id the demos are for: required for imitation trajectories and .npz arrays without an "
                   "env_id array; for Minari it overrides the dataset's env (the spaces must fit).")
@click.option("--format", "fmt", type=click.Choice(["auto", *_FORMATS]), default="auto", show_default=True,
              help="Source format; auto: from the prefix (minari:, imitation:, npz:) or what the path holds.")
@click.option("--obs-key", default=None, help=_KEY_OPTIONS[0][2])
@click.option("--acts-key", default=None, help=_KEY_OPTIONS[1][2])
@click.option("--next-obs-key", default=None, help=_KEY_OPTIONS[2][2])
@click.option("--rews-key", default=None, help=_KEY_OPTIONS[3][2])
@click.option("--dones-key", default=None, help=_KEY_OPTIONS[4][2])
@click.option("--lengths-key", default=None, help=_KEY_OPTIONS[5][2])
@click.option("--episode-starts-key", default=None, help=_KEY_OPTIONS[6][2])
@click.option("--terminated-key", default=None, help=_KEY_OPTIONS[7][2])
@click.option("--truncated-key", default=None, help=_KEY_OPTIONS[8][2])
@click.option("--drop-last-step", is_flag=True,
              help="For .npz arrays with one observation per step and no next observations: drop each episode's last "
                   "step (its final observation is unknown).")
@click.option("--time-limit", default=None, type=click.IntRange(min=1),
              help="For imitation trajectories: the time limit that decides truncation (default: the env's).")
def demos_import(source, out, env_id, fmt, drop_last_step, time_limit, **key_options) -> None:
    """Import demonstrations from SOURCE into an imitlab demo file.

    SOURCE is minari:DATASET_ID (read from the local Minari root, never downloaded), a Minari
    dataset directory, a directory written by imitation.data.serialize.save, or an .npz file of
    arrays (keys: --obs-key ...). Nothing is written unless the whole source is valid.
    """
    from imitlab.data.importers import import_demos

    keys = {role: key_options[opt[2:].replace("-", "_")] for role, opt, _ in _KEY_OPTIONS
            if key_options[opt[2:].replace("-", "_")] is not None}
    options: dict[str, Any] = {}
    if keys:
        options["keys"] = keys
    if drop_last_step:
        options["drop_last_step"] = True
    if time_limit is not None:
        options["time_limit"] = time_limit
    d = import_demos(source, env_id=env_id, format=None if fmt == "auto" else fmt, **options)
    d.save(out)
    prov = d.provenance or {}
    click.echo(f"wrote {out}: {d.n_episodes} episodes, {d.n_transitions} transitions of {d.env_id} "
               f"from {prov.get('format')} {prov.get('source')}")
    for line in [*prov.get("inferred", []), *prov.get("notes", [])]:
        click.echo(f"  {line}")


@demos.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--to", "fmt", required=True, type=click.Choice(_FORMATS), help="Format to write.")
@click.argument("dest")
@click.option("--data-format", type=click.Choice(["hdf5", "arrow"]), default="hdf5", show_default=True,
              help="For Minari: the storage format of the dataset.")
def demos_export(file, fmt, dest, data_format) -> None:
    """Write the demo FILE to DEST in another format.

    DEST is a Minari dataset id (written in the local Minari root, opened by
    minari.load_dataset), a new directory of imitation trajectories, or an .npz file of per-step
    arrays. Importing the result gives back the same arrays.
    """
    from imitlab.data.demos import load_demos
    from imitlab.data.importers import export_demos

    d = load_demos(file)
    options = {"data_format": data_format} if fmt == "minari" else {}
    where = export_demos(d, fmt, dest, **options)
    name = f"Minari dataset {where!r}" if fmt == "minari" else where
    click.echo(f"wrote {name} ({fmt}): {d.n_episodes} episodes, {d.n_transitions} transitions of {d.env_id}")


@demos.command("info")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def demos_info(file, as_json) -> None:
    """Episodes, transitions, returns, spaces, env id and provenance of a demo file."""
    from imitlab.data.demos import load_demos
    from imitlab.envs.spaces import layout_summary, space_summary

    d = load_demos(file)
    rets, lens = d.returns(), d.lengths()
    info = {
        "env_id": d.env_id,
        "episodes": d.n_episodes,
        "transitions": d.n_transitions,
        "length_mean": float(lens.mean()),
        "length_min": int(lens.min()),
        "length_max": int(lens.max()),
        "return_mean": None if rets is None else float(rets.mean()),
        "return_std": None if rets is None else float(rets.std()),
        "return_min": None if rets is None else float(rets.min()),
        "return_max": None if rets is None else float(rets.max()),
        "terminated": int(sum(t.terminated for t in d.trajectories)),
        "truncated": int(sum(t.truncated for t in d.trajectories)),
        "cut": int(sum(not (t.terminated or t.truncated) for t in d.trajectories)),
        "obs_space": space_summary(d.obs_space),
        "act_space": space_summary(d.act_space),
        "obs_layout": None if d.obs_layout is None else layout_summary(d.obs_layout),
        "provenance": d.provenance,
        "metadata": d.metadata,
    }
    if as_json:
        echo_json(info)
        return
    for k, v in info.items():
        if k not in ("metadata", "provenance", "obs_layout"):
            click.echo(f"{k:>13}: {v}")
    if d.obs_layout is not None:
        click.echo(f"{'obs_layout':>13}: {info['obs_layout']} (flattened to {space_summary(d.obs_space)})")
    for label, line in provenance_lines(d.provenance):
        click.echo(f"{label:>13}: {line}")
    click.echo(f"{'metadata':>13}: {json.dumps({k: v for k, v in d.metadata.items() if k != 'provenance'})}")


def provenance_lines(prov: dict[str, Any] | None) -> list[tuple[str, str]]:
    """``(label, text)`` lines that say where demos came from, for ``demos info``."""
    if not prov:
        return [("source", "not recorded (demos made before imitlab recorded provenance, or in Python)")]
    when = prov.get("created")
    lines = [("source", f"{prov.get('source')} ({prov.get('format')})"
              + (f", {when}" if when else "") + (f", imitlab {prov['imitlab_version']}" if prov.get("imitlab_version") else ""))]
    details = prov.get("details")
    if isinstance(details, dict) and details:
        lines.append(("details", ", ".join(f"{k}={json.dumps(v)}" for k, v in details.items())))
    for key in ("inferred", "notes"):
        entries = prov.get(key)
        if isinstance(entries, list):
            lines += [(key, str(entry)) for entry in entries]
    return lines

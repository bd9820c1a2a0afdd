"""``imitlab demos``: collect and inspect demonstrations."""

from __future__ import annotations

import json

import click

from imitlab.cli._common import echo_json, threads


@click.group()
def demos() -> None:
    """Collect and inspect demonstrations."""


@demos.command("collect")
@click.option("--env", "env_id", required=True)
@click.option("--expert", "expert_spec", required=True, help="'zoo' (the shipped expert) or a policy file / run dir.")
@click.option("--episodes", required=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def demos_collect(env_id, expert_spec, episodes, seed, out) -> None:
    """Record expert episodes to an .npz file."""
    threads()
    from imitlab.data.collect import collect_demos
    from imitlab.experts import load_expert

    expert_policy = load_expert(expert_spec, env_id)
    d = collect_demos(expert_policy, env_id, episodes=episodes, seed=seed, metadata={"expert": str(expert_spec)})
    d.save(out)
    click.echo(
        f"wrote {out}: {d.n_episodes} episodes, {d.n_transitions} transitions, "
        f"expert return {d.metadata['expert_mean_return']:.1f} ± {d.metadata['expert_std_return']:.1f}"
    )


@demos.command("info")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def demos_info(file, as_json) -> None:
    """Episodes, transitions, returns, spaces and env id of a demo file."""
    from imitlab.data.demos import load_demos
    from imitlab.envs.spaces import space_summary

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
        "obs_space": space_summary(d.obs_space),
        "act_space": space_summary(d.act_space),
        "metadata": d.metadata,
    }
    if as_json:
        echo_json(info)
        return
    for k, v in info.items():
        if k != "metadata":
            click.echo(f"{k:>13}: {v}")
    click.echo(f"{'metadata':>13}: {json.dumps(d.metadata)}")

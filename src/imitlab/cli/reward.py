"""``imitlab reward``: look at a learned reward."""

from __future__ import annotations

import click

from imitlab.cli._common import correlation_line, echo_json, threads
from imitlab.errors import UserError


@click.group()
def reward() -> None:
    """Look at the reward an IRL run learned (its reward.pt)."""


@reward.command("show")
@click.argument("run")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The picture to write (.png).")
@click.option("--demos", "demos_file", type=click.Path(dir_okay=False),
              help="Expert demos to draw and compare on (default: 10 episodes of the env's shipped expert, if it has one).")
@click.option("--dims", help="Two observation dimensions to draw the heatmap over, e.g. 0,2 (default: the env's "
                             "natural pair: Pendulum-v1 angle x velocity, MountainCar-v0 position x velocity).")
@click.option("--random-steps", default=5000, show_default=True, type=click.IntRange(min=0),
              help="Random-policy transitions to compare on.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the correlations as one JSON object.")
def reward_show(run, out, demos_file, dims, random_steps, seed, as_json) -> None:
    """Draw RUN's learned reward (learned beside true for tabular envs; a heatmap over two state
    dimensions with the expert's trajectories; learned vs true per transition) and print its
    correlation with the env's reward on expert and random states."""
    threads()
    from imitlab.envs.vector import env_kwargs
    from imitlab.rewards import load_reward

    if not out.endswith(".png"):
        raise UserError(f"--out {out!r}: reward pictures are PNG files; name it e.g. reward.png")
    pair = _dims(dims)
    learned = load_reward(run)
    with env_kwargs(learned.env_id, learned.env_kwargs):
        corr, scatter, trajectories = _compare(learned, demos_file, random_steps, seed)
        from imitlab.rewards.plots import draw_reward

        draw_reward(learned, out, expert_trajectories=trajectories, correlation=corr, scatter=scatter, dims=pair)
    if as_json:
        echo_json({"reward": learned.meta["path"], "env_id": learned.env_id, "out": out, "reward_correlation": corr})
        return
    click.echo(correlation_line(corr))
    click.echo(f"wrote {out}")


def _dims(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        i, j = (int(part) for part in text.split(","))
    except ValueError:
        raise UserError(f"--dims {text!r}: give two observation dimensions, e.g. --dims 0,1") from None
    return i, j


def _compare(learned, demos_file, random_steps, seed):
    """The correlation, the scatter's points and the expert's trajectories."""
    import numpy as np

    from imitlab.rewards.analysis import _expert_transitions, random_transitions, reward_correlation

    env_id = learned.env_id
    demos = _expert_demos(env_id, demos_file, seed)
    corr = reward_correlation(learned, env_id, demos, seed=seed, random_steps=random_steps)
    bonus = corr["terminal_bonus"]
    scatter = {}
    expert = _expert_transitions(demos) if demos is not None else None
    if expert is not None:
        obs, acts, rews, term = expert
        scatter["expert"] = (learned(obs, acts) + bonus * term, rews)
    if random_steps:
        obs, acts, rews, term = random_transitions(env_id, random_steps, seed=seed)
        scatter["random"] = (learned(obs, acts) + bonus * term, rews)
    trajectories = None if demos is None else [np.asarray(t.obs, np.float32) for t in demos.trajectories]
    return corr, scatter, trajectories


def _expert_demos(env_id: str, demos_file: str | None, seed: int):
    from imitlab.data.demos import load_demos

    if demos_file is not None:
        d = load_demos(demos_file)
        if d.env_id != env_id:
            raise UserError(f"--demos {demos_file!r} were recorded in {d.env_id}, the reward was learned on {env_id}")
        return d
    from imitlab.data.collect import collect_demos
    from imitlab.experts import load_expert

    try:
        expert = load_expert("zoo", env_id)
    except UserError:
        return None  # no shipped expert: random states only
    return collect_demos(expert, env_id, episodes=10, seed=seed)

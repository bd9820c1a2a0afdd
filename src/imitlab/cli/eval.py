"""``imitlab eval``: evaluate a policy over whole episodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from imitlab.cli._common import echo_json, env_kwargs_option, env_kwargs_scope, threads

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from imitlab.experts import Expert


@click.command("eval")
@click.option("--env", "env_id", required=True)
@click.option("--policy", "policy_spec", required=True, help="A run dir, a policy.pt, 'zoo' or 'random'.")
@click.option("--episodes", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--stochastic", is_flag=True, help="Sample actions instead of taking the most likely one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@env_kwargs_option
def eval_cmd(env_id, policy_spec, episodes, seed, stochastic, as_json, env_kwargs_json) -> None:
    """Evaluate a policy over whole episodes."""
    threads()
    with env_kwargs_scope(env_id, env_kwargs_json):
        _evaluate(env_id, policy_spec, episodes, seed, stochastic, as_json, under_kwargs=bool(env_kwargs_json))


def _evaluate(env_id, policy_spec, episodes, seed, stochastic, as_json, *, under_kwargs: bool) -> None:
    from imitlab.envs.vector import check_env_id
    from imitlab.evaluation import evaluate, random_actor
    from imitlab.experts import load_expert

    check_env_id(env_id)
    actor: Expert | Callable[[np.ndarray], np.ndarray]
    if policy_spec == "random":
        actor = random_actor(env_id, seed)
    else:
        actor = load_expert(policy_spec, env_id)
    result = evaluate(actor, env_id, episodes=episodes, seed=seed, deterministic=not stochastic)
    if as_json:
        echo_json(result.to_dict())
        return
    missing = "n/a (under --env-kwargs)" if under_kwargs else "n/a (env not in the task registry)"
    score = missing if result.normalized_score is None else f"{result.normalized_score:.3f}"
    click.echo(f"{env_id}: mean return {result.mean_return:.2f} ± {result.std_return:.2f} over {episodes} episodes; normalized {score}")

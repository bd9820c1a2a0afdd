"""``imitlab expert``: train experts on an environment's own reward."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from imitlab.algorithms.registry import EXPERT_LEARNERS
from imitlab.cli._common import INVOCATION, LateHelpOption, by_value, env_kwargs_option, env_kwargs_scope, recorded_steps, report, threads
from imitlab.errors import UserError


def _expert_steps_help() -> str:
    from imitlab.defaults import zoo_expert_budgets

    by_algo: dict[str, list[tuple[str, int]]] = {}
    for env_id, algo, steps in zoo_expert_budgets():
        by_algo.setdefault(algo, []).append((env_id, steps))
    per_algo = ", ".join(f"{algo} ({by_value(pairs)})" for algo, pairs in by_algo.items())
    return (f"Default: the steps that made the shipped expert of the env and --algo (its recorded command, "
            f"see 'imitlab zoo list'): {per_algo}. Required for any other env and algo. "
            f"With --resume: the stopped run's.")


@click.group()
def expert() -> None:
    """Train experts."""


@expert.command("train")
@click.option("--env", "env_id", required=True)
@click.option("--algo", default="ppo", show_default=True,
              type=click.Choice([name.removeprefix("expert-") for name in EXPERT_LEARNERS]),
              help="ppo (any actions), dqn (discrete) or sac (continuous); dqn and sac keep their critic as Q*.")
@click.option("--steps", type=click.IntRange(min=1), cls=LateHelpOption, late_help=_expert_steps_help,
              help="Environment steps.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", required=True, type=click.Path(), help="Run directory, or a .pt file for the policy alone.")
@click.option("--eval-every", default=10_000, show_default=True, type=click.IntRange(min=0))
@click.option("--eval-episodes", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--overwrite", is_flag=True, help="Reuse a non-empty run directory.")
@click.option("--keep-best", is_flag=True, help="Keep the best-evaluated weights instead of the last ones.")
@click.option("--checkpoint-every", type=click.IntRange(min=0),
              help="Env steps between checkpoints of a run directory (default: --eval-every; 0: none).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint (same options; --steps may grow).")
@env_kwargs_option
def expert_train(env_id, algo, steps, seed, out, eval_every, eval_episodes, overwrite, keep_best, checkpoint_every,
                 resume, env_kwargs_json) -> None:
    """Train an expert on the environment's reward (a .pt --out also saves a DQN/SAC critic).

    A run directory gets a checkpoint.pt at every evaluation: if training stops, the same command
    with --resume continues from it."""
    threads()
    with env_kwargs_scope(env_id, env_kwargs_json):
        _expert_train(env_id, algo, steps, seed, out, eval_every, eval_episodes, overwrite, keep_best, checkpoint_every, resume)


def _expert_train(env_id, algo, steps, seed, out, eval_every, eval_episodes, overwrite, keep_best, checkpoint_every,
                  resume) -> None:
    from imitlab.algorithms.registry import expert_learner
    from imitlab.defaults import config_for, zoo_expert_steps
    from imitlab.envs.vector import active_env_kwargs, check_env_id
    from imitlab.policies import save_policy
    from imitlab.runlog import prepare_run_dir

    check_env_id(env_id)
    if steps is None and resume:
        steps = recorded_steps(out)  # the stopped run's budget, not a default that would extend it
    if steps is None:
        steps = zoo_expert_steps(env_id, algo)
    if steps is None:
        raise UserError(f"give --steps N: no shipped {algo} expert of {env_id} records a budget to default to")
    policy_file = Path(out) if out.endswith(".pt") else None
    if resume and (policy_file or overwrite):
        raise UserError("--resume continues a run directory: give that directory as --out, without --overwrite")
    run_dir = None if policy_file else (Path(out) if resume else prepare_run_dir(out, overwrite=overwrite))
    spec = expert_learner(algo)
    result = spec.train_fn(
        env_id=env_id, total_steps=steps, seed=seed, config=config_for(spec.name, env_id),
        out=run_dir, eval_every=eval_every, eval_episodes=eval_episodes, progress=True, keep_best=keep_best,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    if policy_file:
        critic = result.critic if result.critic is not result.policy else None  # a DQN's critic is its policy
        extra = {"seed": seed, "algo": f"expert-{algo}", "env_steps": steps, "train_seconds": round(result.train_seconds, 1),
                 "command": "imitlab " + shlex.join(INVOCATION)}
        env_kwargs = active_env_kwargs(env_id)
        if env_kwargs:
            extra["env_kwargs"] = env_kwargs
        save_policy(result.policy, policy_file, env_id=env_id, extra=extra, critic=critic)
    report(result, run_dir or policy_file)

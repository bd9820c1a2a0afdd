"""``imitlab train rl``: a fresh policy trained on a learned reward alone (reward transfer)."""

from __future__ import annotations

import click

from imitlab.algorithms.registry import EXPERT_LEARNERS
from imitlab.cli._common import env_kwargs_option, env_kwargs_scope, report, run_dir_for, threads


@click.command("rl")
@click.option("--env", "env_id", required=True)
@click.option("--reward", "reward_path", required=True, type=click.Path(),
              help="An IRL run directory (airl, apprenticeship, maxent-irl) or its reward.pt.")
@click.option("--algo", default="ppo", show_default=True,
              type=click.Choice([name.removeprefix("expert-") for name in EXPERT_LEARNERS]),
              help="The learner: ppo (any actions), dqn (discrete) or sac (continuous).")
@click.option("--steps", required=True, type=click.IntRange(min=1), help="Environment steps.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", required=True, type=click.Path(), help="Run directory.")
@click.option("--eval-every", default=10_000, show_default=True, type=click.IntRange(min=0),
              help="Env steps between evaluations (on the env's true reward).")
@click.option("--eval-episodes", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--overwrite", is_flag=True, help="Reuse a non-empty run directory.")
@env_kwargs_option
def train_rl(env_id, reward_path, algo, steps, seed, out, eval_every, eval_episodes, overwrite, env_kwargs_json) -> None:
    """Train a fresh policy on a learned reward alone (the env's reward is never used; evaluations
    report the true return). With --env-kwargs, under other dynamics than the reward was learned in:
    reward transfer. The learner's settings are the task's expert settings."""
    threads()
    with env_kwargs_scope(env_id, env_kwargs_json):
        from imitlab.algorithms.registry import expert_learner
        from imitlab.defaults import config_for
        from imitlab.envs.vector import check_env_id
        from imitlab.rewards import load_reward

        check_env_id(env_id)
        reward = load_reward(reward_path)
        reward.check_env(env_id)
        run_dir = run_dir_for(out, overwrite=overwrite, resume=False)
        spec = expert_learner(algo)
        result = spec.train_fn(env_id=env_id, total_steps=steps, seed=seed, config=config_for(spec.name, env_id), out=run_dir,
                               eval_every=eval_every, eval_episodes=eval_episodes, progress=True, reward=reward)
        report(result, run_dir)

"""``imitlab expert``: train experts on an environment's own reward."""

from __future__ import annotations

import dataclasses
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


@expert.command("fit-q")
@click.option("--env", "env_id", required=True)
@click.option("--expert", "expert_spec", required=True,
              help="'zoo', 'zoo:ALGO', 'sb3:PATH' (an SB3 PPO or A2C zip, saved as the imitlab policy that acts as it "
                   "does), an imitlab policy file or run dir: the expert whose Q* is fitted.")
@click.option("--steps", required=True, type=click.IntRange(min=1), help="Env steps of the expert's roll-outs (with exploration).")
@click.option("--updates", default=20_000, show_default=True, type=click.IntRange(min=1), help="Gradient steps.")
@click.option("--gamma", default=0.99, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True))
@click.option("--explore", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Exploration while collecting: the chance of a random action (discrete), or the noise std in "
                   "half-ranges (continuous).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="A .pt file: the expert's policy with the fitted critic, which every command takes as an expert with Q*.")
@env_kwargs_option
def expert_fit_q(env_id, expert_spec, steps, updates, gamma, explore, seed, out, env_kwargs_json) -> None:
    """Fit an expert's Q* by fitted Q evaluation (TD on its own actions at the next state, twin
    critics), for AggreVaTeD with experts that have no critic (PPO experts, ...); prints its
    correlation with Monte-Carlo returns where the env's state can be restored."""
    threads()
    if not out.endswith(".pt"):
        raise UserError(f"--out {out!r}: write the expert with its critic to a .pt file")
    with env_kwargs_scope(env_id, env_kwargs_json):
        from imitlab.envs.vector import check_env_id
        from imitlab.experts import load_expert
        from imitlab.experts.fitted_q import FitQConfig, fit_q, monte_carlo_check
        from imitlab.policies import Policy, save_policy

        check_env_id(env_id)
        loaded = load_expert(expert_spec, env_id)
        policy = loaded if isinstance(loaded, Policy) else getattr(loaded, "policy", None)
        converted = False
        if not isinstance(policy, Policy) and str(expert_spec).startswith("sb3:"):
            from imitlab.experts.sb3 import SB3Expert, as_imitlab_policy

            assert isinstance(loaded, SB3Expert)  # what load_expert makes of an sb3: spec
            policy, converted = as_imitlab_policy(loaded, env_id), True  # saved as imitlab's, beside its critic
        if not isinstance(policy, Policy):
            raise UserError(f"--expert {expert_spec!r} is not an imitlab policy: fit-q saves the expert with its fitted "
                            "critic in one imitlab file, so it needs 'zoo', 'zoo:ALGO', 'sb3:PATH' (PPO, A2C), a policy "
                            "file or a run dir")
        config = FitQConfig(gamma=gamma, updates=updates, explore=explore)
        result = fit_q(policy, env_id, steps=steps, seed=seed, config=config)
        check = None
        if env_id in ("CartPole-v1", "CartPole-v0", "MountainCar-v0", "Pendulum-v1"):
            check = monte_carlo_check(result.critic, policy, env_id, result.states, gamma=gamma, seed=seed)
        extra = {"seed": seed, "q": "fitted", "fit_q": {**dataclasses.asdict(config), "steps": result.env_steps,
                 "expert": expert_spec, "seconds": round(result.seconds, 1), "monte_carlo_check": check,
                 **({"converted_from": "sb3"} if converted else {})},
                 "command": "imitlab " + shlex.join(INVOCATION)}
        save_policy(policy, out, env_id=env_id, extra=extra, critic=result.critic)
    line = f"fitted Q* of {expert_spec} on {env_id} from {result.env_steps:,} env steps and {updates:,} updates in {result.seconds:.1f} s"
    if check is not None:
        line += (f"; against Monte-Carlo returns of the expert on {check['pairs']} state-action pairs: Pearson "
                 f"{check['pearson']:.3f}, mean absolute error {check['mae']:.2f} (returns {check['mc_mean']:.1f} ± {check['mc_std']:.1f})")
    click.echo(line)
    click.echo(f"wrote {out}")

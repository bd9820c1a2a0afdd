"""The ``imitlab`` command line. A user's mistake prints one line on stderr and exits with 2."""

from __future__ import annotations

import json
import shlex
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import click

from imitlab.errors import UserError

_INVOCATION: list[str] = []  # the command line main() runs, as an expert file records it


def _threads() -> None:
    # One thread: small MLPs gain nothing from two, and two spin when the other core is busy.
    import torch

    torch.set_num_threads(1)


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2))


class _PerTaskDefault(click.Option):
    """An option whose default depends on ``--env``. Click can show only one static default, so
    its help ends with an account of the per-task defaults, built when help is shown (it needs
    the defaults table, hence torch: too slow to build for every command line)."""

    def __init__(self, *args, describe_default: Callable[[], str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._describe_default = describe_default

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        base = self.help
        self.help = f"{base or ''} {self._describe_default()}".strip()
        try:
            return super().get_help_record(ctx)
        finally:
            self.help = base


def _by_value(pairs: list[tuple[str, int]]) -> str:
    """``[("A", 1), ("B", 2), ("C", 1)]`` -> ``"1 on A and C; 2 on B"`` (values in first-seen order)."""
    groups: dict[int, list[str]] = {}
    for env_id, value in pairs:
        groups.setdefault(value, []).append(env_id)
    return "; ".join(f"{value:,} on {' and '.join(envs)}" for value, envs in groups.items())


def _budget_help(algo: str) -> Callable[[], str]:
    """The help sentence on the default budget of ``imitlab train ALGO``: the bench's, per task."""

    def describe() -> str:
        from imitlab.bench.grid import base_budget
        from imitlab.tasks import TASKS

        fallback = base_budget(algo, None)
        own = [(env_id, base_budget(algo, env_id)) for env_id in TASKS]
        if all(value == fallback for _, value in own):
            return f"Default: {fallback:,}, the bench's budget on every task (imitlab.bench.grid.base_budget)."
        special = [(env_id, value) for env_id, value in own if value != fallback]
        return (f"Default: the bench's budget for the task (imitlab.bench.grid.base_budget): "
                f"{_by_value(special)}; {fallback:,} on any other env.")

    return describe


def _expert_steps_help() -> str:
    from imitlab.defaults import zoo_expert_budgets

    by_algo: dict[str, list[tuple[str, int]]] = {}
    for env_id, algo, steps in zoo_expert_budgets():
        by_algo.setdefault(algo, []).append((env_id, steps))
    per_algo = ", ".join(f"{algo} ({_by_value(pairs)})" for algo, pairs in by_algo.items())
    return (f"Default: the steps that made the shipped expert of the env and --algo (its recorded command, "
            f"see 'imitlab zoo list'): {per_algo}. Required for any other env and algo. "
            f"With --resume: the stopped run's.")


def _resolve_budget(value: int | None, algo: str, env_id: str, *, resume_out: str | None = None,
                    key: str = "total_steps") -> int:
    """``value``, or when the option was not given: a resumed run's own budget (``key`` in its
    config.json: a default would silently extend it), else the task's default budget of ``algo``."""
    if value is not None:
        return value
    if resume_out is not None:
        recorded = _recorded_steps(resume_out, key)
        if recorded is not None:
            return recorded
    from imitlab.bench.grid import base_budget

    return base_budget(algo, env_id)


def _resume_options(unit: str):
    """--checkpoint-every and --resume, for the commands whose runs checkpoint."""
    def add(f):
        f = click.option("--resume", is_flag=True,
                         help="Continue the run in --out from its checkpoint (same options; the budget may grow).")(f)
        f = click.option("--checkpoint-every", type=click.IntRange(min=0),
                         help=f"{unit} between checkpoints of the run directory (default: --eval-every; 0: none).")(f)
        return f
    return add


def _run_dir_for(out: str, *, overwrite: bool, resume: bool) -> Path:
    """The run directory: ``out`` as it is to resume it, else checked to be new (or --overwrite)."""
    from imitlab.runlog import prepare_run_dir

    if resume:
        if overwrite:
            raise UserError("--resume continues the run in --out; drop --overwrite (it would start the run afresh)")
        return Path(out)
    return prepare_run_dir(out, overwrite=overwrite)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="imitlab")
def cli() -> None:
    """imitlab: learn control policies from expert demonstrations."""


# --------------------------------------------------------------------------------------- quickstart
@cli.command()
@click.option("--out", default="imitlab-quickstart", show_default=True, type=click.Path(), help="Output directory.")
@click.option("--env", "env_id", default="CartPole-v1", show_default=True)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--demos", "n_demos", default=10, show_default=True, type=click.IntRange(min=1), help="Expert episodes to learn from.")
def quickstart(out: str, env_id: str, seed: int, n_demos: int) -> None:
    """Shipped expert -> demos -> BC and GAIL -> evaluation table, plot, summary.json."""
    _threads()
    from imitlab.quickstart import run_quickstart

    run_quickstart(out=out, env_id=env_id, seed=seed, n_demos=n_demos, progress=True)


# ------------------------------------------------------------------------------------------ expert
@cli.group()
def expert() -> None:
    """Train experts."""


@expert.command("train")
@click.option("--env", "env_id", required=True)
@click.option("--algo", default="ppo", show_default=True, type=click.Choice(["ppo", "dqn", "sac"]),
              help="ppo (any actions), dqn (discrete) or sac (continuous); dqn and sac keep their critic as Q*.")
@click.option("--steps", type=click.IntRange(min=1), cls=_PerTaskDefault, describe_default=_expert_steps_help,
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
def expert_train(env_id, algo, steps, seed, out, eval_every, eval_episodes, overwrite, keep_best, checkpoint_every,
                 resume) -> None:
    """Train an expert on the environment's reward (a .pt --out also saves a DQN/SAC critic).

    A run directory gets a checkpoint.pt at every evaluation: if training stops, the same command
    with --resume continues from it."""
    _threads()
    from imitlab.defaults import expert_config, zoo_expert_steps
    from imitlab.envs.vector import check_env_id
    from imitlab.experts.train import train_expert
    from imitlab.policies import save_policy
    from imitlab.runlog import prepare_run_dir

    check_env_id(env_id)
    if steps is None and resume:
        steps = _recorded_steps(out)  # the stopped run's budget, not a default that would extend it
    if steps is None:
        steps = zoo_expert_steps(env_id, algo)
    if steps is None:
        raise UserError(f"give --steps N: no shipped {algo} expert of {env_id} records a budget to default to")
    policy_file = Path(out) if out.endswith(".pt") else None
    if resume and (policy_file or overwrite):
        raise UserError("--resume continues a run directory: give that directory as --out, without --overwrite")
    run_dir = None if policy_file else (Path(out) if resume else prepare_run_dir(out, overwrite=overwrite))
    result = train_expert(
        env_id=env_id, algo=algo, total_steps=steps, seed=seed, config=expert_config(env_id, algo),
        out=run_dir, eval_every=eval_every, eval_episodes=eval_episodes, progress=True, keep_best=keep_best,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    if policy_file:
        critic = result.critic if result.critic is not result.policy else None  # a DQN's critic is its policy
        extra = {"seed": seed, "algo": f"expert-{algo}", "env_steps": steps, "train_seconds": round(result.train_seconds, 1),
                 "command": "imitlab " + shlex.join(_INVOCATION)}
        save_policy(result.policy, policy_file, env_id=env_id, extra=extra, critic=critic)
    _report(result, run_dir or policy_file)


def _recorded_steps(run_dir: str, key: str = "total_steps") -> int | None:
    """The budget (``key``) in ``run_dir``'s config.json, or None where there is none to read
    (resuming then fails on the missing checkpoint, with its own message)."""
    try:
        steps = json.loads((Path(run_dir) / "config.json").read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return steps if isinstance(steps, int) and steps > 0 else None


# ------------------------------------------------------------------------------------------- demos
@cli.group()
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
    _threads()
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
        _echo_json(info)
        return
    for k, v in info.items():
        if k != "metadata":
            click.echo(f"{k:>13}: {v}")
    click.echo(f"{'metadata':>13}: {json.dumps(d.metadata)}")


# ------------------------------------------------------------------------------------------- train
@cli.group()
def train() -> None:
    """Train a policy from demonstrations."""


def _demo_options(f):
    f = click.option("--overwrite", is_flag=True, help="Reuse a non-empty run directory.")(f)
    f = click.option("--eval-episodes", default=50, show_default=True, type=click.IntRange(min=1))(f)
    f = click.option("--pairs", type=click.IntRange(min=1), help="Train on this many random (s, a) pairs.")(f)
    f = click.option("--subsample-every", type=click.IntRange(min=1), help="Keep every k-th step of each episode.")(f)
    f = click.option("--episodes", "n_episodes", type=click.IntRange(min=1), help="Use the first N demo episodes.")(f)
    f = click.option("--out", required=True, type=click.Path(), help="Run directory.")(f)
    f = click.option("--seed", default=0, show_default=True, type=int)(f)
    f = click.option("--demos", "demos_file", required=True, type=click.Path(dir_okay=False))(f)
    f = click.option("--env", "env_id", required=True)(f)
    return f


def _load_training_demos(env_id, demos_file, n_episodes, subsample_every, pairs, seed):
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


@train.command("bc")
@_demo_options
@click.option("--epochs", type=click.IntRange(min=1), cls=_PerTaskDefault, describe_default=_budget_help("bc"),
              help="Most passes over the demos; BC stops earlier once its held-out demos stop improving.")
@click.option("--eval-every", default=0, show_default=True, type=click.IntRange(min=0),
              help="Epochs between evaluations of the current weights (0: only the kept weights, at the end).")
@click.option("--validation-fraction", type=click.FloatRange(min=0, max=1, max_open=True),
              help="Share of the demos held out for early stopping (default 0.2; 0: none, train all --epochs).")
@click.option("--patience", type=click.IntRange(min=1), help="Epochs without held-out improvement before stopping (default 10).")
def train_bc_cmd(env_id, demos_file, seed, out, n_episodes, subsample_every, pairs, eval_episodes, overwrite, epochs, eval_every,
                 validation_fraction, patience):
    """Behavioral cloning, stopped early on held-out demos."""
    _threads()
    from imitlab.algorithms.bc import train_bc
    from imitlab.defaults import bc_config
    from imitlab.runlog import prepare_run_dir

    d = _load_training_demos(env_id, demos_file, n_episodes, subsample_every, pairs, seed)
    epochs = _resolve_budget(epochs, "bc", env_id)
    run_dir = prepare_run_dir(out, overwrite=overwrite)
    options = {"validation_fraction": validation_fraction, "patience": patience}
    result = train_bc(
        env_id=env_id, demos=d, seed=seed, config=bc_config(env_id, epochs=epochs, **{k: v for k, v in options.items() if v is not None}),
        out=run_dir, eval_every=eval_every, eval_episodes=eval_episodes, progress=True,
    )
    _report(result, run_dir)


@train.command("gail")
@_demo_options
@click.option("--steps", type=click.IntRange(min=1), cls=_PerTaskDefault, describe_default=_budget_help("gail"),
              help="Environment steps.")
@click.option("--eval-every", default=10_000, show_default=True, type=click.IntRange(min=0), help="Env steps between evaluations.")
@click.option("--generator", type=click.Choice(["reinforce", "ppo", "trpo"]), help="Policy optimiser (default: ppo).")
@click.option("--reward", type=click.Choice(["positive", "negative", "logit"]), help="Reward form (default: the task's; see README).")
@click.option("--absorbing/--no-absorbing", default=None, help="Absorbing-state rewards after terminations (DAC).")
@click.option("--normalize-reward/--no-normalize-reward", default=None, help="Scale rewards by their running RMS.")
@click.option("--disc-updates", type=click.IntRange(min=1), help="Discriminator passes over each policy batch.")
@click.option("--grad-penalty", type=click.FloatRange(min=0), help="Discriminator gradient-penalty weight.")
@click.option("--disc-entropy", type=click.FloatRange(min=0), help="Discriminator entropy-bonus weight.")
@click.option("--init-from", type=click.Path(), help="Warm-start the policy from a run dir or policy file (e.g. a BC run).")
@_resume_options("Env steps")
def train_gail_cmd(env_id, demos_file, seed, out, n_episodes, subsample_every, pairs, eval_episodes, overwrite, steps,
                   eval_every, generator, reward, absorbing, normalize_reward, disc_updates, grad_penalty, disc_entropy, init_from,
                   checkpoint_every, resume):
    """Generative adversarial imitation learning."""
    _threads()
    from imitlab.algorithms.gail import train_gail
    from imitlab.defaults import gail_config

    d = _load_training_demos(env_id, demos_file, n_episodes, subsample_every, pairs, seed)
    init_policy = _load_init_policy(init_from, env_id)
    steps = _resolve_budget(steps, "gail", env_id, resume_out=out if resume else None)
    run_dir = _run_dir_for(out, overwrite=overwrite, resume=resume)
    options = {
        "generator": generator, "reward": reward, "absorbing": absorbing, "normalize_reward": normalize_reward,
        "disc_epochs": disc_updates, "disc_grad_penalty": grad_penalty, "disc_entropy_bonus": disc_entropy,
    }
    result = train_gail(
        env_id=env_id, demos=d, total_steps=steps, seed=seed,
        config=gail_config(env_id, **{k: v for k, v in options.items() if v is not None}),
        init_policy=init_policy, out=run_dir, eval_every=eval_every, eval_episodes=eval_episodes, progress=True,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    _report(result, run_dir)


@train.command("gail-offline")
@_demo_options
@click.option("--iterations", type=click.IntRange(min=1), cls=_PerTaskDefault, describe_default=_budget_help("gail-offline"),
              help="Policy updates.")
@click.option("--eval-every", default=125, show_default=True, type=click.IntRange(min=0), help="Iterations between evaluations.")
@click.option("--reward", type=click.Choice(["positive", "negative", "logit"]), help="Score form (default: logit).")
@_resume_options("Iterations")
def train_gail_offline_cmd(env_id, demos_file, seed, out, n_episodes, subsample_every, pairs, eval_episodes, overwrite,
                           iterations, eval_every, reward, checkpoint_every, resume):
    """Offline GAIL: no environment interaction (the env only evaluates). Its ceiling is BC's."""
    _threads()
    from dataclasses import replace

    from imitlab.algorithms.gail_offline import OfflineGAILConfig, train_gail_offline
    from imitlab.defaults import defaults_for

    d = _load_training_demos(env_id, demos_file, n_episodes, subsample_every, pairs, seed)
    run_dir = _run_dir_for(out, overwrite=overwrite, resume=resume)
    iterations = _resolve_budget(iterations, "gail-offline", env_id, resume_out=out if resume else None, key="iterations")
    cfg = replace(defaults_for(env_id, "gail_offline", OfflineGAILConfig()), iterations=iterations)
    if reward:
        cfg = replace(cfg, reward=reward)
    result = train_gail_offline(
        env_id=env_id, demos=d, seed=seed, config=cfg, out=run_dir, eval_every=eval_every,
        eval_episodes=eval_episodes, progress=True, checkpoint_every=checkpoint_every, resume=resume,
    )
    _report(result, run_dir)


def _interactive_options(algo: str):
    """The options ``train dagger`` and ``train aggrevated`` share; ``algo`` names the budget's default."""
    return lambda f: _add_interactive_options(f, algo)


def _add_interactive_options(f, algo: str):
    f = _resume_options("Env steps")(f)
    f = click.option("--overwrite", is_flag=True, help="Reuse a non-empty run directory.")(f)
    f = click.option("--eval-episodes", default=50, show_default=True, type=click.IntRange(min=1))(f)
    f = click.option("--eval-every", default=2_000, show_default=True, type=click.IntRange(min=0), help="Env steps between evaluations.")(f)
    f = click.option("--out", required=True, type=click.Path(), help="Run directory.")(f)
    f = click.option("--seed", default=0, show_default=True, type=int)(f)
    f = click.option("--steps", type=click.IntRange(min=1), cls=_PerTaskDefault, describe_default=_budget_help(algo),
                     help="Environment steps of roll-in.")(f)
    f = click.option("--expert", "expert_spec", required=True,
                     help="'zoo', 'zoo:ALGO' (e.g. zoo:dqn), 'sb3:PATH' (a Stable-Baselines3 zip) or a policy file / run dir.")(f)
    f = click.option("--env", "env_id", required=True)(f)
    return f


@train.command("dagger")
@_interactive_options("dagger")
@click.option("--demos", "demos_file", type=click.Path(dir_okay=False), help="Start the aggregated dataset with these demos.")
@click.option("--episodes", "n_episodes", type=click.IntRange(min=1), help="Use the first N demo episodes.")
@click.option("--beta-schedule", type=click.Choice(["linear", "exponential", "constant"]), help="How beta (the expert's share of the roll-in) changes by round.")
@click.option("--beta-decay-rounds", type=click.IntRange(min=1), help="linear: rounds for beta to fall from 1 to 0.")
@click.option("--beta-p", type=click.FloatRange(0, 1), help="exponential: beta = p ** round; constant: beta = p.")
@click.option("--steps-per-round", type=click.IntRange(min=1), help="Env steps rolled in per round.")
@click.option("--epochs", type=click.IntRange(min=1), help="BC passes over the aggregated data per round.")
def train_dagger_cmd(env_id, expert_spec, steps, seed, out, eval_every, eval_episodes, overwrite, checkpoint_every, resume,
                     demos_file, n_episodes, beta_schedule, beta_decay_rounds, beta_p, steps_per_round, epochs):
    """DAgger: the expert labels the states the learner visits; BC on the aggregate each round."""
    _threads()
    from imitlab.algorithms.dagger import train_dagger
    from imitlab.defaults import dagger_config
    from imitlab.envs.vector import check_env_id
    from imitlab.experts import load_expert

    check_env_id(env_id)
    d = None
    if demos_file:
        d = _load_training_demos(env_id, demos_file, n_episodes, None, None, seed)
    elif n_episodes:
        raise UserError("--episodes needs --demos")
    expert_policy = load_expert(expert_spec, env_id)
    overrides = {k: v for k, v in dict(beta_schedule=beta_schedule, beta_decay_rounds=beta_decay_rounds, beta_p=beta_p,
                                        steps_per_round=steps_per_round, epochs=epochs).items() if v is not None}
    config = dagger_config(env_id, **overrides)
    steps = _resolve_budget(steps, "dagger", env_id, resume_out=out if resume else None)
    run_dir = _run_dir_for(out, overwrite=overwrite, resume=resume)
    result = train_dagger(
        env_id=env_id, expert=expert_policy, demos=d, total_steps=steps, seed=seed, config=config, out=run_dir,
        eval_every=eval_every, eval_episodes=eval_episodes, progress=True, checkpoint_every=checkpoint_every, resume=resume,
    )
    _report(result, run_dir)


def _load_init_policy(path, env_id):
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


@train.command("aggrevated")
@_interactive_options("aggrevated")
@click.option("--rollins", "num_envs", type=click.IntRange(min=1), help="K: parallel roll-ins per iteration.")
@click.option("--horizon", type=click.IntRange(min=1), help="H: steps of each roll-in per iteration.")
@click.option("--alpha-schedule", type=click.Choice(["linear", "exponential", "constant"]), help="How alpha (the expert's share of the roll-in) changes by iteration.")
@click.option("--alpha-decay-rounds", type=click.IntRange(min=1), help="linear: iterations for alpha to fall from 1 to 0.")
@click.option("--alpha-p", type=click.FloatRange(0, 1), help="exponential: alpha = p ** iteration; constant: alpha = p.")
@click.option("--mc-horizon", type=click.IntRange(min=1), help="Monte-Carlo Q* roll-out length (experts without a critic).")
def train_aggrevated_cmd(env_id, expert_spec, steps, seed, out, eval_every, eval_episodes, overwrite, checkpoint_every,
                         resume, num_envs, horizon, alpha_schedule, alpha_decay_rounds, alpha_p, mc_horizon):
    """AggreVaTeD: learn actions of low cost-to-go under the expert's Q* (critic or Monte Carlo)."""
    _threads()
    from imitlab.algorithms.aggrevated import train_aggrevated
    from imitlab.defaults import aggrevated_config
    from imitlab.envs.vector import check_env_id
    from imitlab.experts import load_expert
    from imitlab.experts.montecarlo import require_q

    check_env_id(env_id)
    expert_policy = load_expert(expert_spec, env_id)
    overrides = {k: v for k, v in dict(num_envs=num_envs, horizon=horizon, alpha_schedule=alpha_schedule,
                                        alpha_decay_rounds=alpha_decay_rounds, alpha_p=alpha_p, mc_horizon=mc_horizon).items()
                 if v is not None}
    config = aggrevated_config(env_id, **overrides)
    require_q(env_id, expert_policy)
    steps = _resolve_budget(steps, "aggrevated", env_id, resume_out=out if resume else None)
    run_dir = _run_dir_for(out, overwrite=overwrite, resume=resume)
    result = train_aggrevated(
        env_id=env_id, expert=expert_policy, total_steps=steps, seed=seed, config=config, out=run_dir,
        checkpoint_every=checkpoint_every, resume=resume,
        eval_every=eval_every, eval_episodes=eval_episodes, progress=True,
    )
    _report(result, run_dir)


def _report(result, where) -> None:
    f = result.final
    score = "" if f is None or f.normalized_score is None else f", normalized {f.normalized_score:.3f}"
    ret = "" if f is None else f"; final return {f.mean_return:.1f} ± {f.std_return:.1f}{score}"
    click.echo(f"trained in {result.train_seconds:.2f} s{ret}; wrote {where}")


# ------------------------------------------------------------------------------------------- bench
@cli.command()
@click.option("--algos", default="bc,gail,dagger", show_default=True,
              help="Comma-separated: bc, gail, gail-offline, dagger, aggrevated.")
@click.option("--envs", default="CartPole-v1", show_default=True, help="Comma-separated env ids of the task registry.")
@click.option("--demos", "demo_counts", default="1,4,10", show_default=True,
              help="Comma-separated demo episode counts (BC, GAIL; DAgger and AggreVaTeD take none).")
@click.option("--seeds", default="0,1,2", show_default=True, help="Comma-separated training seeds.")
@click.option("--out", type=click.Path(), help="Bench directory: runs.jsonl, demos/, tables, figures, report.md.")
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes, one torch thread each.")
@click.option("--budget-scale", default=1.0, show_default=True, type=float,
              help="Multiply every task default budget (e.g. 0.1 for a quick look).")
@click.option("--eval-episodes", default=50, show_default=True, type=int, help="Episodes per evaluation.")
@click.option("--demo-seed", default=0, show_default=True, type=int, help="Demo episode i is recorded with seed demo-seed + i.")
@click.option("--report", "report_dir", type=click.Path(), help="Only rebuild DIR's report from its runs.jsonl.")
def bench(algos, envs, demo_counts, seeds, out, workers, budget_scale, eval_episodes, demo_seed, report_dir) -> None:
    """Benchmark algorithms x tasks x demo counts x seeds; resumes where it stopped."""
    from imitlab.bench import CellFailed, build_report, run_bench
    from imitlab.bench.grid import parse_ints, parse_names

    if report_dir is not None:
        if not Path(report_dir).is_dir():
            raise UserError(f"--report {report_dir!r} is not a directory; give a bench's --out")
        click.echo(f"wrote {build_report(report_dir)}")
        return
    if out is None:
        raise UserError("give --out DIR for the bench (or --report DIR to rebuild a report)")
    grid = {
        "algos": parse_names(algos, what="algos"), "envs": parse_names(envs, what="envs"),
        "demos": parse_ints(demo_counts, what="demos", minimum=1), "seeds": parse_ints(seeds, what="seeds", minimum=0),
    }
    command = (f"imitlab bench --algos {','.join(grid['algos'])} --envs {','.join(grid['envs'])} "
               f"--demos {','.join(map(str, grid['demos']))} --seeds {','.join(map(str, grid['seeds']))} "
               f"--workers {workers} --budget-scale {budget_scale:g} --eval-episodes {eval_episodes} "
               f"--demo-seed {demo_seed} --out {out}")
    try:
        outcome = run_bench(**grid, out=out, workers=workers, budget_scale=budget_scale, eval_episodes=eval_episodes,
                            demo_seed=demo_seed, command=command, log=lambda msg: click.echo(msg, err=True))
    except CellFailed as e:
        raise click.ClickException(str(e)) from None  # exit 1: not the user's mistake, and nothing is lost
    report = build_report(out)
    click.echo(f"ran {outcome.ran} runs ({outcome.skipped} already done) in {outcome.wall_seconds:.1f} s; wrote {report}")


# --------------------------------------------------------------------------------------------- zoo
@cli.group()
def zoo() -> None:
    """The shipped experts and the task registry."""


@zoo.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def zoo_list(as_json) -> None:
    """Each task: its shipped experts, their returns and how they were made, the random return, Q*."""
    from imitlab.experts.catalog import format_zoo_table, zoo_entries

    rows = zoo_entries()
    if as_json:
        _echo_json(rows)
        return
    click.echo(format_zoo_table(rows))


# -------------------------------------------------------------------------------------------- eval
@cli.command("eval")
@click.option("--env", "env_id", required=True)
@click.option("--policy", "policy_spec", required=True, help="A run dir, a policy.pt, 'zoo' or 'random'.")
@click.option("--episodes", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--stochastic", is_flag=True, help="Sample actions instead of taking the most likely one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_cmd(env_id, policy_spec, episodes, seed, stochastic, as_json) -> None:
    """Evaluate a policy over whole episodes."""
    _threads()
    from imitlab.envs.vector import check_env_id
    from imitlab.evaluation import evaluate, random_actor
    from imitlab.experts import load_expert

    check_env_id(env_id)
    if policy_spec == "random":
        actor = random_actor(env_id, seed)
    else:
        actor = load_expert(policy_spec, env_id)
    result = evaluate(actor, env_id, episodes=episodes, seed=seed, deterministic=not stochastic)
    if as_json:
        _echo_json(result.to_dict())
        return
    score = "n/a (env not in the task registry)" if result.normalized_score is None else f"{result.normalized_score:.3f}"
    click.echo(f"{env_id}: mean return {result.mean_return:.2f} ± {result.std_return:.2f} over {episodes} episodes; normalized {score}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: runs the CLI and maps a user's mistake to one line on stderr, exit status 2;
    a warning is one line on stderr too."""
    global _INVOCATION
    _INVOCATION = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning
        return _run(_INVOCATION)


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


if __name__ == "__main__":
    sys.exit(main())

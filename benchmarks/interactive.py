"""BC, DAgger and AggreVaTeD side by side on CartPole-v1 and Pendulum-v1: env steps and training
seconds to the first evaluation (50 deterministic episodes) with normalized score >= 0.95.

    python benchmarks/interactive.py [--seeds 0 1 2] [--envs CartPole-v1 Pendulum-v1] [--threshold 0.95]

- BC learns from 10 episodes of the env's default zoo expert; its "env steps" are the expert's
  steps in those demos, evaluated after every epoch (10 epochs).
- DAgger starts from nothing with the default zoo expert (no critic needed), evaluated each round
  (1,000 env steps).
- AggreVaTeD uses the expert with a critic: CartPole-v1 the DQN expert (zoo:dqn), Pendulum-v1 the
  SAC expert (zoo); evaluated each iteration (1,000 env steps).

Training seconds exclude evaluation. The budgets are the per-env entries of BUDGETS below.
"""

from __future__ import annotations

import argparse

import torch

from imitlab.algorithms import train_bc
from imitlab.algorithms.aggrevated import train_aggrevated
from imitlab.algorithms.dagger import train_dagger
from imitlab.data.collect import collect_demos
from imitlab.defaults import aggrevated_config, bc_config, dagger_config
from imitlab.experts import load_expert

# env id -> (DAgger env steps, AggreVaTeD env steps, AggreVaTeD expert spec)
BUDGETS = {
    "CartPole-v1": (10_000, 10_000, "zoo:dqn"),
    "Pendulum-v1": (20_000, 30_000, "zoo"),
}


def first_reaching(history, threshold):
    return next((h for h in history if (h["normalized_score"] or -1e9) >= threshold), None)


def row(algo, env, seed, hit, steps_of, final, total_seconds):
    when = f"{steps_of(hit):,}" if hit else "never"
    secs = f"{hit['train_seconds']:.2f}" if hit else "-"
    print(f"{env:<12} {algo:<11} {seed:>4} {when:>14} {secs:>13} {total_seconds:>14.2f} {final['mean_return']:>13.1f} "
          f"{final['normalized_score']:>7.3f}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--envs", nargs="+", default=list(BUDGETS))
    p.add_argument("--threshold", type=float, default=0.95)
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"{'env':<12} {'algo':<11} {'seed':>4} {'env steps to':>14} {'train s to':>13} {'total train s':>14} "
          f"{'final return':>13} {'norm':>7}")
    print(f"{'':<12} {'':<11} {'':>4} {f'>= {args.threshold}':>14} {f'>= {args.threshold}':>13}")
    for env in args.envs:
        dagger_steps, agg_steps, agg_spec = BUDGETS[env]
        expert = load_expert("zoo", env)
        demos = collect_demos(expert, env, episodes=10, seed=0)
        for seed in args.seeds:
            bc = train_bc(env_id=env, demos=demos, seed=seed, config=bc_config(env), eval_every=1)
            row("bc", env, seed, first_reaching(bc.history, args.threshold), lambda h, n=demos.n_transitions: n,
                bc.history[-1], bc.train_seconds)
        for seed in args.seeds:
            cfg = dagger_config(env)
            res = train_dagger(env_id=env, expert=expert, total_steps=dagger_steps, seed=seed, config=cfg,
                               eval_every=cfg.steps_per_round)
            row("dagger", env, seed, first_reaching(res.history, args.threshold), lambda h: h["env_steps"],
                res.history[-1], res.train_seconds)
        q_expert = load_expert(agg_spec, env)
        for seed in args.seeds:
            cfg = aggrevated_config(env)
            res = train_aggrevated(env_id=env, expert=q_expert, total_steps=agg_steps, seed=seed, config=cfg,
                                   eval_every=cfg.num_envs * cfg.horizon)
            row("aggrevated", env, seed, first_reaching(res.history, args.threshold), lambda h: h["env_steps"],
                res.history[-1], res.train_seconds)


if __name__ == "__main__":
    main()

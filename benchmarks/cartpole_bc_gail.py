"""BC and GAIL on CartPole-v1 from 10 expert episodes: env steps and training seconds to the first
evaluation (50 deterministic episodes) with mean return >= 475, for seeds 0-2.

    python benchmarks/cartpole_bc_gail.py [--seeds 0 1 2] [--eval-every 2048]

Training seconds exclude the evaluations. The peer numbers are the issue's, measured on this
machine with `imitation` 1.0.1 (SB3 PPO generator): GAIL 164,000-197,000 env steps and 49-57 s;
BC 2.8-4.3 s for 10 epochs. Targets: GAIL <= 50,000 env steps and <= 5 s; BC <= 0.5 s.
"""

from __future__ import annotations

import argparse

import torch

from imitlab.algorithms import train_bc, train_gail
from imitlab.data.collect import collect_demos
from imitlab.defaults import bc_config, defaults_for, gail_config
from imitlab.evaluation import evaluate
from imitlab.experts import load_expert

ENV = "CartPole-v1"


def first_reaching(history, threshold=475.0):
    return next((h for h in history if h["mean_return"] >= threshold), None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--eval-every", type=int, default=2048, help="GAIL env steps between evaluations")
    args = p.parse_args()
    torch.set_num_threads(1)
    demos = collect_demos(load_expert("zoo", ENV), ENV, episodes=10, seed=0)
    steps = defaults_for(ENV, "gail_steps", 50_000)
    print(f"{ENV}, 10 expert episodes ({demos.n_transitions} pairs); GAIL budget {steps} env steps\n")
    print(f"{'algo':<5} {'seed':>4} {'steps to 475':>13} {'train s to 475':>15} {'total train s':>14} {'final return':>13}")
    for seed in args.seeds:
        bc = train_bc(env_id=ENV, demos=demos, seed=seed, config=bc_config(ENV), eval_every=1)
        hit = first_reaching(bc.history)
        final = evaluate(bc.policy, ENV, episodes=50, seed=777).mean_return
        when = f"epoch {hit['epoch']}" if hit else "never"
        secs = f"{hit['train_seconds']:.2f}" if hit else "-"
        print(f"{'bc':<5} {seed:>4} {when:>13} {secs:>15} {bc.train_seconds:>14.2f} {final:>13.1f}", flush=True)
    for seed in args.seeds:
        gail = train_gail(env_id=ENV, demos=demos, total_steps=steps, seed=seed, config=gail_config(ENV), eval_every=args.eval_every)
        hit = first_reaching(gail.history)
        final = evaluate(gail.policy, ENV, episodes=50, seed=777).mean_return
        when = f"{hit['env_steps']:,}" if hit else "never"
        secs = f"{hit['train_seconds']:.2f}" if hit else "-"
        print(f"{'gail':<5} {seed:>4} {when:>13} {secs:>15} {gail.train_seconds:>14.2f} {final:>13.1f}", flush=True)


if __name__ == "__main__":
    main()

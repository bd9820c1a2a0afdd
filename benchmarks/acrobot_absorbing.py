"""Why absorbing states matter: GAIL on Acrobot-v1 (episodes end at the goal) with and without
``absorbing``, same reward form (positive), same budget, 10 expert episodes.

    python benchmarks/acrobot_absorbing.py [--seeds 0 1 2] [--steps 150000]
"""

from __future__ import annotations

import argparse

import torch

from imitlab.algorithms import train_gail
from imitlab.data.collect import collect_demos
from imitlab.defaults import defaults_for, gail_config
from imitlab.evaluation import evaluate
from imitlab.experts import load_expert

ENV = "Acrobot-v1"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=defaults_for(ENV, "gail_steps", 150_000))
    args = p.parse_args()
    torch.set_num_threads(1)
    demos = collect_demos(load_expert("zoo", ENV), ENV, episodes=10, seed=0)
    print(f"{ENV}, 10 expert episodes, {args.steps:,} env steps, reward form 'positive'\n")
    print(f"{'absorbing':<10} {'seed':>4} {'final return':>13} {'normalized':>11} {'train s':>8}")
    for absorbing in (True, False):
        for seed in args.seeds:
            r = train_gail(env_id=ENV, demos=demos, total_steps=args.steps, seed=seed,
                           config=gail_config(ENV, absorbing=absorbing), eval_every=0, eval_episodes=5)
            e = evaluate(r.policy, ENV, episodes=50, seed=777)
            print(f"{str(absorbing):<10} {seed:>4} {e.mean_return:>13.1f} {e.normalized_score:>11.3f} {r.train_seconds:>8.1f}", flush=True)


if __name__ == "__main__":
    main()

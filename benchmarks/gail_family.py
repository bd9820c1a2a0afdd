"""The GAIL family side by side: REINFORCE, PPO and TRPO generators, offline GAIL and BC, on
CartPole-v1 and Pendulum-v1 from 10 expert episodes.

    python benchmarks/gail_family.py [--envs CartPole-v1 Pendulum-v1] [--seeds 0 1 2] [--threshold 0.95]

For each run: env steps (iterations or epochs for the offline methods) and training seconds to the
first evaluation (50 deterministic episodes) with normalized score >= threshold, or the best
normalized score reached when it never gets there. Training seconds exclude evaluation time.
Budgets and hyperparameters are the task defaults (imitlab/defaults.py).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch

from imitlab.algorithms import train_bc, train_gail
from imitlab.algorithms.gail_offline import OfflineGAILConfig, train_gail_offline
from imitlab.data.collect import collect_demos
from imitlab.defaults import bc_config, defaults_for, gail_config
from imitlab.experts import load_expert


def reached(history, threshold, key):
    hit = next((h for h in history if h["normalized_score"] >= threshold), None)
    best = max(h["normalized_score"] for h in history)
    if hit is None:
        return "never", "-", best
    return f"{hit[key]:,}", f"{hit['train_seconds']:.2f}", best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--envs", nargs="+", default=["CartPole-v1", "Pendulum-v1"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--threshold", type=float, default=0.95)
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"normalized >= {args.threshold}; 'to threshold' = env steps (GAIL), iterations (offline GAIL) or epochs (BC)\n")
    print(f"{'env':<12} {'method':<16} {'seed':>4} {'to threshold':>13} {'train s':>8} {'best norm':>10} {'final norm':>11} {'total s':>8}")
    for env_id in args.envs:
        demos = collect_demos(load_expert("zoo", env_id), env_id, episodes=10, seed=0)
        steps = defaults_for(env_id, "gail_steps", 100_000)
        for seed in args.seeds:
            rows = []
            for gen in ("reinforce", "ppo", "trpo"):
                r = train_gail(env_id=env_id, demos=demos, total_steps=steps, seed=seed,
                               config=gail_config(env_id, generator=gen), eval_every=max(steps // 25, 2048))
                rows.append((f"gail-{gen}", r, "env_steps"))
            off_cfg = replace(defaults_for(env_id, "gail_offline", OfflineGAILConfig()), iterations=2000)
            r = train_gail_offline(env_id=env_id, demos=demos, seed=seed, config=off_cfg, eval_every=100)
            rows.append(("gail-offline", r, "epoch"))
            r = train_bc(env_id=env_id, demos=demos, seed=seed, config=bc_config(env_id))
            rows.append(("bc", r, "epoch"))
            for name, r, key in rows:
                when, secs, best = reached(r.history, args.threshold, key)
                final = r.history[-1]["normalized_score"]
                print(f"{env_id:<12} {name:<16} {seed:>4} {when:>13} {secs:>8} {best:>10.3f} {final:>11.3f} "
                      f"{r.train_seconds:>8.1f}", flush=True)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()

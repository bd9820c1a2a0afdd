"""Sampler throughput: env steps per second with the policy acting in the loop.

    python benchmarks/sampler_throughput.py [--env CartPole-v1] [--envs 1024] [--steps 128] [--repeats 5]

Bar (issue 2): CartPole-v1 with >= 1,024 envs and a 64x64 policy acting: >= 500,000 env steps/s.
"""

from __future__ import annotations

import argparse
import time

import torch

from imitlab.envs import make_vec_env
from imitlab.policies import make_policy
from imitlab.sampling import RolloutSampler


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="CartPole-v1")
    p.add_argument("--envs", type=int, nargs="+", default=[16, 256, 1024, 4096])
    p.add_argument("--steps", type=int, default=128, help="steps per env in one collect() call")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"{'env':<14} {'num_envs':>8} {f'steps/s (best of {args.repeats})':>22} {'median':>12}")
    for n in args.envs:
        venv = make_vec_env(args.env, n)
        policy = make_policy(venv.single_observation_space, venv.single_action_space)
        sampler = RolloutSampler(venv, args.steps, seed=0)
        sampler.collect(policy)  # warm-up
        rates = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            sampler.collect(policy)
            rates.append(n * args.steps / (time.perf_counter() - t))
        rates.sort()
        print(f"{args.env:<14} {n:>8} {rates[-1]:>22,.0f} {rates[len(rates) // 2]:>12,.0f}")


if __name__ == "__main__":
    main()

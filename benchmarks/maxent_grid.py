"""Maximum-entropy IRL on a 10x10 gridworld: the seconds it takes to learn the reward (the issue's
bar: under a second), and whether the learned reward's optimal policy acts as the expert does.

    python benchmarks/maxent_grid.py [--iterations 300] [--episodes 10] [--slip 0.0] [--repeats 3]

The map (100 cells: 9 walls, 11 penalty cells across shortest routes, 12 bonus cells along another)
is typed in as a GridWorld-v0 env kwarg; demos come from the exact optimal expert. The timed part
is the reward's optimisation, exactly as ``imitlab train maxent-irl`` runs it (each iteration:
soft value iteration, the exact state visitation, one gradient step), then value iteration on
the learned reward for its optimal policy; the demos and the env's dynamics are built before.

One torch thread, as imitlab's commands run (the exact linear solves are torch's).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch

from imitlab.algorithms.irl.maxent import ExpertSteps, LinearTabularReward, MaxEntIRL, MaxEntIRLConfig, agreement
from imitlab.data.collect import collect_demos
from imitlab.envs.tabular import tabular_mdp
from imitlab.envs.vector import env_kwargs
from imitlab.experts.tabular import OptimalExpert

GRID = "\n".join([
    "S . . . . . . . . .",
    ". # # . - - . . . .",
    ". . # . - - . # . .",
    ". + . . . . . # . .",
    ". + # # - - . . . .",
    ". + . . - - . . . .",
    ". + . . . . . # . .",
    ". . + + + . . # . .",
    ". . . . + . - . . .",
    "- - . . + + + + . G",
])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iterations", type=int, default=MaxEntIRLConfig().iterations)
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--slip", type=float, default=0.0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(1)
    env = "GridWorld-v0"
    with env_kwargs(env, {"grid": GRID, "slip": args.slip}):
        mdp = tabular_mdp(env)
        expert = OptimalExpert(env)
        demos = collect_demos(expert, env, episodes=args.episodes, seed=0)
        config = replace(MaxEntIRLConfig(), iterations=args.iterations, tol=0.0)  # run every iteration
        print(f"{env} 10x10 (slip {args.slip}), {args.episodes} expert episodes "
              f"(return {demos.returns().mean():.2f}), {args.iterations} iterations, reward form {config.reward_form}\n")
        print(f"{'repeat':>6} {'seconds':>8} {'ms/iter':>8} {'agreement':>10} {'feature gap':>12}")
        for repeat in range(args.repeats):
            steps = ExpertSteps.of(mdp, demos)
            start = time.perf_counter()
            irl = MaxEntIRL(mdp, LinearTabularReward(mdp, config.reward_form), steps, config)
            for _ in range(config.iterations):
                irl.step()
            q = irl.optimal_solution().first_q
            seconds = time.perf_counter() - start
            score = agreement(q, steps.states, steps.actions)["agreement"]
            print(f"{repeat:>6} {seconds:>8.3f} {1000 * seconds / config.iterations:>8.2f} {score:>10.3f} {irl.gap:>12.4f}")
        path = np.flatnonzero(np.bincount(steps.states, minlength=mdp.n_states))
        print(f"\nthe expert acts in {len(path)} cells; learned reward of the state entered (rows of the map):")
        table = LinearTabularReward(mdp, config.reward_form).state_table(irl.theta).reshape(mdp.grid_shape)
        for row, kinds in zip(table, GRID.split("\n")):
            print("  " + " ".join(f"{v:6.2f}" for v in row) + "    " + kinds)


if __name__ == "__main__":
    main()

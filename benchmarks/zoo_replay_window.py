"""How the chaotic zoo experts' records replay when their trajectories diverge, as on another CPU.

Each Box2D / MuJoCo expert is evaluated as its record was (50 deterministic episodes, seed 0) but
with its observations perturbed by one part in 1e9 (float64) or 1e-6 (float32): a last-bit
difference that the physics grows into other trajectories, a stand-in for another CPU's float
kernels. Prints each replay's mean and std and the window ``tests/experts/test_catalog.py``
allows it, so the test's tolerance can be seen to hold where it should.

    python benchmarks/zoo_replay_window.py [--envs Hopper-v5 ...] [--draws 3]   (from the repo root)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.experts.test_catalog import replay_window  # noqa: E402

from imitlab.evaluation import evaluate  # noqa: E402
from imitlab.experts import load_expert  # noqa: E402
from imitlab.policies import Policy  # noqa: E402
from imitlab.tasks import TASKS, ZOO_RECORDS  # noqa: E402

CHAOTIC = ["LunarLander-v3", "BipedalWalker-v3", "HalfCheetah-v5", "Hopper-v5"]


def perturbed(env_id: str, draw: int):
    """The zoo expert of ``env_id`` acting on observations nudged by a last-bit-sized noise."""
    expert = load_expert("zoo", env_id)
    inner = getattr(expert, "policy", expert)
    act = (lambda o: inner.act(o, deterministic=True)) if isinstance(inner, Policy) else expert
    rng = np.random.default_rng(draw)

    def nudged(obs: np.ndarray) -> np.ndarray:
        scale = 1e-9 if obs.dtype == np.float64 else 1e-6
        return act((obs * (1 + scale * rng.standard_normal(obs.shape))).astype(obs.dtype))

    return nudged


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--envs", nargs="+", default=CHAOTIC)
    p.add_argument("--draws", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"{'env':<18} {'draw':>4} {'mean':>9} {'std':>8} {'window':>21}  inside")
    for env_id in args.envs:
        record = ZOO_RECORDS[f"{env_id}.pt"]
        for draw in range(args.draws):
            r = evaluate(perturbed(env_id, draw), env_id, episodes=50, seed=0)
            lo, hi = replay_window(record, r.std_return, TASKS[env_id].expert_bar)
            inside = "yes" if lo <= r.mean_return <= hi else "NO"
            print(f"{env_id:<18} {draw:>4} {r.mean_return:>9.2f} {r.std_return:>8.2f} [{lo:>8.2f}, {hi:>8.2f}]  {inside}", flush=True)


if __name__ == "__main__":
    main()

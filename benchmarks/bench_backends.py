"""``imitlab bench`` on the local pool and on Ray, same grid, same machine: wall seconds of each
and whether every cell scored the same.

    python benchmarks/bench_backends.py [--out runs/bench-backends] [--envs ...] [--workers 2] [--order ray,local]

Each backend runs the grid from nothing (a fresh --out: demos recorded, every cell trained) as the
command a user types, in its own process; "process s" is that process's wall time (imports, Ray's
start and stop included), "bench s" the bench's own (bench.json: from the demos to the last
record). The Ray run starts a local Ray instance with --workers CPUs. Needs ``imitlab[ray]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def run(backend: str, out: Path, args: argparse.Namespace) -> float:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "imitlab.cli", "bench", "--algos", args.algos, "--envs", args.envs, "--demos", args.demos,
           "--seeds", args.seeds, "--workers", str(args.workers), "--budget-scale", str(args.budget_scale),
           "--backend", backend, "--out", str(out)]
    t0 = time.perf_counter()
    with open(f"{out}.log", "w") as log:
        subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT)
    return time.perf_counter() - t0


def scores(out: Path) -> dict[tuple, float]:
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    return {(r["algo"], r["env"], r["n_demos"], r["seed"]): r["normalized_score"] for r in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/bench-backends")
    parser.add_argument("--algos", default="bc,gail,dagger")
    parser.add_argument("--envs", default="CartPole-v1,Acrobot-v1,Pendulum-v1,MountainCar-v0")
    parser.add_argument("--demos", default="10")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget-scale", type=float, default=1.0)
    parser.add_argument("--order", default="local,ray", help="which backend runs first (the machine's load drifts)")
    args = parser.parse_args()
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    rows, results = [], {}
    for backend in args.order.split(","):
        out = root / backend
        load = os.getloadavg()[0]
        seconds = run(backend, out, args)
        bench = json.loads((out / "bench.json").read_text())["invocations"][-1]
        results[backend] = scores(out)
        rows.append(f"| {backend} | {bench['cells']} | {seconds:.1f} | {bench['wall_seconds']:.1f} | {load:.2f} |")
    same = results["local"] == results["ray"]
    diff = max(abs(results["local"][k] - results["ray"][k]) for k in results["local"] if k in results["ray"])
    print(f"grid: --algos {args.algos} --envs {args.envs} --demos {args.demos} --seeds {args.seeds} "
          f"--workers {args.workers} --budget-scale {args.budget_scale:g}")
    print("| backend | cells | process s | bench s | load average at start |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print(f"same cells and scores: {same} (largest score difference {diff:.3g})")


if __name__ == "__main__":
    main()

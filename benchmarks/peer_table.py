"""Our MuJoCo results beside the peer's: a Markdown table, and one score-vs-env-steps figure per task
that puts every algorithm of the given bench directories on the same axes.

    python benchmarks/peer_table.py [BENCH_DIR ...] [--out benchmarks/results/peer]

Default bench directories (those of them that exist): benchmarks/results/mujoco (BC, GAIL at
500k steps), gail-mujoco and gail-walker2d (GAIL at 1M), dac-mujoco (DAC). Every figure of ours comes from a bench's runs.jsonl (final
score: the mean return of ``eval_episodes`` deterministic episodes after training, normalized by
the task registry's random and expert returns); nothing is typed in by hand but the peer's.

The peer's figures are HumanCompatibleAI imitation's published MuJoCo benchmark as quoted in issue
14: seals/*-v1 versions of the tasks, about 100 expert trajectories and 10M env steps per run,
normalized by its own experts. Different env versions and experts: a guide, not a controlled
comparison.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from imitlab.bench.plots import plot_bench_curves
from imitlab.bench.report import load_bench

PEER = {  # task: {method: normalized}, imitation's benchmark (issue 14)
    "HalfCheetah": {"GAIL": 0.963, "AIRL": 0.627},
    "Hopper": {"GAIL": 0.935, "AIRL": 0.921},
    "Walker2d": {"GAIL": 0.959, "AIRL": 0.461},
    "Ant": {"GAIL": 0.995, "AIRL": 0.981},
    "Swimmer": {"GAIL": 0.845, "AIRL": 0.970},
}
PEER_DEMOS, PEER_STEPS = "~100", "10M"
DEFAULT_BENCHES = ("benchmarks/results/mujoco", "benchmarks/results/gail-mujoco", "benchmarks/results/gail-walker2d",
                   "benchmarks/results/dac-mujoco")


def task_name(env_id: str) -> str:
    """``Hopper-v5`` -> ``Hopper``: the peer's tasks are other versions of the same robots."""
    return env_id.split("/")[-1].rsplit("-v", 1)[0]


def _steps(n: float) -> str:
    if n == 0:
        return "0 (offline)"
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def our_rows(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Table rows of ours by task: one per (env, algorithm, demos, budget), seeds in order."""
    groups: dict[tuple[str, str, int, int], list[dict[str, Any]]] = {}
    for r in records:
        if r.get("normalized_score") is not None:
            groups.setdefault((r["env"], r["algo"], int(r["n_demos"]), int(r["budget"])), []).append(r)
    rows: dict[str, list[str]] = {}
    for (env, algo, demos, _), runs in sorted(groups.items()):
        runs.sort(key=lambda r: r["seed"])
        scores = [float(r["normalized_score"]) for r in runs]
        steps = statistics.mean(float(r.get("env_steps") or 0) for r in runs)
        per_seed = " / ".join(f"{s:.3f}" for s in scores)
        rows.setdefault(task_name(env), []).append(
            f"| {env} | {algo} (imitlab) | {demos} | {_steps(steps)} | {per_seed} (seeds "
            f"{', '.join(str(r['seed']) for r in runs)}) | {statistics.mean(scores):.3f} | {min(scores):.3f} |")
    return rows


def table(records: list[dict[str, Any]]) -> str:
    """Markdown: our rows and the peer's, task by task (the peer's tasks we have no run on last)."""
    ours = our_rows(records)
    lines = ["| task | method | demos | env steps per run | normalized (per seed) | mean | worst seed |",
             "|---|---|---|---|---|---|---|"]
    for task in list(ours) + [t for t in PEER if t not in ours]:
        lines += ours.get(task, [f"| {task} | (no imitlab run yet) | | | | | |"])
        for method, score in PEER.get(task, {}).items():
            lines.append(f"| seals/{task}-v1 | {method} (imitation) | {PEER_DEMOS} | {PEER_STEPS} | published | {score:.3f} | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benches", nargs="*", type=Path, help="bench directories (default: %(default)s)",
                        default=[Path(p) for p in DEFAULT_BENCHES])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/peer"))
    args = parser.parse_args()
    records: list[dict[str, Any]] = []
    for bench in args.benches:
        if (bench / "runs.jsonl").is_file():
            records += load_bench(bench)[0]
        else:
            print(f"skipped {bench}: no runs.jsonl")
    args.out.mkdir(parents=True, exist_ok=True)
    text = table(records)
    (args.out / "table.md").write_text(text)
    print(text)
    # A figure's curve per (algorithm, demos) averages its seeds: only the longest budget's runs.
    longest: dict[tuple[str, str, int], int] = {}
    for r in records:
        key = (r["env"], r["algo"], int(r["n_demos"]))
        longest[key] = max(longest.get(key, 0), int(r["budget"]))
    for env in dict.fromkeys(r["env"] for r in records):
        path = args.out / f"{env}-score-vs-steps.png"
        plot_bench_curves(env, [r for r in records if r["env"] == env
                                and int(r["budget"]) == longest[r["env"], r["algo"], int(r["n_demos"])]], path,
                          log_steps=True)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

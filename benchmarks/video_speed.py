"""Speed of the seeing tools: a video of 500 CartPole steps, and the HTML report of one run.

    python benchmarks/video_speed.py [--repeats 3] [--run RUN_DIR] [--mujoco]

Bar (issue 17): a video of 500 CartPole-v1 steps in under 5 s; the report of one run renders in
under 2 s. Times are wall seconds on a warm process (imports done) and, beside them, the CPU
seconds of this process and its children (the ffmpeg encoder; on a shared machine CPU time is
what the work costs); the report is also timed as a whole ``imitlab report`` command in a fresh
interpreter, imports included.

Without ``--run`` a GAIL run on CartPole-v1 (10 demos, 20,480 env steps, 50 evaluation
episodes) is trained first, into a temporary folder. ``--mujoco`` adds a Hopper-v5 video of
100 steps (off-screen rendering through EGL or OSMesa).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the ffmpeg encoder)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn`` over ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), cpu_seconds()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(cpu_seconds() - c)
    return statistics.median(walls), statistics.median(cpus)


def make_run(root: Path) -> Path:
    from imitlab.algorithms import train_gail
    from imitlab.data.collect import collect_demos
    from imitlab.defaults import config_for
    from imitlab.experts import load_expert

    demos = collect_demos(load_expert("zoo", "CartPole-v1"), "CartPole-v1", episodes=10, seed=0)
    train_gail(env_id="CartPole-v1", demos=demos, total_steps=20_000, seed=0, config=config_for("gail", "CartPole-v1"),
               out=root / "gail", eval_every=4096, eval_episodes=50)
    return root / "gail"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run", type=Path, help="A run directory to report (default: train a small GAIL run).")
    parser.add_argument("--mujoco", action="store_true", help="Also film 100 Hopper-v5 steps.")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from imitlab.report.html import build_report
    from imitlab.report.video import load_actor, record_video

    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        expert = load_actor("zoo", "CartPole-v1")
        record_video(expert, "CartPole-v1", root / "warm.mp4", max_steps=10)  # first ffmpeg start, fonts, pygame
        for every, suffix in ((1, ".mp4"), (2, ".mp4"), (2, ".gif")):
            out = root / f"cartpole-{every}{suffix}"
            wall, cpu = timed(lambda out=out, every=every: record_video(expert, "CartPole-v1", out, every=every), args.repeats)
            frames = 500 // every + 1
            rows.append((f"CartPole-v1 video, 500 steps, {frames} frames ({suffix[1:]}, every {every})", wall, cpu))
        compare = root / "compare.mp4"
        wall, cpu = timed(lambda: record_video(load_actor("random", "CartPole-v1"), "CartPole-v1", compare,
                                               compare=expert, every=2), args.repeats)
        rows.append(("CartPole-v1 video, random beside the expert (500 steps, every 2)", wall, cpu))
        if args.mujoco:
            hopper = root / "hopper.mp4"
            wall, cpu = timed(lambda: record_video(load_actor("zoo", "Hopper-v5"), "Hopper-v5", hopper, max_steps=100), 1)
            rows.append(("Hopper-v5 video, 100 steps, 26 frames (mp4, every 4)", wall, cpu))

        run = args.run or make_run(root)
        page = root / "report.html"
        wall, cpu = timed(lambda: build_report([run], page), args.repeats)
        rows.append((f"report of one run ({run.name}, {page.stat().st_size / 1e6:.2f} MB page)", wall, cpu))
        script = ("import sys; from imitlab.cli import cli, main; from imitlab.cli.report import report_cmd;"
                  "'report' in cli.commands or cli.add_command(report_cmd); sys.exit(main(sys.argv[1:]))")
        command = [sys.executable, "-c", script, "report", str(run), "--out", str(page)]
        wall, cpu = timed(lambda: subprocess.run(command, check=True, capture_output=True), args.repeats)
        rows.append(("imitlab report RUN, a fresh interpreter (imports included)", wall, cpu))

    width = max(len(name) for name, _, _ in rows)
    print(f"{'':<{width}}  {'wall s':>7}  {'CPU s':>6}   (median of {args.repeats})")
    for name, wall, cpu in rows:
        print(f"{name:<{width}}  {wall:7.2f}  {cpu:6.2f}")


if __name__ == "__main__":
    main()

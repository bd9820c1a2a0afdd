"""``imitlab quickstart``: the whole pipeline on one task, end to end.

shipped expert -> N demonstration episodes -> BC and GAIL -> 50-episode evaluations ->
a table on the terminal, a learning-curve PNG, TensorBoard logs and ``summary.json``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from imitlab.algorithms.bc import train_bc
from imitlab.algorithms.gail import train_gail
from imitlab.data.collect import collect_demos
from imitlab.defaults import budget_for, config_for
from imitlab.evaluation import evaluate, random_actor
from imitlab.experts import load_expert
from imitlab.plots import plot_learning_curves
from imitlab.tasks import require_task
from imitlab.utils import atomic_write_json


def run_quickstart(
    *, out: str, env_id: str = "CartPole-v1", seed: int = 0, n_demos: int = 10, progress: bool = True
) -> dict[str, dict[str, Any]]:
    """Run the pipeline into ``out`` (its earlier quickstart files are replaced); returns the summary."""
    require_task(env_id)
    expert = load_expert("zoo", env_id)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        click.echo(f"[{time.perf_counter() - t0:5.1f}s] {msg}", err=True)

    say(f"collecting {n_demos} demonstration episodes from the shipped {env_id} expert")
    demos = collect_demos(expert, env_id, episodes=n_demos, seed=seed, metadata={"expert": "zoo"})
    demos.save(out_dir / "demos.npz")

    eval_seed = seed + 20_000  # episodes no training run has evaluated on
    results = {
        "random": evaluate(random_actor(env_id, seed), env_id, episodes=50, seed=eval_seed),
        "expert": evaluate(expert, env_id, episodes=50, seed=eval_seed),
    }
    say("training BC")
    bc = train_bc(env_id=env_id, demos=demos, seed=seed, config=config_for("bc", env_id), out=out_dir / "bc", progress=progress)
    gail_steps = budget_for("gail", env_id)  # the task's, as the bench gives it
    assert gail_steps is not None  # GAIL's budget has a fallback: only expert learners' can be None
    say(f"training GAIL for {gail_steps} env steps (from a random policy)")
    gail = train_gail(
        env_id=env_id, demos=demos, total_steps=gail_steps, seed=seed, config=config_for("gail", env_id),
        out=out_dir / "gail", eval_every=5_000, progress=progress,
    )
    say("evaluating over 50 episodes")
    results["bc"] = evaluate(bc.policy, env_id, episodes=50, seed=eval_seed)
    results["gail"] = evaluate(gail.policy, env_id, episodes=50, seed=eval_seed)

    task = require_task(env_id)
    plot_learning_curves(
        {"GAIL": gail.history, "BC": bc.history},
        out_dir / "learning_curve.png",
        title=f"{env_id}: imitation from {n_demos} expert episodes",
        references={"expert": task.expert_return, "random": task.random_return},
    )
    summary: dict[str, dict[str, Any]] = {
        name: {
            "mean_return": r.mean_return,
            "std_return": r.std_return,
            "normalized_score": r.normalized_score,
        }
        for name, r in results.items()
    }
    summary["meta"] = {
        "env_id": env_id,
        "seed": seed,
        "demo_episodes": n_demos,
        "eval_episodes": 50,
        "bc_train_seconds": bc.train_seconds,
        "gail_train_seconds": gail.train_seconds,
        "gail_env_steps": gail_steps,
        "wall_seconds": time.perf_counter() - t0,
    }
    atomic_write_json(out_dir / "summary.json", summary)
    from imitlab.errors import UserError
    from imitlab.report.html import build_report
    from imitlab.report.video import ffmpeg_exe, write_run_video

    try:
        ffmpeg_exe()
    except UserError:
        pass  # installed without imitlab[video]: the report goes without GAIL's video
    else:
        say("filming GAIL's policy (gail/video.mp4)")
        write_run_video(out_dir / "gail", seed=seed)
    build_report([out_dir / "bc", out_dir / "gail"], out_dir / "report.html",
                 title=f"imitlab quickstart: {env_id}, {n_demos} expert episodes")

    click.echo(f"\n{env_id}, {n_demos} expert episodes, 50 evaluation episodes each (deterministic policies)\n")
    click.echo(f"{'policy':<8} {'mean return':>12} {'std':>8} {'normalized':>11}")
    for name, r in results.items():
        click.echo(f"{name:<8} {r.mean_return:>12.1f} {r.std_return:>8.1f} {r.normalized_score:>11.3f}")
    click.echo(
        f"\nwrote {out_dir}/report.html, summary.json, learning_curve.png, demos.npz, bc/ and gail/ run dirs "
        f"(tensorboard --logdir {out_dir}) in {time.perf_counter() - t0:.1f} s"
    )
    return summary

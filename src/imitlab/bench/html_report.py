"""The bench's ``report.html``, beside ``report.md``: the same tables and figures on one page, and
on request one video per task and algorithm.

It reads what :func:`imitlab.bench.report.build_report` reads and writes (``runs.jsonl``,
``bench.json``, ``ENV-scores.png``, ``ENV-curves.png``) and names the figures by relative paths,
so the page travels with its directory. Figures that are missing are drawn first.

Videos (``videos=True``) film a kept policy of each (task, algorithm): the bench keeps a cell's
final policy at :func:`policy_path` (``policies/ENV/ALGO-NDEMOS-seedS.pt``); of the runs with the
most demos, the one whose final score is the median is filmed, one episode, into
``videos/ENV-ALGO.mp4``, which is reused while it is newer than its policy. Filming is off by
default: it renders every frame (a MuJoCo episode takes about half a minute here).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imitlab.bench.aggregate import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED
from imitlab.bench.grid import INTERACTIVE
from imitlab.bench.plots import plot_bench_curves, plot_scores_vs_demos
from imitlab.bench.report import load_bench, task_table
from imitlab.report.html import Page

HTML_REPORT = "report.html"
POLICIES_DIR = "policies"
VIDEOS_DIR = "videos"


def policy_path(out_dir: str | os.PathLike, env_id: str, algo: str, n_demos: int, seed: int) -> Path:
    """Where the bench keeps the final policy of a cell (what :func:`build_html_report` films)."""
    return Path(out_dir) / POLICIES_DIR / env_id / f"{algo}-{n_demos}-seed{seed}.pt"


def video_path(out_dir: str | os.PathLike, env_id: str, algo: str) -> Path:
    return Path(out_dir) / VIDEOS_DIR / f"{env_id}-{algo}.mp4"


def markdown_table_rows(markdown: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a markdown table (``| a | b |`` lines; the ``|---|`` line skipped)."""
    lines = [line.strip() for line in markdown.strip().splitlines() if line.strip().startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    body = [row for row in cells[1:] if not all(set(c) <= set("-: ") for c in row)]
    return cells[0] if cells else [], body


def _representative(records: list[dict[str, Any]], algo: str) -> dict[str, Any] | None:
    """The run of ``algo`` to film: among its runs with the most demos, the median final score."""
    runs = [r for r in records if r["algo"] == algo]
    if not runs:
        return None
    most = max(int(r["n_demos"]) for r in runs)
    group = sorted((r for r in runs if int(r["n_demos"]) == most),
                   key=lambda r: (r.get("normalized_score") is None, r.get("normalized_score") or 0.0, r["seed"]))
    return group[(len(group) - 1) // 2]


def _film(out: Path, env_id: str, algo: str, record: dict[str, Any], log: Callable[[str], None]) -> tuple[Path | None, str]:
    """The video of ``record``'s kept policy (made if missing or older than the policy), or None
    and why not."""
    policy_file = policy_path(out, env_id, algo, int(record["n_demos"]), int(record["seed"]))
    if not policy_file.is_file():
        return None, (f"no kept policy ({policy_file.relative_to(out)}): the bench keeps them from this version on; "
                      "rerun the cell to film it")
    video = video_path(out, env_id, algo)
    if not video.is_file() or video.stat().st_mtime < policy_file.stat().st_mtime:
        from imitlab.policies import load_policy
        from imitlab.report.video import record_video

        log(f"filming {env_id} {algo} ({policy_file.relative_to(out)})")
        policy, _ = load_policy(policy_file)
        record_video(policy, env_id, video, episodes=1, seed=0, label=f"{algo}, seed {record['seed']}")
    demos = "interactive" if int(record["n_demos"]) == INTERACTIVE else f"{record['n_demos']} demos"
    score = record.get("normalized_score")
    return video, (f"{algo} ({demos}, seed {record['seed']}, final normalized score "
                   f"{'n/a' if score is None else f'{score:.3f}'}: the median of its group), one episode with seed 0")


def build_html_report(out_dir: str | os.PathLike, *, videos: bool = False, log: Callable[[str], None] = lambda msg: None) -> Path:
    """Write ``out_dir/report.html`` from the bench's records and figures; returns its path.

    Args:
        out_dir: a bench directory (``imitlab bench --out``).
        videos: also film one kept policy per task and algorithm (see the module docstring).
        log: receives a line per video being made.

    Raises:
        UserError: the directory holds no finished runs.
    """
    out = Path(out_dir)
    records, info, summaries, envs = load_bench(out)
    page = Page("imitlab bench report", out=out / HTML_REPORT, embed=False)
    _how_made(page, info, records)
    for env in envs:
        env_records = [r for r in records if r["env"] == env]
        env_summaries = {(a, n): s for (e, a, n), s in summaries.items() if e == env}
        page.heading(2, env, anchor=env)
        _task_line(page, env, env_records)
        header, rows = markdown_table_rows(task_table(env_records, env_summaries))
        page.table(header, rows, numeric=tuple(range(2, len(header))))
        scores, curves = out / f"{env}-scores.png", out / f"{env}-curves.png"
        if not scores.is_file():
            plot_scores_vs_demos(env, env_summaries, scores)
        if not curves.is_file():
            plot_bench_curves(env, env_records, curves)
        page.figure(path=scores, alt=f"{env}: normalized score vs demos",
                    caption="IQM normalized score over seeds against the number of expert episodes, with 95% bootstrap "
                            "intervals; interactive algorithms (no demos) as a dashed line.")
        page.figure(path=curves, alt=f"{env}: learning curves",
                    caption="Mean normalized score over seeds against env steps and training seconds (band: min-max).")
        if videos:
            page.heading(3, "Videos")
            for algo in dict.fromkeys(r["algo"] for r in env_records):
                record = _representative(env_records, algo)
                if record is None:
                    continue
                video, text = _film(out, env, algo, record, log)
                if video is None:
                    page.paragraph(f"{algo}: {text}", css="note")
                else:
                    page.video(video, caption=text)
    return page.write(nav=[(env, env) for env in envs])


def _how_made(page: Page, info: dict[str, Any], records: list[dict[str, Any]]) -> None:
    commands = list(dict.fromkeys(i["command"] for i in info.get("invocations", []) if i.get("command") and i.get("to_run")))
    if commands:
        page.paragraph("Made by:")
        page.code_block("\n".join(commands))
    settings = info.get("settings", {})
    page.paragraph(f"{len(records)} runs. Settings: {', '.join(f'{k} {v}' for k, v in settings.items()) or 'not recorded'}. "
                   f"Sum of the runs' wall times: {sum(r['wall_seconds'] for r in records):,.0f} s.")
    page.paragraph(
        "Scores are normalized, (R - R_random) / (R_expert - R_random), from each run's final evaluation "
        f"({records[0].get('eval_episodes', '?')} deterministic episodes). Per (algorithm, demos): mean and IQM over seeds "
        f"with percentile-bootstrap 95% intervals ({BOOTSTRAP_RESAMPLES} resamples, RNG seed {BOOTSTRAP_SEED}). "
        "'interactive': DAgger and AggreVaTeD query the expert and take no demos. report.md holds the same tables; "
        "rebuild both from runs.jsonl with 'imitlab bench --report DIR'.", css="meta")


def _task_line(page: Page, env: str, records: list[dict[str, Any]]) -> None:
    from imitlab.tasks import get_task

    task = get_task(env)
    parts = []
    if task is not None:
        parts.append(f"random return {task.random_return:.2f}, expert return {task.expert_return:.2f} (the task registry's)")
    budgets = dict.fromkeys(f"{r['algo']} {r['budget']:,} {r['budget_unit'].replace('_', ' ')}" for r in records)
    parts.append(f"budgets: {', '.join(budgets)} (report.md says which are ceilings)")
    page.paragraph("; ".join(parts) + ".", css="meta")

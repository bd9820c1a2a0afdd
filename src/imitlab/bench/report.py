"""The bench report, rebuilt from ``runs.jsonl`` alone: a markdown table and two figures per task,
and ``report.md`` that gathers them with the command that made the runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from imitlab.bench.aggregate import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    ScoreSummary,
    summarize_records,
)
from imitlab.bench.grid import ALGOS, INTERACTIVE
from imitlab.bench.plots import plot_bench_curves, plot_scores_vs_demos
from imitlab.bench.runs import RUNS_FILE, read_runs
from imitlab.errors import UserError
from imitlab.utils import atomic_write_text

TABLE_HEADER = ("| algorithm | demos | runs | mean normalized [95% CI] | IQM normalized [95% CI] "
                "| final return | env steps | train s | wall s |")


def _ci(value: float, ci: tuple[float, float]) -> str:
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def _mean(runs: list[dict[str, Any]], field: str) -> float:
    return float(np.mean([r[field] for r in runs]))


def _group_order(key: tuple[str, int]) -> tuple[int, int]:
    algo, n = key
    return (list(ALGOS).index(algo) if algo in ALGOS else len(ALGOS), n)


def task_table(records: list[dict[str, Any]], summaries: dict[tuple[str, int], ScoreSummary]) -> str:
    """The markdown table of one task: a row per (algorithm, demos), means over its runs.

    ``records`` are the task's runs; ``summaries`` maps (algo, n_demos) to their score summary.
    """
    lines = [TABLE_HEADER, "|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(summaries, key=_group_order):
        algo, n = key
        s = summaries[key]
        runs = [r for r in records if (r["algo"], int(r["n_demos"])) == key]
        lines.append(
            f"| {algo} | {'interactive' if n == INTERACTIVE else n} | {s.n_runs} | {_ci(s.mean, s.mean_ci)} "
            f"| {_ci(s.iqm, s.iqm_ci)} | {_mean(runs, 'final_mean_return'):.1f} | {_mean(runs, 'env_steps'):,.0f} "
            f"| {_mean(runs, 'train_seconds'):.1f} | {_mean(runs, 'wall_seconds'):.1f} |"
        )
    return "\n".join(lines) + "\n"


def reward_table(records: list[dict[str, Any]]) -> str:
    """The markdown table of the learned rewards among ``records`` (IRL runs record
    ``reward_correlation``): mean Pearson correlation with the env's reward on expert and on random
    states, per (algorithm, demos); empty when no run learned a reward."""

    def mean_of(runs: list[dict[str, Any]], side: str) -> str:
        found = [(r["reward_correlation"].get(side) or {}).get("pearson") for r in runs]
        values: list[float] = [float(v) for v in found if v is not None]
        return f"{sum(values) / len(values):.3f} ({len(values)})" if values else "undefined"

    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in records:
        if r.get("reward_correlation"):
            groups.setdefault((r["algo"], int(r["n_demos"])), []).append(r)
    if not groups:
        return ""
    lines = ["Learned rewards: Pearson correlation with the env's reward (mean over runs; runs where it is defined)", "",
             "| algorithm | demos | expert states | random states |", "|---|---|---|---|"]
    for (algo, n), runs in sorted(groups.items(), key=lambda kv: _group_order(kv[0])):
        lines.append(f"| {algo} | {n} | {mean_of(runs, 'expert')} | {mean_of(runs, 'random')} |")
    return "\n".join(lines) + "\n"


def stops_early(record: dict[str, Any]) -> bool:
    """Whether the run's budget was a ceiling: BC with a held-out share stops once that stops
    improving (records made before BC held demos out, or with none held out, ran every epoch)."""
    return record["algo"] == "bc" and float(record.get("config", {}).get("validation_fraction", 0) or 0) > 0


def budget_text(algo: str, budget: int, unit: str, ceiling: bool, *, trained: list[int] | None = None) -> str:
    """One algorithm's budget for the report, e.g. ``gail 50,000 env steps``; a ceiling reads
    ``bc at most 1,000 epochs (a ceiling: ...; runs here trained 52-1,000 epochs)``, ``trained``
    being the epochs its runs trained."""
    text = f"{budget:,} {unit.replace('_', ' ')}"
    if not ceiling:
        return f"{algo} {text}"
    ran = ""
    if trained:
        lo, hi = min(trained), max(trained)
        ran = f"; runs here trained {lo:,}" + (f"-{hi:,}" if hi != lo else "") + f" {unit.replace('_', ' ')}"
    return f"{algo} at most {text} (a ceiling: it stops early once its held-out demos stop improving{ran})"


def _task_header(env_id: str, records: list[dict[str, Any]]) -> str:
    from imitlab.tasks import get_task

    task = get_task(env_id)
    parts = []
    if task is not None:
        parts.append(f"random return {task.random_return:.2f}, expert return {task.expert_return:.2f} "
                     "(the task registry's, which normalize the scores)")
    with_demos = [r["demos"] for r in records if r.get("demos")]
    if with_demos:
        largest = max(with_demos, key=lambda d: d["episodes"])
        parts.append(f"demos: the shipped expert, `{largest['file']}` "
                     f"({largest['episodes']} episodes: expert return {largest['expert_mean_return']:.2f})")
    budgets: dict[tuple[str, int, str, bool], list[int]] = {}
    for r in records:
        ran = budgets.setdefault((r["algo"], r["budget"], r["budget_unit"], stops_early(r)), [])
        if r.get("history") and r["history"][-1].get("epoch") is not None:
            ran.append(int(r["history"][-1]["epoch"]))
    order = sorted(budgets, key=lambda b: (_group_order((b[0], 0)), b[1:]))
    parts.append("budgets: " + ", ".join(budget_text(*b, trained=budgets[b]) for b in order))
    experts = sorted({(r["algo"], r["expert"]) for r in records if not ALGOS.get(r["algo"], ALGOS["bc"]).uses_demos})
    if experts:
        parts.append("interactive experts: " + ", ".join(f"{a} `{e}`" for a, e in experts))
    return "".join(f"- {p}\n" for p in parts)


def load_bench(out: Path) -> tuple[list[dict[str, Any]], dict[str, Any], dict, list[str]]:
    """A bench directory's finished runs, its ``bench.json``, their score summaries and the tasks in
    run order (what report.md and report.html are made from); a UserError where no run finished."""
    records = read_runs(out / RUNS_FILE)
    if not records:
        raise UserError(f"no finished runs in {out / RUNS_FILE}; run 'imitlab bench --out {out} ...' first")
    info = json.loads((out / "bench.json").read_text()) if (out / "bench.json").is_file() else {}
    return records, info, summarize_records(records), list(dict.fromkeys(r["env"] for r in records))


def build_report(out_dir: str | os.PathLike) -> Path:
    """Write ``ENV.md``, ``ENV-scores.png`` and ``ENV-curves.png`` for each task in
    ``out_dir/runs.jsonl``, and ``report.md``; returns the report's path."""
    out = Path(out_dir)
    records, info, summaries, envs = load_bench(out)

    doc = ["# imitlab bench report", ""]
    doc += _how_made(info, records)
    for env in envs:
        env_records = [r for r in records if r["env"] == env]
        env_summaries = {(a, n): s for (e, a, n), s in summaries.items() if e == env}
        table = task_table(env_records, env_summaries)
        rewards = reward_table(env_records)
        if rewards:
            table += "\n" + rewards
        atomic_write_text(out / f"{env}.md", f"# {env}\n\n{table}")
        plot_scores_vs_demos(env, env_summaries, out / f"{env}-scores.png")
        plot_bench_curves(env, env_records, out / f"{env}-curves.png")
        doc += [f"## {env}", "", _task_header(env, env_records), table,
                f"![{env}: normalized score vs demos]({env}-scores.png)", "",
                f"![{env}: learning curves]({env}-curves.png)", ""]
    path = out / "report.md"
    atomic_write_text(path, "\n".join(doc))
    return path


def _how_made(info: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    lines = []
    commands = [i["command"] for i in info.get("invocations", []) if i.get("command") and i.get("to_run")]
    if commands:
        lines += ["Made by:", "", "```bash", *dict.fromkeys(commands), "```", ""]
    walls = [i["wall_seconds"] for i in info.get("invocations", []) if i.get("to_run") and "wall_seconds" in i]
    settings = info.get("settings", {})
    lines += [
        (f"{len(records)} runs. Settings: {', '.join(f'{k} {v}' for k, v in settings.items()) or 'not recorded'}."
        + (f" Bench wall time: {sum(walls):,.0f} s." if walls else "")
        + f" Sum of the runs' wall times: {sum(r['wall_seconds'] for r in records):,.0f} s."),
        "",
        ("Scores are normalized, (R - R_random) / (R_expert - R_random), from each run's final evaluation "
        f"({records[0].get('eval_episodes', '?')} deterministic episodes). Per (algorithm, demos): mean and IQM "
        "(the mean of the middle 50% of runs, boundary runs weighted by their share; Agarwal et al. 2021) over "
        f"seeds, with percentile-bootstrap 95% intervals ({BOOTSTRAP_RESAMPLES} resamples of the runs, RNG seed "
        f"{BOOTSTRAP_SEED}). 'interactive': DAgger and AggreVaTeD query the expert and take no demos. Env steps are "
        "the learner's own (0 for BC and offline GAIL); train s excludes evaluations; wall s is a run's whole time."),
        "",
        "Rebuild this report from runs.jsonl alone with `imitlab bench --report DIR`.",
        "",
    ]
    return lines

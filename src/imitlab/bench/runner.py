"""Run the bench grid in worker processes, one JSON line per finished run, resumable.

The main process (the driver) checks everything first, records the demonstration sets, then hands
each unfinished cell to a backend (:mod:`imitlab.bench.backends`: a local pool of ``spawn``
workers, or Ray tasks on a cluster; one torch thread each) and appends each result to
``runs.jsonl`` as it arrives. It is the file's only writer, so lines never interleave.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from imitlab.bench.backends import Backend, CellOutcome, Progress
from imitlab.bench.demos import demo_path, demo_subset, ensure_demos
from imitlab.bench.grid import (
    ALGOS,
    INTERACTIVE,
    Cell,
    cell_budget,
    check_algos,
    check_env_ready,
    eval_every,
    grid_cells,
    settings_record,
)
from imitlab.bench.runs import RUNS_FILE, append_run, cell_key, read_runs, repair_runs
from imitlab.errors import UserError
from imitlab.utils import atomic_write, atomic_write_json, atomic_write_text

BENCH_FILE = "bench.json"
FAILED_DIR = "failed"
CELLS_DIR = "cells"  # the run directories of cells under way: their checkpoints, until recorded


def cell_dir(out_dir: str | os.PathLike, cell: Cell) -> Path:
    """Where a resumable cell checkpoints while it runs (removed once its record is written)."""
    return Path(out_dir) / CELLS_DIR / cell.slug()


class CellFailed(Exception):
    """A cell of the grid raised; the runs finished before it are kept in runs.jsonl."""

    def __init__(self, cell: Cell, error: str, *, kept: int, log: Path | None) -> None:
        self.cell, self.error, self.kept, self.log = cell, error, kept, log
        where = f"; traceback in {log}" if log else ""
        super().__init__(f"bench run failed: {cell.label()}: {error}{where}; {kept} finished runs are kept in "
                         f"{RUNS_FILE}, and rerunning the same command resumes from there")


@dataclass(frozen=True)
class BenchOutcome:
    ran: int
    skipped: int
    wall_seconds: float


# ---------------------------------------------------------------------------------- one cell
def q_expert_spec(env_id: str) -> str:
    """The shipped expert AggreVaTeD uses on ``env_id``: the first zoo file with Q* (a DQN's
    Q-network, a SAC's critic), else the default one, whose Q* then comes from Monte-Carlo roll-outs."""
    from imitlab.envs import env_spaces, is_discrete
    from imitlab.experts import has_q, has_q_values, load_expert, zoo_files, zoo_spec

    discrete = is_discrete(env_spaces(env_id)[1])
    for path in zoo_files(env_id):
        expert = load_expert(zoo_spec(path), env_id)
        if has_q_values(expert) if discrete else has_q(expert):
            return zoo_spec(path)
    return "zoo"


def run_cell(cell: Cell, *, out_dir: str, budget_scale: float, eval_episodes: int) -> dict[str, Any]:
    """Train one cell of the grid and return its record. A resumable algorithm's cell checkpoints
    in :func:`cell_dir` at each evaluation and, if a checkpoint is there from a bench that was
    cut off, continues from it instead of starting over."""
    import torch

    from imitlab.defaults import config_for
    from imitlab.experts import load_expert
    from imitlab.runlog import read_config
    from imitlab.utils import versions

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    budget = cell_budget(cell.algo, cell.env, budget_scale)
    every = eval_every(budget)
    common: dict[str, Any] = {"env_id": cell.env, "seed": cell.seed, "eval_every": every, "eval_episodes": eval_episodes}
    spec = ALGOS[cell.algo]
    run_dir = None
    if spec.resumable:
        run_dir = cell_dir(out_dir, cell)
        resume = (run_dir / "checkpoint.pt").is_file()
        if not resume:
            shutil.rmtree(run_dir, ignore_errors=True)  # a start cut off before its first checkpoint
        common.update(out=run_dir, resume=resume)
    inputs: dict[str, Any] = {}
    demo_info, expert_spec = None, "zoo"
    if spec.uses_demos:
        inputs["demos"] = demos = demo_subset(out_dir, cell.env, cell.n_demos)
        demo_info = {"file": str(demo_path(".", cell.env)), "episodes": demos.n_episodes,
                     "transitions": demos.n_transitions, "expert_mean_return": demos.metadata["expert_mean_return"]}
    if spec.needs_expert:
        if "q_expert" in spec.needs:
            expert_spec = q_expert_spec(cell.env)
        inputs["expert"] = load_expert(expert_spec, cell.env)
    config, budget_kwargs = spec.apply_budget(config_for(cell.algo, cell.env), budget)
    result = spec.train_fn(config=config, **inputs, **budget_kwargs, **common)
    from imitlab.bench.html_report import policy_path
    from imitlab.policies import save_policy

    # Kept for report.html's videos (imitlab bench --videos), which film a policy of each task and algorithm.
    save_policy(result.policy, policy_path(out_dir, cell.env, cell.algo, cell.n_demos, cell.seed), env_id=cell.env,
                extra={"algo": cell.algo, "seed": cell.seed, "n_demos": cell.n_demos})

    final = result.final
    resumed_at = read_config(run_dir).get("resumed_at", []) if run_dir is not None else []
    return {
        **asdict(cell),
        "resumed_at": resumed_at,
        "budget": budget,
        "budget_unit": spec.unit,
        "expert": expert_spec,
        "demos": demo_info,
        "env_steps": int(result.history[-1]["env_steps"]) if result.history else 0,
        "train_seconds": result.train_seconds,
        "wall_seconds": time.perf_counter() - t0,
        "final_mean_return": final.mean_return,
        "final_std_return": final.std_return,
        "normalized_score": final.normalized_score,
        "eval_episodes": eval_episodes,
        "history": result.history,
        # IRL algorithms: the learned reward's correlation with the env's (None for the others).
        "reward_correlation": getattr(result, "reward_correlation", None),
        "config": asdict(config),
        "versions": versions(),
    }


# ------------------------------------------------------------------------------------ the grid
def check_bench_inputs(*, algos: list[str], envs: list[str], demos: list[int], seeds: list[int], workers: int,
                       budget_scale: float, eval_episodes: int) -> None:
    """Every check that can fail on the user's input, before any work starts."""
    from imitlab.experts import load_expert
    from imitlab.experts.montecarlo import require_q

    check_algos(algos)
    if not budget_scale > 0:
        raise UserError(f"--budget-scale must be positive, got {budget_scale}")
    if workers < 1:
        raise UserError(f"--workers must be >= 1, got {workers}")
    if eval_episodes < 1:
        raise UserError(f"--eval-episodes must be >= 1, got {eval_episodes}")
    if not demos or min(demos) < 1 or not seeds:
        raise UserError("--demos needs positive episode counts and --seeds at least one seed")
    for env in envs:
        check_env_ready(env)
        load_expert("zoo", env)  # every algorithm needs the shipped expert, for demos or queries
        if any("q_expert" in ALGOS[algo].needs for algo in algos):
            require_q(env, load_expert(q_expert_spec(env), env))


def _check_settings(out: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """The directory's bench.json (new if absent); a UserError if it was made with other settings."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {str(out)!r} is a file; give a directory")
    path = out / BENCH_FILE
    if not path.is_file():
        if out.is_dir() and (out / RUNS_FILE).exists():
            raise UserError(f"{out} has {RUNS_FILE} but no {BENCH_FILE}; use another --out")
        return {"settings": settings, "invocations": []}
    info = json.loads(path.read_text())
    if info.get("settings") != settings:
        theirs = ", ".join(f"{k} {v}" for k, v in info.get("settings", {}).items())
        raise UserError(f"{out} holds runs made with {theirs}; rerun with those settings or choose another --out")
    return info


def run_bench(
    *,
    algos: list[str],
    envs: list[str],
    demos: list[int],
    seeds: list[int],
    out: str | os.PathLike,
    workers: int = 2,
    budget_scale: float = 1.0,
    eval_episodes: int = 50,
    demo_seed: int = 0,
    command: str = "",
    log: Callable[[str], None] = lambda msg: None,
    runner: Callable[..., dict[str, Any]] = run_cell,
    backend: Backend | None = None,
) -> BenchOutcome:
    """Run every cell of algos x envs x demos x seeds not already in ``out/runs.jsonl``.

    Args:
        algos, envs, demos, seeds: the grid (interactive algorithms ignore ``demos``).
        out: the bench directory (runs.jsonl, bench.json, demos/, and the report).
        workers: worker processes (each one torch thread); a local Ray instance's CPUs.
        budget_scale: multiplies every task default budget (0.1 for a quick look).
        eval_episodes: episodes per evaluation (the final score's too).
        demo_seed: episode i of an env's demo set is recorded with seed demo_seed + i.
        command: the command line, recorded in bench.json and the report.
        log: receives one line per event (finished run, skip count, progress, retry).
        runner: the function that runs one cell in a worker (a module-level function; tests
            pass a fake one).
        backend: where the cells run (:func:`imitlab.bench.backends.make_backend`); default a
            local pool of ``workers`` spawn processes. It is started (Ray: connected) only if
            there are cells to run, after the input checks and before anything is written.

    Raises:
        UserError: bad input (an --address that does not answer too), found before any work starts.
        CellFailed: a cell raised, or its worker died more times than the backend retries; the
            runs finished before are kept, the rest not started.
    """
    check_bench_inputs(algos=algos, envs=envs, demos=demos, seeds=seeds, workers=workers,
                       budget_scale=budget_scale, eval_episodes=eval_episodes)
    out = Path(out)
    settings = settings_record(budget_scale=budget_scale, eval_episodes=eval_episodes, demo_seed=demo_seed)
    info = _check_settings(out, settings)
    runs_path = out / RUNS_FILE
    done = {cell_key(r) for r in read_runs(runs_path)}
    cells = grid_cells(algos=algos, envs=envs, demos=demos, seeds=seeds)
    pending = [c for c in cells if c.key not in done]
    if backend is None:
        from imitlab.bench.backends.local import LocalBackend

        backend = LocalBackend(workers=workers)
    if pending:
        backend.start()  # a dead --address is refused here, before anything is written
    log(f"{len(cells)} runs in the grid: {len(cells) - len(pending)} already in {runs_path}, {len(pending)} to run")

    t0 = time.perf_counter()
    try:
        out.mkdir(parents=True, exist_ok=True)
        info["invocations"].append({"command": command, "cells": len(cells), "to_run": len(pending)})
        atomic_write_json(out / BENCH_FILE, info)
        demo_files = {}
        for env in envs:
            n_max = max((c.n_demos for c in pending if c.env == env and c.n_demos != INTERACTIVE), default=0)
            if n_max:
                demo_files[env] = ensure_demos(out, env, n_max, demo_seed=demo_seed)
        repair_runs(runs_path)
        if pending:
            log(f"running {len(pending)} cells on {backend.describe()}")
            backend.open(n_cells=len(pending), out=out, demo_files=demo_files)
            _run_cells(backend, pending, runs_path, log=log, runner=runner,
                       kwargs={"out_dir": str(out), "budget_scale": budget_scale, "eval_episodes": eval_episodes}, t0=t0)
    finally:
        if pending:
            backend.close()
    wall = time.perf_counter() - t0
    info["invocations"][-1]["wall_seconds"] = round(wall, 1)
    atomic_write_json(out / BENCH_FILE, info)
    return BenchOutcome(ran=len(pending), skipped=len(cells) - len(pending), wall_seconds=wall)


@contextlib.contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, so that a line of runs.jsonl and the
    files beside it are written whole; the interrupt is then raised as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous == signal.SIG_DFL:
                raise KeyboardInterrupt


def _write_files(out: Path, files: Mapping[str, bytes]) -> None:
    """Files a worker that could not see ``out`` sent back (its policy): written where it would have."""
    root = out.resolve()
    for rel, data in files.items():
        path = (root / rel).resolve()
        if root not in path.parents:
            raise ValueError(f"a cell sent back a file outside the bench directory: {rel!r}")
        atomic_write(path, functools.partial(_write_bytes, data))


def _write_bytes(data: bytes, path: str) -> None:
    Path(path).write_bytes(data)


def _run_cells(backend: Backend, cells: list[Cell], runs_path: Path, *, log: Callable[[str], None],
               runner: Callable[..., dict[str, Any]], kwargs: dict[str, Any], t0: float) -> None:
    """Run ``cells`` on ``backend``, at most its slots at once, appending each finished run; a
    cell whose worker died runs again up to the backend's retries; stop starting cells at the
    first failure (the runs under way finish and are kept)."""
    out = runs_path.parent
    queue = deque(cells)
    running: dict[tuple[str, str, int, int], Cell] = {}
    attempts: dict[tuple[str, str, int, int], int] = {}
    progress = Progress(total=len(cells), t0=t0)
    failure: CellOutcome | None = None
    news = False  # an outcome came in since the last progress line
    try:
        while True:
            while queue and failure is None and len(running) < backend.slots():
                cell = queue.popleft()
                attempts[cell.key] = attempts.get(cell.key, 0) + 1
                backend.submit(cell, runner=runner, kwargs=kwargs)
                running[cell.key] = cell
            if news:  # after the freed slots are filled again, so that "running" is what runs
                log(progress.line(running=len(running)))
            if not running:
                break
            outcome = backend.next_outcome()
            cell = running.pop(outcome.cell.key)
            tries = attempts[cell.key]
            if outcome.ok and outcome.record is not None:
                record = {**outcome.record, "attempts": tries}
                with _interrupt_deferred():
                    _write_files(out, outcome.files)
                    append_run(runs_path, record)
                shutil.rmtree(cell_dir(out, cell), ignore_errors=True)  # recorded: its checkpoint is done
                progress.done += 1
                score = record["normalized_score"]
                log(f"[{time.perf_counter() - t0:7.1f}s] {progress.done}/{len(cells)} {cell.label()}: normalized "
                    f"{'n/a' if score is None else f'{score:.3f}'} ({record['wall_seconds']:.1f} s)")
            elif outcome.lost and failure is None and tries <= backend.retries:
                progress.retried += 1
                log(f"[{time.perf_counter() - t0:7.1f}s] {cell.label()}: {outcome.error}; running it again "
                    f"(attempt {tries + 1} of {backend.retries + 1})")
                queue.appendleft(cell)
            else:
                progress.failed += 1
                if failure is None:
                    failure = outcome
                    progress.stopping = True
            news = True
    except KeyboardInterrupt:
        backend.abort()
        raise
    if failure is not None:
        cell = failure.cell
        log_path = None
        if failure.traceback:
            log_path = out / FAILED_DIR / f"{cell.algo}-{cell.env}-{cell.n_demos}-{cell.seed}.txt"
            atomic_write_text(log_path, failure.traceback)
        error = failure.error
        if failure.lost and attempts[cell.key] > 1:
            error += f" (on each of {attempts[cell.key]} attempts)"
        raise CellFailed(cell, error, kept=len(read_runs(runs_path)), log=log_path)

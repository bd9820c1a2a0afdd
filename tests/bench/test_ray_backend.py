"""``imitlab bench --backend ray`` on a real local Ray instance (2 CPUs, shared by the tests): the
same cells and scores as the local backend, a worker killed mid-cell, Ctrl-C on the driver, demos
through the object store, and addresses that do not answer."""

import json
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import ray  # the test extra installs it: these tests must run, not skip

from imitlab.bench.backends.ray import RayBackend
from imitlab.bench.demos import demo_subset
from imitlab.bench.grid import Cell
from imitlab.bench.runner import CellFailed, run_bench
from imitlab.bench.runs import cell_key
from imitlab.cli import main

TINY = ["bench", "--algos", "bc,dagger", "--envs", "CartPole-v1,Acrobot-v1", "--demos", "1", "--seeds", "0,1",
        "--budget-scale", "0.05", "--eval-episodes", "2", "--workers", "2"]
FAKE = {"algos": ["bc"], "envs": ["CartPole-v1"], "demos": [1], "seeds": [0, 1, 2, 3]}


@pytest.fixture(scope="module", autouse=True)
def ray_instance():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20, logging_level=logging.WARNING)
    yield
    ray.shutdown()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def record(cell: Cell, score: float) -> dict:
    return {"algo": cell.algo, "env": cell.env, "n_demos": cell.n_demos, "seed": cell.seed, "budget": 1,
            "budget_unit": "epochs", "expert": "zoo", "demos": None, "env_steps": 0, "train_seconds": 0.0,
            "wall_seconds": 0.0, "final_mean_return": score, "final_std_return": 0.0, "normalized_score": score,
            "eval_episodes": 1, "history": [], "config": {}, "pid": os.getpid()}


def killable_runner(cell: Cell, *, out_dir, budget_scale, eval_episodes):
    """Seed 1's first attempt says it started (with its worker's pid) and waits to be killed."""
    marker = Path(out_dir) / f"started-{cell.seed}"
    if cell.seed == 1 and not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(60)  # killed long before; if not, the attempt count below fails the test
    else:
        time.sleep(0.3)
    return record(cell, 0.1 * cell.seed)


def always_dying_runner(cell: Cell, *, out_dir, budget_scale, eval_episodes):
    if cell.seed == 2:
        os._exit(9)
    return record(cell, 0.1 * cell.seed)


def slow_runner(cell: Cell, *, out_dir, budget_scale, eval_episodes):
    """Seeds 0 and 1 finish at once; the others take long (they are under way at Ctrl-C)."""
    (Path(out_dir) / f"pid-{cell.seed}").write_text(str(os.getpid()))
    time.sleep(0.2 if cell.seed < 2 else 30)
    return record(cell, 0.1 * cell.seed)


def demo_reading_runner(cell: Cell, *, out_dir, budget_scale, eval_episodes):
    """Needs its demo set in out_dir and writes a policy file there, as run_cell does."""
    demos = demo_subset(out_dir, cell.env, cell.n_demos)
    path = Path(out_dir) / "policies" / cell.env / f"{cell.algo}-{cell.n_demos}-seed{cell.seed}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{demos.n_transitions} {out_dir}")
    return record(cell, float(demos.n_transitions))


def well_formed(path: Path) -> list[dict]:
    text = path.read_text()
    assert text.endswith("\n")
    records = [json.loads(line) for line in text.splitlines()]  # every line is whole
    assert len({cell_key(r) for r in records}) == len(records)  # none written twice
    return records


def test_ray_runs_the_same_cells_with_the_same_scores_as_the_local_pool(capsys, tmp_path):
    code, _, err = run(capsys, *TINY, "--out", str(tmp_path / "local"))
    assert code == 0, err
    code, out, err = run(capsys, *TINY, "--backend", "ray", "--out", str(tmp_path / "ray"))
    assert code == 0, err
    assert "ran 8 runs (0 already done)" in out and "grid: 8/8 done, 0 running, 0 failed" in err
    local, on_ray = (well_formed(tmp_path / name / "runs.jsonl") for name in ("local", "ray"))
    by_key = {cell_key(r): r for r in local}
    assert sorted(by_key) == sorted(cell_key(r) for r in on_ray) and len(on_ray) == 8
    for r in on_ray:
        twin = by_key[cell_key(r)]
        assert r["attempts"] == 1
        assert (r["normalized_score"], r["final_mean_return"], r["env_steps"]) == \
            (twin["normalized_score"], twin["final_mean_return"], twin["env_steps"])
        assert [h["normalized_score"] for h in r["history"]] == [h["normalized_score"] for h in twin["history"]]
        assert (tmp_path / "ray" / "policies" / r["env"] / f"{r['algo']}-{r['n_demos']}-seed{r['seed']}.pt").is_file()
    acrobot = sorted((r["algo"], r["seed"], r["normalized_score"]) for r in on_ray if r["env"] == "Acrobot-v1")
    assert len({score for _, _, score in acrobot}) == 4  # seeds differ, so equal scores mean the same runs
    bench = json.loads((tmp_path / "ray" / "bench.json").read_text())
    assert bench["invocations"][0]["command"].endswith("--backend ray")

    # A grown grid runs only its new cells.
    code, out, err = run(capsys, *TINY[:-2], "--seeds", "0,1,2", "--backend", "ray", "--out", str(tmp_path / "ray"))
    assert code == 0, err
    assert "ran 4 runs (8 already done)" in out
    assert sorted(cell_key(r)[3] for r in well_formed(tmp_path / "ray" / "runs.jsonl")) == [0] * 4 + [1] * 4 + [2] * 4


def test_a_worker_killed_mid_cell_costs_only_that_cell_which_is_run_again(tmp_path):
    out, lines = tmp_path / "bench", []
    started = out / "started-1"

    def kill_when_started():
        for _ in range(600):
            if started.is_file() and started.read_text():
                os.kill(int(started.read_text()), signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_started)
    killer.start()
    outcome = run_bench(**FAKE, out=out, runner=killable_runner, log=lines.append, backend=RayBackend(workers=2, retries=2))
    killer.join()
    killed = int(started.read_text())
    records = well_formed(out / "runs.jsonl")
    assert outcome.ran == 4 and sorted(cell_key(r)[3] for r in records) == [0, 1, 2, 3]
    retried = next(r for r in records if r["seed"] == 1)
    assert retried["attempts"] == 2 and retried["pid"] != killed  # the second attempt ran in a live worker
    assert all(r["attempts"] == 1 for r in records if r["seed"] != 1)
    assert any("bc on CartPole-v1, 1 demos, seed 1: WorkerCrashedError" in line and "attempt 2 of 3" in line
               for line in lines), lines
    assert lines[-1].endswith("grid: 4/4 done, 0 running, 0 failed (1 retried after their worker died)")


def test_a_cell_whose_worker_always_dies_fails_after_its_retries_and_the_rest_are_kept(tmp_path):
    out = tmp_path / "bench"
    with pytest.raises(CellFailed) as info:
        run_bench(**FAKE, out=out, runner=always_dying_runner, backend=RayBackend(workers=2, retries=1))
    assert "seed 2: WorkerCrashedError" in str(info.value) and "on each of 2 attempts" in str(info.value)
    assert "worker died" in (out / "failed" / "bc-CartPole-v1-1-2.txt").read_text()
    kept = {cell_key(r)[3] for r in well_formed(out / "runs.jsonl")}
    assert {0, 1} <= kept and 2 not in kept  # seed 3 only if it was under way when seed 2 failed


def test_ctrl_c_on_the_driver_stops_the_cells_under_way_and_leaves_runs_whole(tmp_path):
    out, seen = tmp_path / "bench", []

    def log(line):
        seen.append(line)
        if "grid: 2/4 done" in line:
            for _ in range(200):  # until seeds 2 and 3 are under way
                if (out / "pid-2").is_file() and (out / "pid-3").is_file():
                    break
                time.sleep(0.05)
            raise KeyboardInterrupt  # as Ctrl-C arriving while the driver reports progress

    with pytest.raises(KeyboardInterrupt):
        run_bench(**FAKE, out=out, runner=slow_runner, log=log, backend=RayBackend(workers=2))
    # the 30 s cells under way were stopped, not waited for: their workers are dead (below)
    assert sorted(cell_key(r)[3] for r in well_formed(out / "runs.jsonl")) == [0, 1]
    for seed in (2, 3):  # their worker processes were killed
        pid = int((out / f"pid-{seed}").read_text())
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"worker {pid} of seed {seed} is still alive")


def test_demos_go_through_the_object_store_and_files_come_back_to_out(tmp_path):
    """As on a node that cannot see --out: each cell runs in a scratch directory."""
    out = tmp_path / "bench"
    run_bench(**{**FAKE, "demos": [2], "seeds": [0, 1]}, out=out, runner=demo_reading_runner,
              backend=RayBackend(workers=2, storage="object-store"))
    n = demo_subset(out, "CartPole-v1", 2).n_transitions
    records = well_formed(out / "runs.jsonl")
    assert [r["normalized_score"] for r in records] == [n, n]
    for seed in (0, 1):
        transitions, where = (out / "policies" / "CartPole-v1" / f"bc-2-seed{seed}.pt").read_text().split()
        assert int(transitions) == n and Path(where) != out.resolve()  # written by the driver, from elsewhere


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_address_that_does_not_answer_is_one_line_exit_2_and_nothing_starts(capsys, tmp_path, monkeypatch):
    port = _dead_port()
    for address, match in [(f"127.0.0.1:{port}", f"nothing answers at 127.0.0.1:{port}"),
                           (f"ray://127.0.0.1:{port}", f"nothing answers at 127.0.0.1:{port}"),
                           ("nohost", "is not auto, HOST:PORT")]:
        out = tmp_path / "never"
        code, _, err = run(capsys, "bench", "--algos", "bc", "--envs", "CartPole-v1", "--backend", "ray",
                           "--address", address, "--out", str(out))
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and len(lines) == 1 and match in lines[0], err
        assert not out.exists()
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{port}")  # what --address auto reads first
    code, _, err = run(capsys, "bench", "--backend", "ray", "--address", "auto", "--out", str(tmp_path / "never"))
    assert code == 2 and f"--address auto: nothing answers at 127.0.0.1:{port}" in err
    code, _, err = run(capsys, "bench", "--address", "auto", "--out", str(tmp_path / "never"))
    assert code == 2 and "use it with --backend ray" in err and not (tmp_path / "never").exists()


def test_without_an_address_the_cli_starts_and_stops_its_own_local_ray_instance(tmp_path):
    """The plain ``--backend ray`` path (the tests above share one instance the test made): a new
    process, where the bench starts a local instance with --workers CPUs, even with RAY_ADDRESS
    naming a cluster, and shuts it down after."""
    import subprocess
    import sys

    out = tmp_path / "bench"
    env = {**os.environ, "RAY_ADDRESS": f"127.0.0.1:{_dead_port()}"}
    done = subprocess.run([sys.executable, "-m", "imitlab.cli", "bench", "--algos", "bc", "--envs", "CartPole-v1",
                           "--demos", "1", "--seeds", "0", "--budget-scale", "0.02", "--eval-episodes", "1",
                           "--workers", "1", "--backend", "ray", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "running 1 cells on a local Ray instance with 1 CPU" in done.stderr
    (r,) = well_formed(out / "runs.jsonl")
    assert r["attempts"] == 1 and r["normalized_score"] is not None
    assert not (out / "cells").exists()  # the token it left for its workers went with the instance

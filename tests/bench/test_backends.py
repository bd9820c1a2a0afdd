"""The backend interface without Ray: choosing a backend, the progress line, the local pool behind
the interface (a dead worker still stops the bench as a failed cell), the files a worker without
``--out`` sends back, and --backend ray refused in one line where Ray is not installed."""

import os
import re
import socket

import pytest

from imitlab.bench.backends import Progress, make_backend
from imitlab.bench.backends.local import LocalBackend
from imitlab.bench.backends.ray import _host_port, check_address, run_in_scratch
from imitlab.bench.demos import demo_subset, ensure_demos
from imitlab.bench.grid import Cell
from imitlab.bench.runner import CellFailed, _write_files, run_bench
from imitlab.bench.runs import cell_key, read_runs
from imitlab.cli import main
from imitlab.errors import UserError


def record(cell: Cell, score: float) -> dict:
    return {"algo": cell.algo, "env": cell.env, "n_demos": cell.n_demos, "seed": cell.seed, "budget": 1,
            "budget_unit": "epochs", "expert": "zoo", "demos": None, "env_steps": 0, "train_seconds": 0.0,
            "wall_seconds": 0.0, "final_mean_return": score, "final_std_return": 0.0, "normalized_score": score,
            "eval_episodes": 1, "history": [], "config": {}}


def dying_runner(cell: Cell, *, out_dir, budget_scale, eval_episodes):
    """The worker process dies (no exception, no traceback) on bc seed 1."""
    if (cell.algo, cell.seed) == ("bc", 1):
        os._exit(9)
    return record(cell, 0.1 * cell.seed)


def demo_reading_runner(cell: Cell, *, out_dir, budget_scale, eval_episodes):
    """Reads its demo set from out_dir and writes a file there, as run_cell does with its policy."""
    demos = demo_subset(out_dir, cell.env, cell.n_demos)
    path = os.path.join(out_dir, "policies", cell.env, f"{cell.algo}-{cell.n_demos}-seed{cell.seed}.pt")
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as f:
        f.write(f"{demos.n_transitions}")
    return record(cell, float(demos.n_transitions))


def test_make_backend_refuses_bad_choices_in_one_message():
    assert isinstance(make_backend("local", workers=3), LocalBackend)
    with pytest.raises(UserError, match="unknown backend 'dask'; choose from local, ray"):
        make_backend("dask", workers=1)
    with pytest.raises(UserError, match="--address names a Ray cluster; use it with --backend ray"):
        make_backend("local", workers=1, address="auto")
    with pytest.raises(UserError, match="--retries must be >= 0, got -1"):
        make_backend("ray", workers=1, retries=-1)


def test_progress_line_counts_cells_and_estimates_the_time_left():
    progress = Progress(total=10, t0=100.0)  # 20 s before the moment the lines are made (now=120)
    assert progress.line(running=2, now=120.0).endswith("grid: 0/10 done, 2 running, 0 failed")  # no estimate from nothing
    progress.done, progress.retried = 4, 1
    line = progress.line(running=2, now=120.0)
    assert "grid: 4/10 done, 2 running, 0 failed (1 retried" in line
    assert line.endswith("about 30 s left")  # 20 s for 4 cells, 6 to go
    progress.failed, progress.stopping = 1, True
    assert progress.line(running=1, now=120.0).endswith("1 failed (1 retried after their worker died); starting no more "
                                              "after the failure")


def test_local_pool_logs_progress_and_a_dead_worker_fails_its_cell_keeping_the_rest(tmp_path):
    out, lines = tmp_path / "bench", []
    grid = {"algos": ["bc"], "envs": ["CartPole-v1"], "demos": [1], "seeds": [0, 1, 2]}
    with pytest.raises(CellFailed) as info:
        run_bench(**grid, out=out, workers=1, runner=dying_runner, log=lines.append)
    # The local pool does not retry: a dead worker breaks the whole pool, as before the backends.
    assert "bc on CartPole-v1, 1 demos, seed 1: worker process died" in str(info.value)
    assert [cell_key(r)[3] for r in read_runs(out / "runs.jsonl")] == [0]
    assert read_runs(out / "runs.jsonl")[0]["attempts"] == 1
    assert "running 3 cells on a local pool of 1 spawn worker" in lines
    assert any(re.search(r"grid: 1/3 done, 1 running, 0 failed, about \d+ s left$", line) for line in lines), lines
    assert lines[-1].endswith("grid: 1/3 done, 0 running, 1 failed; starting no more after the failure")


def test_a_cell_run_away_from_out_gets_its_demos_and_sends_its_files_back(tmp_path):
    """What a Ray worker on a node without --out does: the driver ships the demo file's bytes, the
    cell runs in a scratch directory, and its files (not the demos or checkpoints) come back."""
    demo_file = ensure_demos(tmp_path / "driver", "CartPole-v1", 2, demo_seed=0)
    cell = Cell("bc", "CartPole-v1", 2, 0)
    result = run_in_scratch(demo_reading_runner, cell, {"out_dir": "/nonexistent", "budget_scale": 1.0, "eval_episodes": 1},
                            demo=demo_file.read_bytes())
    n = demo_subset(tmp_path / "driver", "CartPole-v1", 2).n_transitions
    assert result["ok"] and result["record"]["normalized_score"] == n
    assert result["files"] == {"policies/CartPole-v1/bc-2-seed0.pt": str(n).encode()}

    out = tmp_path / "out"
    _write_files(out, result["files"])
    assert (out / "policies" / "CartPole-v1" / "bc-2-seed0.pt").read_text() == str(n)
    with pytest.raises(ValueError, match="outside the bench directory"):
        _write_files(out, {"../escaped.txt": b"x"})
    assert not (tmp_path / "escaped.txt").exists()


def test_addresses_parse_and_a_dead_one_is_refused_at_once():
    assert _host_port("a", "10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert _host_port("a", "ray://head.example:10002") == ("head.example", 10002)
    assert _host_port("a", "ray://head.example") == ("head.example", 10001)
    with pytest.raises(UserError, match="is not auto, HOST:PORT"):
        _host_port("head", "head")
    with socket.socket() as s:  # a port that nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # a refused port is refused by the TCP probe itself, before ray.init could retry it
    with pytest.raises(UserError, match=f"nothing answers at 127.0.0.1:{port}"):
        check_address(f"ray://127.0.0.1:{port}")


def test_backend_ray_without_ray_names_the_pip_install_before_anything_starts(capsys, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as on a machine without the ray extra
    out = tmp_path / "never"
    code = main(["bench", "--algos", "bc", "--envs", "CartPole-v1", "--backend", "ray", "--out", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and "pip install 'imitlab[ray]'" in err[0], err
    assert not out.exists()

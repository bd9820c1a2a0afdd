"""``imitlab bench`` end to end on a tiny grid (one task, two algorithms, tiny budgets, 1 worker),
resume, the report rebuilt alone, and bad input refused before any work starts."""

import json

import pytest

from imitlab.bench.runs import read_runs
from imitlab.cli import main

TINY = ["bench", "--algos", "bc,dagger", "--envs", "CartPole-v1", "--demos", "1,2", "--seeds", "0,1",
        "--workers", "1", "--budget-scale", "0.05", "--eval-episodes", "2"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "b"
    assert main([*TINY, "--out", str(out)]) == 0
    return out


def test_tiny_grid_writes_runs_tables_figures_and_report(tiny_bench):
    records = read_runs(tiny_bench / "runs.jsonl")
    cells = sorted((r["algo"], r["n_demos"], r["seed"]) for r in records)
    assert cells == [("bc", 1, 0), ("bc", 1, 1), ("bc", 2, 0), ("bc", 2, 1), ("dagger", 0, 0), ("dagger", 0, 1)]
    for r in records:
        assert set(r) >= {"config", "env_steps", "wall_seconds", "train_seconds", "history", "final_mean_return",
                          "normalized_score", "budget", "expert"}
        assert r["history"] and r["history"][-1]["normalized_score"] == r["normalized_score"]
    bc = next(r for r in records if r["algo"] == "bc" and r["n_demos"] == 2)
    assert bc["config"]["epochs"] == 50 and bc["demos"]["episodes"] == 2  # 1,000 epochs (at most) x 0.05
    dagger = next(r for r in records if r["algo"] == "dagger")
    assert dagger["demos"] is None and dagger["budget"] == 500 and dagger["env_steps"] > 0

    table = (tiny_bench / "CartPole-v1.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [row.split("|")[1:4] for row in rows] == [[" bc ", " 1 ", " 2 "], [" bc ", " 2 ", " 2 "],
                                                     [" dagger ", " interactive ", " 2 "]]
    report = (tiny_bench / "report.md").read_text()
    assert table.split("\n", 2)[2] in report
    assert "imitlab bench --algos bc,dagger --envs CartPole-v1 --demos 1,2 --seeds 0,1" in report
    assert "(CartPole-v1-scores.png)" in report and "(CartPole-v1-curves.png)" in report
    for png in ("CartPole-v1-scores.png", "CartPole-v1-curves.png"):
        assert (tiny_bench / png).read_bytes()[:4] == b"\x89PNG"
    meta = json.loads(str(__import__("numpy").load(tiny_bench / "demos" / "CartPole-v1.npz")["meta"]))
    assert meta["metadata"]["expert_mean_return"] == 500.0


def test_rerun_skips_finished_cells_and_tolerates_a_truncated_line(capsys, tiny_bench):
    with open(tiny_bench / "runs.jsonl", "a") as f:
        f.write('{"algo": "bc", "env": "CartP')  # as if killed mid-write
    code, out, err = run(capsys, *TINY, "--out", str(tiny_bench))
    assert code == 0, err
    assert "ran 0 runs (6 already done)" in out
    assert len(read_runs(tiny_bench / "runs.jsonl")) == 6


def test_report_is_rebuilt_from_runs_alone(capsys, tiny_bench):
    before = (tiny_bench / "report.md").read_text()
    for name in ("report.md", "CartPole-v1.md", "CartPole-v1-scores.png"):
        (tiny_bench / name).unlink()
    code, _, err = run(capsys, "bench", "--report", str(tiny_bench))
    assert code == 0, err
    assert (tiny_bench / "report.md").read_text() == before
    assert (tiny_bench / "CartPole-v1.md").is_file() and (tiny_bench / "CartPole-v1-scores.png").is_file()


def test_other_settings_in_the_same_directory_are_refused(capsys, tiny_bench):
    code, _, err = run(capsys, *TINY[:-4], "--budget-scale", "0.1", "--eval-episodes", "2", "--out", str(tiny_bench))
    assert code == 2 and "budget_scale 0.05" in err


def _bad(capsys, tmp_path, *argv, match):
    out = tmp_path / "never"
    code, _, err = run(capsys, *argv, *([] if "--report" in argv else ["--out", str(out)]))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and match in lines[0], err
    assert not out.exists()  # refused before any work started


def test_bad_input_is_one_line_exit_2_before_any_work(capsys, tmp_path):
    _bad(capsys, tmp_path, "bench", "--algos", "bc,valuedice", match="unknown algorithm 'valuedice'; choose from bc, gail")
    _bad(capsys, tmp_path, "bench", "--envs", "NoSuchEnv-v9", match="unknown environment 'NoSuchEnv-v9'")
    _bad(capsys, tmp_path, "bench", "--envs", "MountainCarContinuous-v0", match="not in imitlab's task registry")
    _bad(capsys, tmp_path, "bench", "--demos", "1,x", match="--demos takes comma-separated integers")
    _bad(capsys, tmp_path, "bench", "--demos", "0,4", match="--demos values must be >= 1")
    _bad(capsys, tmp_path, "bench", "--budget-scale", "0", match="--budget-scale must be positive")
    _bad(capsys, tmp_path, "bench", "--workers", "0", match="--workers must be >= 1")
    _bad(capsys, tmp_path, "bench", "--report", str(tmp_path), match="no finished runs")
    code, _, err = run(capsys, "bench")
    assert code == 2 and "--out" in err


def test_a_task_whose_extra_is_missing_names_the_pip_command(capsys, tmp_path, monkeypatch):
    import sys

    # Make Box2D unimportable (as on a machine without the box2d extra) and forget gymnasium's
    # box2d envs, so gym.make imports them again and meets the missing package.
    monkeypatch.setitem(sys.modules, "Box2D", None)
    for name in [m for m in sys.modules if m.startswith("gymnasium.envs.box2d")]:
        monkeypatch.delitem(sys.modules, name)
    _bad(capsys, tmp_path, "bench", "--envs", "CartPole-v1,LunarLander-v3", match="pip install 'imitlab[box2d]'")

"""The grid runner: resume, failure handling and the demo cache, with a fake cell runner where
training would only slow the test down (it runs in real spawn workers all the same)."""

import os

import numpy as np
import pytest

from imitlab.bench.demos import demo_subset, ensure_demos
from imitlab.bench.grid import Cell, grid_cells
from imitlab.bench.runner import CellFailed, run_bench
from imitlab.bench.runs import cell_key, read_runs


def fake_runner(cell: Cell, *, out_dir, budget_scale, eval_episodes):
    """A cell's record without training; fails on the cell named by $IMITLAB_TEST_FAIL."""
    if os.environ.get("IMITLAB_TEST_FAIL") == f"{cell.algo}-{cell.n_demos}-{cell.seed}":
        raise RuntimeError("boom")
    score = 0.1 * cell.seed + 0.01 * cell.n_demos
    return {"algo": cell.algo, "env": cell.env, "n_demos": cell.n_demos, "seed": cell.seed, "budget": 1,
            "budget_unit": "epochs", "expert": "zoo", "demos": None, "env_steps": 0, "train_seconds": 0.0,
            "wall_seconds": 0.0, "final_mean_return": score, "final_std_return": 0.0, "normalized_score": score,
            "eval_episodes": eval_episodes, "history": [], "config": {}}


GRID = {"algos": ["bc", "dagger"], "envs": ["CartPole-v1"], "demos": [1, 2], "seeds": [0, 1, 2]}


def test_grid_gives_interactive_algorithms_one_cell_per_seed():
    cells = grid_cells(**GRID)
    assert len(cells) == 2 * 3 + 3
    assert {c.n_demos for c in cells if c.algo == "dagger"} == {0}


def test_failure_keeps_finished_runs_names_the_cell_and_resume_runs_only_the_rest(tmp_path, monkeypatch):
    out = tmp_path / "bench"
    monkeypatch.setenv("IMITLAB_TEST_FAIL", "bc-2-0")  # the 4th cell of 9
    with pytest.raises(CellFailed) as info:
        run_bench(**GRID, out=out, workers=1, runner=fake_runner)
    msg = str(info.value)
    assert "bc on CartPole-v1, 2 demos, seed 0" in msg and "RuntimeError: boom" in msg and "resumes" in msg
    assert "boom" in (out / "failed" / "bc-CartPole-v1-2-0.txt").read_text()
    done = {cell_key(r) for r in read_runs(out / "runs.jsonl")}
    first_three = {("bc", "CartPole-v1", 1, s) for s in range(3)}
    assert first_three <= done and ("bc", "CartPole-v1", 2, 0) not in done
    assert len(done) < 9  # the cells not yet started were dropped

    monkeypatch.delenv("IMITLAB_TEST_FAIL")
    outcome = run_bench(**GRID, out=out, workers=1, runner=fake_runner)
    assert (outcome.ran, outcome.skipped) == (9 - len(done), len(done))
    records = read_runs(out / "runs.jsonl")
    assert len(records) == 9 and len({cell_key(r) for r in records}) == 9

    again = run_bench(**GRID, out=out, workers=1, runner=fake_runner)  # nothing left: no worker starts
    assert (again.ran, again.skipped) == (0, 9)
    assert len(read_runs(out / "runs.jsonl")) == 9


def test_demo_sets_are_nested_and_stable_as_they_grow(tmp_path):
    small = ensure_demos(tmp_path, "Acrobot-v1", 2, demo_seed=3)
    first = demo_subset(tmp_path, "Acrobot-v1", 2)
    ensure_demos(tmp_path, "Acrobot-v1", 3, demo_seed=3)  # records only episode 3
    grown = demo_subset(tmp_path, "Acrobot-v1", 3)
    assert grown.n_episodes == 3
    for a, b in zip(first.trajectories, grown.trajectories):
        np.testing.assert_array_equal(a.obs, b.obs)
    fresh = ensure_demos(tmp_path / "fresh", "Acrobot-v1", 3, demo_seed=3)
    np.testing.assert_array_equal(demo_subset(fresh.parent.parent, "Acrobot-v1", 3).trajectories[2].acts,
                                  grown.trajectories[2].acts)
    assert small.name == "Acrobot-v1.npz"
    meta = grown.metadata
    assert meta["demo_seed"] == 3 and meta["expert_mean_return"] == pytest.approx(grown.returns().mean())


def test_a_cell_cut_off_resumes_from_its_checkpoint_and_its_directory_goes_once_recorded(tmp_path):
    """A bench killed mid-cell leaves the cell's checkpoint in cells/; the next run of the bench
    continues that cell from it (its record says where) instead of starting over."""
    from imitlab.bench.runner import cell_dir, run_cell

    out = tmp_path / "bench"
    cell = Cell("dagger", "CartPole-v1", 0, 0)
    # what a cut-off leaves: the cell trained part of its budget, with a checkpoint at that point
    run_cell(cell, out_dir=str(out), budget_scale=0.2, eval_episodes=1)
    import torch

    step = torch.load(cell_dir(out, cell) / "checkpoint.pt", weights_only=True)["step"]
    run_bench(algos=["dagger"], envs=["CartPole-v1"], demos=[1], seeds=[0], out=out, workers=1,
              budget_scale=0.4, eval_episodes=1)
    (record,) = read_runs(out / "runs.jsonl")
    assert record["resumed_at"] == [step] and record["env_steps"] > step
    assert not cell_dir(out, cell).exists()

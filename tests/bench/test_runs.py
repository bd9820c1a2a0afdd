"""runs.jsonl: appended line by line, a truncated last line tolerated and repaired."""

import pytest

from imitlab.bench.runs import append_run, cell_key, read_runs, repair_runs
from imitlab.errors import UserError


def _rec(seed):
    return {"algo": "bc", "env": "CartPole-v1", "n_demos": 1, "seed": seed, "normalized_score": 1.0}


def test_append_and_read_back(tmp_path):
    path = tmp_path / "runs.jsonl"
    assert read_runs(path) == []
    append_run(path, _rec(0))
    append_run(path, _rec(1))
    assert [cell_key(r) for r in read_runs(path)] == [("bc", "CartPole-v1", 1, 0), ("bc", "CartPole-v1", 1, 1)]
    assert path.read_text().count("\n") == 2


def test_a_truncated_last_line_is_skipped_then_cut_before_the_next_append(tmp_path):
    path = tmp_path / "runs.jsonl"
    append_run(path, _rec(0))
    with open(path, "a") as f:
        f.write('{"algo": "bc", "env": "Cart')  # a crash in the middle of a write
    assert [r["seed"] for r in read_runs(path)] == [0]
    repair_runs(path)
    append_run(path, _rec(1))
    assert [r["seed"] for r in read_runs(path)] == [0, 1]


def test_a_damaged_line_in_the_middle_is_an_error(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text('{"a": 1}\nnot json\n{"b": 2}\n')
    with pytest.raises(UserError, match="line 2"):
        read_runs(path)

import csv

import pytest

from imitlab.runlog import RunLog, read_metrics


def _read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_progress_rows_may_gain_and_lose_fields(tmp_path):
    # The first batch of an Acrobot run finishes no episode, so it has no episode columns; a later
    # one does. This used to raise "dict contains fields not in fieldnames: 'episode_length'".
    log = RunLog(tmp_path, {"seed": 0}, tensorboard=False)
    log.progress(100, {"loss": 1.0})
    log.progress(200, {"loss": 0.5, "episode_return": -500.0, "episode_length": 500})
    log.progress(300, {"loss": 0.25})
    log.progress(400, {"episode_length": 80, "kl": 0.01})
    log.close()
    lines = _read(tmp_path / "progress.csv")
    assert lines[0] == ["env_steps", "loss", "episode_return", "episode_length", "kl"]
    assert lines[1:] == [
        ["100", "1.0", "", "", ""],
        ["200", "0.5", "-500.0", "500", ""],
        ["300", "0.25", "", "", ""],
        ["400", "", "", "80", "0.01"],
    ]


def test_widening_keeps_appending_to_the_live_file(tmp_path):
    log = RunLog(tmp_path, {"seed": 0}, tensorboard=False)
    log.progress(1, {"a": 1})
    log.progress(2, {"a": 2, "b": 3})
    log.progress(3, {"a": 4, "b": 5})  # after the rewrite, rows still land in the file on disk
    lines = _read(tmp_path / "progress.csv")  # readable while the run goes on (rows are flushed)
    assert lines == [["env_steps", "a", "b"], ["1", "1", ""], ["2", "2", "3"], ["3", "4", "5"]]
    log.close()


def test_resume_cuts_rows_after_the_checkpoint_and_can_widen(tmp_path):
    log = RunLog(tmp_path, {"seed": 0}, tensorboard=False)
    for step in (100, 200, 300):
        log.progress(step, {"loss": step / 100})
    log.close()
    log = RunLog(tmp_path, {"seed": 0}, tensorboard=False, resume_step=200)
    log.progress(300, {"loss": 9.0, "episode_length": 42})
    log.close()
    lines = _read(tmp_path / "progress.csv")
    assert lines == [
        ["env_steps", "loss", "episode_length"],
        ["100", "1.0", ""],
        ["200", "2.0", ""],
        ["300", "9.0", "42"],
    ]


def test_metrics_blank_cells_read_back_as_nan(tmp_path):
    class Result:
        mean_return, std_return, normalized_score = 10.0, 1.0, None

    log = RunLog(tmp_path, {"seed": 0}, tensorboard=False)
    log.evaluation(env_steps=50, epoch=None, train_seconds=1.0, result=Result())
    log.close()
    (row,) = read_metrics(tmp_path)
    assert row["env_steps"] == 50 and row["mean_return"] == 10.0
    assert row["epoch"] != row["epoch"] and row["normalized_score"] != row["normalized_score"]  # nan


@pytest.mark.parametrize("resume", [False, True])
def test_every_row_has_the_header_width(tmp_path, resume):
    log = RunLog(tmp_path, {"seed": 0}, tensorboard=False)
    log.progress(1, {"x": 1})
    if resume:
        log.close()
        log = RunLog(tmp_path, {"seed": 0}, tensorboard=False, resume_step=1)
    for step, stats in enumerate([{"y": 2}, {"x": 3, "z": 4}, {}], start=2):
        log.progress(step, stats)
    log.close()
    lines = _read(tmp_path / "progress.csv")
    assert {len(line) for line in lines} == {4}

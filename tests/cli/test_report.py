"""``imitlab report``: what a user runs, through main(), on a run that ``imitlab train`` made."""

import os

import pytest

from imitlab.cli import cli, main
from imitlab.cli.report import report_cmd
from tests.report.pages import check_page


@pytest.fixture(autouse=True)
def registered():
    # Until the lead adds the command to the group in imitlab/cli/__init__.py (then this does nothing).
    if "report" not in cli.commands:
        cli.add_command(report_cmd)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_of_a_trained_run(capsys, tmp_path, cartpole_demo_file):
    run_dir = tmp_path / "bc"
    code, _, err = run(capsys, "train", "bc", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file), "--epochs", "10",
                       "--eval-every", "5", "--eval-episodes", "4", "--episodes", "3", "--out", str(run_dir))
    assert code == 0, err
    out = tmp_path / "report.html"
    code, stdout, err = run(capsys, "report", str(run_dir), "--out", str(out))
    assert code == 0, err
    assert stdout.startswith(f"wrote {out} (") and "1 run)" in stdout
    page = check_page(out)
    assert page.headings == ["bc", "Learning curves", "Evaluation", "Config"]  # no adversary, reward picture or video
    assert "4 episodes, mean" in " ".join(page.text)


def test_a_folder_that_is_not_a_run_exits_2_and_writes_nothing(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "report", str(tmp_path / "empty"), "--out", str(tmp_path / "r.html"))
    assert code == 2 and "no config.json" in err
    code, _, err = run(capsys, "report", str(tmp_path / "missing"), "--out", str(tmp_path / "r.html"))
    assert code == 2 and "not a directory" in err
    assert os.listdir(tmp_path) == ["empty"]

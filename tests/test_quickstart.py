import json

from imitlab.cli import main


def test_quickstart_end_to_end(tmp_path, capsys):
    out = tmp_path / "qs"
    assert main(["quickstart", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    for name in ("random", "expert", "bc", "gail"):
        assert set(summary[name]) == {"mean_return", "std_return", "normalized_score"}
        assert name in printed
    assert summary["expert"]["mean_return"] >= 475
    assert summary["bc"]["mean_return"] >= 475
    assert summary["gail"]["mean_return"] >= 475
    assert summary["random"]["normalized_score"] < 0.1
    assert (out / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert list((out / "gail" / "tb").glob("events.out.tfevents.*"))
    assert (out / "demos.npz").is_file()

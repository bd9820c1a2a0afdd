"""The imitation library's trajectories (a HuggingFace datasets directory with the columns obs,
acts, infos, terminal, rews), written here with datasets alone as imitation.data.serialize.save
does: they import (episode ends inferred from the env's time limit and said so by demos info),
train, and round trip exactly."""

import json

import numpy as np
import pytest

from imitlab.cli import main
from imitlab.data import load_demos
from tests.data.test_demos_arrays import assert_same, cartpole_demos

datasets = pytest.importorskip("datasets")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def save_like_imitation(path, trajectories, *, rews=True):
    """What imitation.data.serialize.save writes (huggingface_utils.trajectories_to_dict): one row
    per trajectory, infos as jsonpickle strings (jsonpickle.encode({}) == "{}")."""
    columns = {
        "obs": [t["obs"] for t in trajectories],
        "acts": [t["acts"] for t in trajectories],
        "infos": [["{}"] * len(t["acts"]) for t in trajectories],
        "terminal": [t["terminal"] for t in trajectories],
    }
    if rews:
        columns["rews"] = [t["rews"] for t in trajectories]
    _quiet_save(datasets.Dataset.from_dict(columns), path)


def _quiet_save(ds, path):
    datasets.disable_progress_bars()  # its bars would mix with the CLI's stderr that the tests read
    try:
        ds.save_to_disk(str(path))
    finally:
        datasets.enable_progress_bars()


def test_expert_trajectories_import_with_inferred_truncations_and_train(capsys, tmp_path, cartpole_demos):
    from imitlab.evaluation import evaluate
    from imitlab.policies import load_policy

    src = cartpole_demos.head(8)
    save_like_imitation(tmp_path / "traj", [
        {"obs": t.obs, "acts": t.acts, "rews": t.rews, "terminal": True} for t in src.trajectories
    ])
    code, out, err = run(capsys, "demos", "import", tmp_path / "traj", "--env", "CartPole-v1", "--out", tmp_path / "d.npz")
    assert code == 0, err
    assert "complete episodes of 500 steps (CartPole-v1's time limit) were taken as truncated" in out
    d = load_demos(tmp_path / "d.npz")
    assert_same(src, d)  # the zoo expert's episodes all reach the time limit: truncated, as recorded
    code, out, _ = run(capsys, "demos", "info", tmp_path / "d.npz")
    assert "(imitation)" in out and "inferred: how episodes ended" in out and "8 truncated" in out
    code, _, err = run(capsys, "train", "bc", "--env", "CartPole-v1", "--demos", tmp_path / "d.npz", "--seed", "0",
                       "--out", tmp_path / "bc", "--eval-episodes", "5")
    assert code == 0, err
    policy, _ = load_policy(tmp_path / "bc")
    assert evaluate(policy, "CartPole-v1", episodes=20, seed=3).mean_return >= 475


@pytest.mark.parametrize("rews", [True, False])
def test_round_trip_through_the_imitation_format_is_exact(capsys, tmp_path, rews):
    d = cartpole_demos(rews=rews)  # ends by termination, by the time limit, and cut mid-way
    d.save(tmp_path / "d.npz")
    code, out, err = run(capsys, "demos", "export", tmp_path / "d.npz", "--to", "imitation", tmp_path / "traj")
    assert code == 0, err
    ds = datasets.load_from_disk(str(tmp_path / "traj"))
    assert ds.column_names == ["obs", "acts", "infos", "terminal"] + (["rews"] if rews else [])
    assert ds["terminal"] == [True, True, False]
    np.testing.assert_array_equal(ds.with_format("numpy")[1]["obs"], d.trajectories[1].obs)
    assert run(capsys, "demos", "import", "imitation:" + str(tmp_path / "traj"), "--env", "CartPole-v1",
               "--out", tmp_path / "e.npz")[0] == 0
    e = load_demos(tmp_path / "e.npz")
    assert_same(d, e)
    assert "1 terminated, 1 truncated, 1 cut mid-way" in e.provenance["inferred"][0]


def test_a_time_limit_option_changes_what_is_inferred(capsys, tmp_path):
    d = cartpole_demos(ends=(("terminated", 20), ("terminated", 30)))
    save_like_imitation(tmp_path / "traj", [{"obs": t.obs, "acts": t.acts, "rews": t.rews, "terminal": True}
                                            for t in d.trajectories])
    assert run(capsys, "demos", "import", tmp_path / "traj", "--env", "CartPole-v1", "--time-limit", "30",
               "--out", tmp_path / "d.npz")[0] == 0
    e = load_demos(tmp_path / "d.npz")
    assert [(t.terminated, t.truncated) for t in e.trajectories] == [(True, False), (False, True)]
    assert json.loads(run(capsys, "demos", "info", tmp_path / "d.npz", "--json")[1])["provenance"]["details"]["time_limit"] == 30


def _refused(capsys, tmp_path, *argv, match):
    out = tmp_path / "refused.npz"
    code, _, err = run(capsys, *argv, "--out", out)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and match in err, err
    assert not out.exists()


def test_bad_trajectories_are_one_line_and_write_nothing(capsys, tmp_path):
    t = cartpole_demos().trajectories[0]
    good = {"obs": t.obs, "acts": t.acts, "rews": t.rews, "terminal": True}
    save_like_imitation(tmp_path / "ok", [good])
    _refused(capsys, tmp_path, "demos", "import", tmp_path / "ok", match="do not record their environment; pass --env")
    _refused(capsys, tmp_path, "demos", "import", tmp_path / "ok", "--env", "Pendulum-v1",
             match="observations have shape (4,) per step, but the space says (3,)")
    save_like_imitation(tmp_path / "short", [{**good, "obs": t.obs[:-1]}])
    _refused(capsys, tmp_path, "demos", "import", tmp_path / "short", "--env", "CartPole-v1",
             match="trajectory 0 has 5 observations for 5 actions")
    nan = t.obs.copy()
    nan[2, 1] = np.nan
    save_like_imitation(tmp_path / "nan", [{**good, "obs": nan}])
    _refused(capsys, tmp_path, "demos", "import", tmp_path / "nan", "--env", "CartPole-v1",
             match="observations contain nan or inf")
    save_like_imitation(tmp_path / "rews", [{**good, "rews": t.rews[:-1]}])
    _refused(capsys, tmp_path, "demos", "import", tmp_path / "rews", "--env", "CartPole-v1", match="rewards have shape")
    _quiet_save(datasets.Dataset.from_dict({"obs": [t.obs], "terminal": [True]}), tmp_path / "noacts")
    _refused(capsys, tmp_path, "demos", "import", tmp_path / "noacts", "--env", "CartPole-v1", match="lack the columns ['acts']")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "state.json").write_text("{not json")
    (tmp_path / "broken" / "dataset_info.json").write_text("{}")
    _refused(capsys, tmp_path, "demos", "import", tmp_path / "broken", "--env", "CartPole-v1", match="cannot read")
    code, _, err = run(capsys, "demos", "export", _save(cartpole_demos(), tmp_path / "d.npz"), "--to", "imitation", tmp_path / "ok")
    assert code == 2 and "already exists" in err


def _save(d, path):
    d.save(path)
    return path

""".npz files of plain arrays with user-named keys: imitlab's own export round trips exactly,
Stable-Baselines3's ExpertDataSet layout and D4RL-style dumps import, and bad files are one line,
exit 2, nothing written."""

import json

import numpy as np
import pytest

from imitlab.cli import main
from imitlab.data import load_demos
from tests.data.test_demos_arrays import assert_same, cartpole_demos


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("rews", [True, False])
def test_export_and_import_round_trip_exactly(capsys, tmp_path, rews):
    d = cartpole_demos(rews=rews)
    d.save(tmp_path / "d.npz")
    code, out, err = run(capsys, "demos", "export", tmp_path / "d.npz", "--to", "npz", tmp_path / "arrays.npz")
    assert code == 0, err
    with np.load(tmp_path / "arrays.npz") as f:
        assert set(f.files) == {"obs", "next_obs", "acts", "episode_starts", "terminated", "truncated", "env_id"} | (
            {"rews"} if rews else set())
        assert len(f["obs"]) == 512 and str(f["env_id"]) == "CartPole-v1"
    code, out, err = run(capsys, "demos", "import", tmp_path / "arrays.npz", "--out", tmp_path / "e.npz")
    assert code == 0, err
    e = load_demos(tmp_path / "e.npz")
    assert_same(d, e)
    assert e.provenance["format"] == "npz" and e.provenance["inferred"] == []


def test_sb3_expert_dataset_layout_imports_with_drop_last_step(capsys, tmp_path, cartpole_demos):
    src = cartpole_demos.head(6)
    a = src.to_arrays(per_step=True)
    # SB3's generate_expert_traj: obs, actions, rewards, episode_returns, episode_starts; no final observations.
    np.savez(tmp_path / "expert_cartpole.npz", obs=a["obs"], actions=a["acts"][:, None], rewards=a["rews"],
             episode_returns=src.returns(), episode_starts=a["episode_starts"])
    argv = ["demos", "import", tmp_path / "expert_cartpole.npz", "--env", "CartPole-v1", "--acts-key", "actions"]
    code, _, err = run(capsys, *argv, "--out", tmp_path / "d.npz")
    assert code == 2 and "--drop-last-step" in err and not (tmp_path / "d.npz").exists()
    code, out, err = run(capsys, *argv, "--drop-last-step", "--out", tmp_path / "d.npz")
    assert code == 2 and "discrete actions must be one number per step" in err  # SB3 stores [N, 1]: a real mismatch
    np.savez(tmp_path / "expert_cartpole.npz", obs=a["obs"], actions=a["acts"], rewards=a["rews"],
             episode_returns=src.returns(), episode_starts=a["episode_starts"])
    code, out, err = run(capsys, *argv, "--drop-last-step", "--out", tmp_path / "d.npz")
    assert code == 0, err
    assert "each episode's last step was dropped (6 steps)" in out
    d = load_demos(tmp_path / "d.npz")
    assert d.n_transitions == 6 * 499 and all(not (t.terminated or t.truncated) for t in d.trajectories)
    for t, u in zip(src.trajectories, d.trajectories):
        np.testing.assert_array_equal(u.obs, t.obs[:-1])
        np.testing.assert_array_equal(u.acts, t.acts[:-1])
    info = json.loads(run(capsys, "demos", "info", tmp_path / "d.npz", "--json")[1])
    assert info["cut"] == 6 and info["provenance"]["details"]["keys"]["episode_starts"] == "episode_starts"
    assert info["provenance"]["details"]["keys"]["rews"] == "rewards"


def test_d4rl_style_terminals_and_timeouts_mark_the_episodes(capsys, tmp_path):
    d = cartpole_demos()
    a = d.to_arrays(per_step=True)
    np.savez(tmp_path / "d4rl.npz", observations=a["obs"], next_observations=a["next_obs"], actions=a["acts"],
             rewards=a["rews"], terminals=a["terminated"], timeouts=a["truncated"])
    code, _, err = run(capsys, "demos", "import", tmp_path / "d4rl.npz", "--env", "CartPole-v1", "--out", tmp_path / "e.npz")
    assert code == 0, err
    assert_same(d, load_demos(tmp_path / "e.npz"))  # the unflagged last episode: cut mid-way, as it was


def test_user_named_keys_and_dones(capsys, tmp_path):
    d = cartpole_demos(ends=(("terminated", 5), ("terminated", 9)))
    a = d.to_arrays()
    ends = np.array([False] * 4 + [True] + [False] * 8 + [True])
    np.savez(tmp_path / "mine.npz", states=a["obs"], u=a["acts"], r=a["rews"], ends=ends)
    code, out, err = run(capsys, "demos", "import", tmp_path / "mine.npz", "--env", "CartPole-v1", "--obs-key", "states",
                         "--acts-key", "u", "--rews-key", "r", "--dones-key", "ends", "--out", tmp_path / "e.npz")
    assert code == 0, err
    assert "2 terminated, 0 truncated" in out  # inferred: both shorter than the time limit
    assert_same(d, load_demos(tmp_path / "e.npz"))


def _refused(capsys, tmp_path, *argv, match):
    out = tmp_path / "refused.npz"
    code, _, err = run(capsys, *argv, "--out", out)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and match in err, err
    assert not out.exists()


def test_bad_array_files_are_one_line_and_write_nothing(capsys, tmp_path):
    a = cartpole_demos().to_arrays()
    def write(**arrays):
        np.savez(tmp_path / "x.npz", **{**a, **arrays})
        return tmp_path / "x.npz"

    imp = ("demos", "import")
    _refused(capsys, tmp_path, *imp, write(), match="does not record its environment; pass --env")
    _refused(capsys, tmp_path, *imp, write(), "--env", "CartPole-v1", "--obs-key", "observations",
             match="has no array 'observations' (--obs-key)")
    _refused(capsys, tmp_path, *imp, write(acts=a["acts"][:-3]), "--env", "CartPole-v1",
             match="episode_lengths must be positive and add up to the 509 steps")
    nan = a["obs"].copy()
    nan[10, 0] = np.nan
    _refused(capsys, tmp_path, *imp, write(obs=nan), "--env", "CartPole-v1", match="observations contain nan or inf")
    _refused(capsys, tmp_path, *imp, write(), "--env", "Pendulum-v1", match="space says (3,)")
    _refused(capsys, tmp_path, *imp, write(), "--env", "CartPole-v1", "--dones-key", "terminated", "--lengths-key",
             "episode_lengths", match="give one of --lengths-key, --episode-starts-key, --dones-key")
    np.savez(tmp_path / "nolen.npz", obs=a["obs"], acts=a["acts"])
    _refused(capsys, tmp_path, *imp, tmp_path / "nolen.npz", "--env", "CartPole-v1", match="does not say where episodes end")
    np.savez(tmp_path / "pickled.npz", obs=np.array([{"x": 1}] * 3, dtype=object), acts=a["acts"])
    _refused(capsys, tmp_path, *imp, tmp_path / "pickled.npz", "--env", "CartPole-v1", match="pickled Python objects in 'obs'")
    (tmp_path / "text.npz").write_text("obs,acts\n")
    _refused(capsys, tmp_path, *imp, tmp_path / "text.npz", "--env", "CartPole-v1", match="corrupt or not an .npz")
    cartpole_demos().save(tmp_path / "own.npz")
    _refused(capsys, tmp_path, *imp, tmp_path / "own.npz", match="already an imitlab demo file")
    _refused(capsys, tmp_path, *imp, tmp_path / "nope.npz", match="not found")
    _refused(capsys, tmp_path, *imp, "minari:xy/z-v0", "--obs-key", "o",
             match="the array keys (--obs-key ...) do not apply to the minari format")

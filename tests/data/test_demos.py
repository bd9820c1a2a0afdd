import json
import re
import zipfile

import numpy as np
import pytest

from imitlab.data import Demonstrations, Trajectory, load_demos
from imitlab.envs import describe_space, env_spaces
from imitlab.errors import UserError


def _demos(n_episodes=3, env_id="CartPole-v1", rews=True):
    rng = np.random.default_rng(0)
    obs_space, act_space = env_spaces(env_id)
    trajs = []
    for i in range(n_episodes):
        T = 5 + i
        trajs.append(
            Trajectory(
                obs=rng.normal(size=(T + 1, 4)).astype(np.float32),
                acts=rng.integers(2, size=T),
                rews=np.ones(T, np.float32) if rews else None,
                terminated=i % 2 == 0,
                truncated=i % 2 == 1,
            )
        )
    return Demonstrations(trajs, env_id, describe_space(obs_space), describe_space(act_space), {"note": "test"})


@pytest.mark.parametrize("rews", [True, False])
def test_round_trip_keeps_everything(tmp_path, rews):
    d = _demos(rews=rews)
    d.save(tmp_path / "d.npz")
    e = load_demos(tmp_path / "d.npz")
    assert (e.env_id, e.obs_space, e.act_space, e.metadata) == (d.env_id, d.obs_space, d.act_space, d.metadata)
    assert e.n_episodes == 3 and e.n_transitions == 5 + 6 + 7
    for a, b in zip(d.trajectories, e.trajectories):
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.acts, b.acts)
        assert (a.terminated, a.truncated) == (b.terminated, b.truncated)
        assert (a.rews is None) == (b.rews is None)
    assert (e.returns() is None) == (not rews)


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    _demos().save(tmp_path / "d.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz"]


def test_transitions_mark_only_true_terminals_as_done():
    d = _demos()
    t = d.to_transitions()
    assert len(t) == d.n_transitions
    # Episode 0 terminated (its last step is done), episode 1 was truncated (no done), episode 2 terminated.
    assert t.dones.sum() == 2 and t.dones[4] and t.dones[-1]
    np.testing.assert_array_equal(t.next_obs[0], d.trajectories[0].obs[1])
    np.testing.assert_array_equal(t.obs[5], d.trajectories[1].obs[0])  # no pair crosses an episode boundary


def test_subsample_every_k_steps_and_random_pairs():
    d = _demos()
    every = d.subsample(every=2, rng=np.random.default_rng(0))
    assert len(every) in range(8, 12)
    pairs = d.subsample(pairs=7, rng=np.random.default_rng(0))
    assert len(pairs) == 7
    all_obs = {o.tobytes() for o in d.to_transitions().obs}
    assert all(o.tobytes() in all_obs for o in pairs.obs)
    with pytest.raises(UserError):
        d.subsample(pairs=1000)
    with pytest.raises(UserError):
        d.subsample(every=2, pairs=3)


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_demos(tmp_path / "nope.npz")


def test_corrupt_file(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"this is not a zip file")
    with pytest.raises(UserError, match="corrupt"):
        load_demos(tmp_path / "bad.npz")


def test_truncated_file(tmp_path):
    _demos().save(tmp_path / "d.npz")
    data = (tmp_path / "d.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError):
        load_demos(tmp_path / "cut.npz")


def _rewrite(path, **changes):
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays.update(changes)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)


def test_inconsistent_arrays_are_rejected(tmp_path):
    p = tmp_path / "d.npz"
    _demos().save(p)
    _rewrite(p, lengths=np.array([5, 6, 8]))
    with pytest.raises(UserError, match="do not match the episode lengths"):
        load_demos(p)


def test_out_of_range_discrete_actions_are_rejected(tmp_path):
    p = tmp_path / "d.npz"
    d = _demos()
    d.save(p)
    acts = np.concatenate([t.acts for t in d.trajectories])
    acts[3] = 7
    _rewrite(p, acts=acts)
    with pytest.raises(UserError, match="discrete actions"):
        load_demos(p)


def test_foreign_npz_is_rejected(tmp_path):
    p = tmp_path / "other.npz"
    np.savez(p, x=np.zeros(3))
    with pytest.raises(UserError, match="missing arrays"):
        load_demos(p)


def test_newer_format_version_is_rejected(tmp_path):
    p = tmp_path / "d.npz"
    _demos().save(p)
    with np.load(p) as f:
        meta = json.loads(str(f["meta"]))
    meta["version"] = 99
    _rewrite(p, meta=np.array(json.dumps(meta)))
    with pytest.raises(UserError, match="newer"):
        load_demos(p)


def test_pickled_objects_are_never_loaded(tmp_path):
    p = tmp_path / "d.npz"
    _demos().save(p)
    _rewrite(p, obs=np.array([object()], dtype=object))
    with pytest.raises(UserError):
        load_demos(p)
    assert zipfile.is_zipfile(p)


def test_env_and_space_checks():
    d = _demos()
    obs_space, act_space = env_spaces("CartPole-v1")
    d.check_env("CartPole-v1", describe_space(obs_space), describe_space(act_space))
    pend_obs, pend_act = env_spaces("Pendulum-v1")
    with pytest.raises(UserError, match="do not fit Pendulum-v1"):
        d.check_env("Pendulum-v1", describe_space(pend_obs), describe_space(pend_act))
    v0_obs, v0_act = env_spaces("CartPole-v0")
    with pytest.raises(UserError, match="recorded in CartPole-v1, not CartPole-v0"):
        d.check_env("CartPole-v0", describe_space(v0_obs), describe_space(v0_act))


def test_collected_demos_record_the_expert_and_its_return(cartpole_demos):
    assert cartpole_demos.n_episodes == 10
    assert cartpole_demos.metadata["expert_mean_return"] == pytest.approx(cartpole_demos.returns().mean())
    for t in cartpole_demos.trajectories:
        assert len(t.obs) == len(t) + 1
        assert t.truncated != t.terminated


# --------------------------------------------------------------- hostile content (issue #10)
def _saved(tmp_path, **changes):
    p = tmp_path / "d.npz"
    _demos().save(p)
    if changes:
        _rewrite(p, **changes)
    return p


def _acts_with(value):
    acts = np.concatenate([t.acts for t in _demos().trajectories]).astype(np.float64)
    acts[4] = value
    return acts


@pytest.mark.parametrize(
    "value, found", [(np.nan, "found nan or inf"), (0.5, "found 0.5"), (1.7, "found 1.7"), (-np.inf, "found nan or inf")]
)
def test_discrete_actions_must_be_whole_finite_numbers(tmp_path, value, found):
    # nan compares false with both bounds and used to pass the range check; fractions were truncated.
    with pytest.raises(UserError, match=f"discrete actions must be integers in \\[0, 2\\), {found}"):
        load_demos(_saved(tmp_path, acts=_acts_with(value)))


def test_whole_discrete_actions_stored_as_floats_load_as_integers(tmp_path):
    d = load_demos(_saved(tmp_path, acts=_acts_with(1.0)))
    acts = np.concatenate([t.acts for t in d.trajectories])
    assert acts.dtype == np.int64 and acts[4] == 1


def _with_meta(tmp_path, edit):
    p = _saved(tmp_path)
    with np.load(p) as f:
        meta = json.loads(str(f["meta"]))
    meta = edit(meta) or meta
    _rewrite(p, meta=np.array(json.dumps(meta)))
    return p


@pytest.mark.parametrize("edit, match", [
    (lambda m: m.pop("act_space") and None, "lacks 'act_space'"),
    (lambda m: [m], "metadata is a JSON list, not an object"),
    (lambda m: m.__setitem__("obs_space", {"type": "Box", "shape": [4], "dtype": "float32"}), "'low' is not a list of 4 numbers"),
    (lambda m: m.__setitem__("act_space", {"type": "Discrete", "n": "2"}), "n='2'"),
    (lambda m: m.__setitem__("version", "1"), "format version is '1'"),
])
def test_malformed_metadata_is_one_clear_error(tmp_path, edit, match):
    with pytest.raises(UserError, match=re.escape(match)):
        load_demos(_with_meta(tmp_path, edit))


@pytest.mark.parametrize("changes, match", [
    ({"obs": np.full((21, 4), "x")}, "observations must be numbers"),
    ({"lengths": np.array([[5, 6, 7]])}, "one length per episode, got shape (1, 3)"),
    ({"lengths": np.array([5.5, 5.5, 7.0])}, "'lengths' must be whole numbers"),
    ({"lengths": np.array([5, 6, 2**62])}, "episode lengths must be in 1..18"),
    ({"terminated": np.array([0.5, 0, 1])}, "true/false flags"),
    ({"rews": np.full(18, np.inf, np.float32)}, "rewards contain nan or inf"),
    ({"obs": np.array(3.0)}, "'obs' is a single value"),
])
def test_malformed_arrays_are_one_clear_error(tmp_path, changes, match):
    with pytest.raises(UserError, match=re.escape(match)):
        load_demos(_saved(tmp_path, **changes))


def test_an_npy_header_that_declares_more_than_it_holds_is_refused_before_reading(tmp_path):
    p = _saved(tmp_path)
    with np.load(p) as f:
        arrays = {k: f[k] for k in f.files if k != "obs"}
    np.savez(p, **arrays)
    with zipfile.ZipFile(p, "a") as zf, zf.open("obs.npy", "w") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (2**40, 4)})
        f.write(b"\0" * 32)
    with pytest.raises(UserError, match=re.escape("declares shape (1099511627776, 4)")):
        load_demos(p)


def test_flipped_bytes_are_a_corrupt_file(tmp_path):
    p = _saved(tmp_path)
    data = bytearray(p.read_bytes())
    data[len(data) // 3] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(UserError, match="corrupt"):
        load_demos(p)


def test_space_problem_accepts_real_spaces_and_names_bad_ones():
    from imitlab.data.demos import space_problem

    for env_id in ("CartPole-v1", "Pendulum-v1"):
        for space in env_spaces(env_id):
            assert space_problem(describe_space(space)) is None
    assert "not a space description" in space_problem([1, 2])
    assert "more than" in space_problem({"type": "Box", "shape": [2**13, 2**12], "low": [], "high": [], "dtype": "float32"})
    assert "low above its high" in space_problem({"type": "Box", "shape": [1], "low": [1.0], "high": [0.0], "dtype": "float32"})

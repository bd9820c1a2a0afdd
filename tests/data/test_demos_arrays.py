"""Demonstrations.from_arrays / to_arrays: both layouts, exact round trips, inferred episode ends,
the file loader's checks, and the optional Dict/Tuple layout in demo files."""

import json

import numpy as np
import pytest

from imitlab.data import Demonstrations, Trajectory, load_demos
from imitlab.envs import describe_space, env_spaces
from imitlab.envs.dict_obs import POINT_GOAL_ID, observation_layout
from imitlab.errors import UserError


def cartpole_demos(ends=(("terminated", 5), ("truncated", 500), ("cut", 7)), rews=True, seed=0):
    """Synthetic CartPole demos whose episodes end as ``ends`` says: by termination, by the
    500-step time limit, or cut mid-way (the recording stopped)."""
    rng = np.random.default_rng(seed)
    obs_space, act_space = env_spaces("CartPole-v1")
    trajs = [
        Trajectory(rng.normal(size=(T + 1, 4)).astype(np.float32), rng.integers(2, size=T),
                   rng.normal(size=T).astype(np.float32) if rews else None, how == "terminated", how == "truncated")
        for how, T in ends
    ]
    return Demonstrations(trajs, "CartPole-v1", describe_space(obs_space), describe_space(act_space), {})


def assert_same(a, b):
    assert (a.env_id, a.n_episodes, a.obs_space, a.act_space, a.obs_layout) == (b.env_id, b.n_episodes, b.obs_space,
                                                                                b.act_space, b.obs_layout)
    for x, y in zip(a.trajectories, b.trajectories):
        assert x.obs.dtype == y.obs.dtype and x.acts.dtype == y.acts.dtype
        np.testing.assert_array_equal(x.obs, y.obs)
        np.testing.assert_array_equal(x.acts, y.acts)
        assert (x.rews is None) == (y.rews is None)
        if x.rews is not None:
            np.testing.assert_array_equal(x.rews, y.rews)
        assert (x.terminated, x.truncated) == (y.terminated, y.truncated)


@pytest.mark.parametrize("per_step", [False, True])
@pytest.mark.parametrize("rews", [True, False])
def test_arrays_round_trip_exactly_through_both_layouts(per_step, rews):
    d = cartpole_demos(rews=rews)
    arrays = d.to_arrays(per_step=per_step)
    if per_step:
        assert len(arrays["obs"]) == len(arrays["next_obs"]) == len(arrays["acts"]) == 512
        assert arrays["episode_starts"].nonzero()[0].tolist() == [0, 5, 505]
        assert arrays["terminated"].nonzero()[0].tolist() == [4] and arrays["truncated"].nonzero()[0].tolist() == [504]
    else:
        assert len(arrays["obs"]) == 512 + 3 and arrays["episode_lengths"].tolist() == [5, 500, 7]
    e = Demonstrations.from_arrays(**arrays, env_id="CartPole-v1")
    assert_same(d, e)
    assert e.provenance is None  # plain from_arrays records a provenance only when given a source


def test_pendulum_continuous_actions_round_trip():
    from imitlab.data.collect import collect_demos

    d = collect_demos(lambda obs: np.clip(-0.5 * obs[:, 2:3], -2, 2).astype(np.float32), "Pendulum-v1", episodes=2)
    for per_step in (False, True):
        assert_same(d, Demonstrations.from_arrays(**d.to_arrays(per_step=per_step), env_id="Pendulum-v1"))


def test_episode_ends_are_inferred_from_the_time_limit_when_not_given():
    d = cartpole_demos()
    a = d.to_arrays(per_step=True)
    dones = a["terminated"] | a["truncated"]  # the cut last episode has no done: it stays cut
    e = Demonstrations.from_arrays(a["obs"], a["acts"], next_obs=a["next_obs"], dones=dones, env_id="CartPole-v1",
                                   source="test", details={"k": 1})
    assert [(t.terminated, t.truncated) for t in e.trajectories] == [(True, False), (False, True), (False, False)]
    (sentence,) = e.provenance["inferred"]
    assert "500 steps" in sentence and "1 terminated, 1 truncated, 1 cut mid-way" in sentence
    assert e.provenance["source"] == "test" and e.provenance["details"] == {"k": 1}
    # With lengths, every episode is complete: the 7-step one is then taken as terminated.
    full = d.to_arrays()
    e = Demonstrations.from_arrays(full["obs"], full["acts"], episode_lengths=full["episode_lengths"], env_id="CartPole-v1")
    assert [(t.terminated, t.truncated) for t in e.trajectories] == [(True, False), (False, True), (True, False)]
    # One flag given: the other is its complement among complete episodes.
    e = Demonstrations.from_arrays(full["obs"], full["acts"], episode_lengths=full["episode_lengths"],
                                   terminated=[True, False, False], env_id="CartPole-v1")
    assert [(t.terminated, t.truncated) for t in e.trajectories] == [(True, False), (False, True), (False, True)]


def test_episode_starts_and_drop_last_step_for_sb3_style_arrays():
    d = cartpole_demos(ends=(("terminated", 5), ("terminated", 1), ("truncated", 500)))
    a = d.to_arrays(per_step=True)
    with pytest.raises(UserError, match="final observation is missing.*--drop-last-step"):
        Demonstrations.from_arrays(a["obs"], a["acts"], episode_starts=a["episode_starts"], env_id="CartPole-v1")
    e = Demonstrations.from_arrays(a["obs"], a["acts"], rews=a["rews"], episode_starts=a["episode_starts"],
                                   env_id="CartPole-v1", drop_last_step=True, source="sb3.npz")
    # The one-step episode is gone; the others lost their last step and now end cut.
    assert e.lengths().tolist() == [4, 499]
    assert all(not (t.terminated or t.truncated) for t in e.trajectories)
    np.testing.assert_array_equal(e.trajectories[1].obs, d.trajectories[2].obs[:-1])
    np.testing.assert_array_equal(e.trajectories[1].rews, d.trajectories[2].rews[:-1])
    assert "last step was dropped" in e.provenance["notes"][0]


@pytest.mark.parametrize("edit, match", [
    (lambda a: a.update(episode_lengths=a["episode_lengths"] + 1), "add up to the 512 steps"),
    (lambda a: a.update(acts=a["acts"][:-1]), "add up to the 511 steps"),
    (lambda a: a["obs"].__setitem__((3, 1), np.nan), "observations contain nan or inf"),
    (lambda a: a.update(obs=a["obs"][:, :3]), "observations have shape \\(3,\\) per step, but the space says \\(4,\\)"),
    (lambda a: a.update(rews=a["rews"][:-2]), "rewards have shape"),
    (lambda a: a["acts"].__setitem__(2, 7), "in \\[0, 2\\), found 7"),
    (lambda a: a.update(terminated=np.ones(512, bool)), "not the last step of its episode"),
    (lambda a: a.update(obs=a["obs"][:-1]), "514 observations do not fit 512 actions in 3 episodes"),
    (lambda a: a.update(dones=np.zeros(512, bool)), "exactly one of episode_lengths, episode_starts or dones"),
])
def test_bad_arrays_are_one_clear_user_error(edit, match):
    a = cartpole_demos().to_arrays()
    edit(a)
    with pytest.raises(UserError, match=match) as e:
        Demonstrations.from_arrays(**a, env_id="CartPole-v1")
    assert "\n" not in str(e.value)


def test_next_observations_that_skip_an_episode_boundary_are_refused():
    a = cartpole_demos().to_arrays(per_step=True)
    starts = a.pop("episode_starts")
    del a["terminated"], a["truncated"]
    starts[5] = False  # merges the first two episodes: obs[5] is not the next obs of step 4
    with pytest.raises(UserError, match="next observation of step 4 differs from the observation of step 5"):
        Demonstrations.from_arrays(**a, episode_starts=starts, env_id="CartPole-v1")


def test_dict_observations_are_flattened_with_the_env_layout(tmp_path):
    layout = observation_layout(POINT_GOAL_ID)
    rng = np.random.default_rng(0)
    obs = {k: rng.uniform(-1, 1, size=(9, 2)).astype(np.float32) for k in ("observation", "desired_goal", "achieved_goal")}
    acts = rng.uniform(-1, 1, size=(7, 2)).astype(np.float32)
    d = Demonstrations.from_arrays(obs, acts, episode_lengths=[3, 4], env_id=POINT_GOAL_ID)
    assert d.obs_layout == layout and d.obs_space["shape"] == [6]
    # Gymnasium's Dict sorts its keys: achieved_goal, desired_goal, observation.
    np.testing.assert_array_equal(d.trajectories[0].obs[:, :2], obs["achieved_goal"][:4])
    np.testing.assert_array_equal(d.trajectories[1].obs[:, 4:], obs["observation"][4:])
    d.save(tmp_path / "d.npz")
    e = load_demos(tmp_path / "d.npz")
    assert_same(d, e)
    assert [(t.terminated, t.truncated) for t in e.trajectories] == [(True, False), (True, False)]
    e.check_env(POINT_GOAL_ID, d.obs_space, d.act_space)  # fits its env
    bad = dict(obs, goal=obs.pop("desired_goal"))
    with pytest.raises(UserError, match=r"keys differ.*missing \['desired_goal'\], unexpected \['goal'\]"):
        Demonstrations.from_arrays(bad, acts, episode_lengths=[3, 4], env_id=POINT_GOAL_ID)


def test_a_layout_that_does_not_fit_the_env_is_refused_by_check_env():
    layout = observation_layout(POINT_GOAL_ID)
    renamed = {**layout, "spaces": [["goal" if k == "desired_goal" else k, s] for k, s in layout["spaces"]]}
    rng = np.random.default_rng(0)
    d = Demonstrations.from_arrays(rng.uniform(-1, 1, (4, 6)).astype(np.float32), np.zeros((3, 2), np.float32),
                                   episode_lengths=[3], env_id=POINT_GOAL_ID, obs_layout=renamed)
    with pytest.raises(UserError, match=r"do not fit imitlab/PointGoal-v0.*keys \['goal'\] only in the first"):
        d.check_env(POINT_GOAL_ID, d.obs_space, d.act_space)


@pytest.mark.parametrize("layout, match", [
    ({"type": "Dict", "spaces": []}, "without a list of spaces"),
    ({"type": "Dict", "spaces": [["a", {"type": "Box", "shape": [6], "low": [0] * 6, "high": [1] * 6, "dtype": "float32"}],
                                 ["a", {"type": "Discrete", "n": 2}]]}, "repeated key"),
    ({"type": "Tuple", "spaces": [{"type": "Box", "shape": [3], "low": [0] * 3, "high": [1] * 3, "dtype": "float32"}]},
     "not the flat Box\\(3,\\)"),
    ({"type": "Tuple", "spaces": [{"type": "Text"}]}, "type 'Text'"),
    ("Dict", "not a Dict or Tuple layout"),
])
def test_a_damaged_layout_in_a_file_is_refused(tmp_path, layout, match):
    d = cartpole_demos()
    d.save(tmp_path / "d.npz")
    with np.load(tmp_path / "d.npz") as f:
        arrays = dict(f)
    meta = json.loads(str(arrays["meta"]))
    meta["obs_layout"] = layout
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(UserError, match=match):
        load_demos(tmp_path / "bad.npz")


def test_files_without_layout_or_provenance_load_as_before(tmp_path):
    d = cartpole_demos()
    d.save(tmp_path / "d.npz")
    with np.load(tmp_path / "d.npz") as f:
        meta = json.loads(str(f["meta"]))
    assert "obs_layout" not in meta and set(meta) == {"format", "version", "env_id", "obs_space", "act_space", "metadata"}
    assert load_demos(tmp_path / "d.npz").obs_layout is None

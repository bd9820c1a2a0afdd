"""Minari in and out: datasets recorded with minari.DataCollector (CartPole-v1, Pendulum-v1, a Dict
env) import to exactly the arrays imitlab records of the same episodes, train the same policy, and
imitlab's demos export to datasets that minari.load_dataset opens with identical arrays. Nothing is
downloaded: every dataset lives in a temporary MINARI_DATASETS_PATH."""

import json
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitlab.cli import main
from imitlab.data import Demonstrations, Trajectory, load_demos
from imitlab.envs import describe_space, env_spaces
from imitlab.envs.dict_obs import POINT_GOAL_ID, observation_layout, point_goal_expert
from imitlab.envs.spaces import flatten_observations, unflatten_observations
from tests.data.test_demos_arrays import assert_same, cartpole_demos

minari = pytest.importorskip("minari")


@pytest.fixture(autouse=True)
def minari_root(tmp_path, monkeypatch):
    root = tmp_path / "minari_root"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def record_with_data_collector(env_id, act, episodes, dataset_id, seed=0):
    """Run ``act`` (one observation -> one action) through a minari.DataCollector for
    ``episodes`` episodes, and record the same episodes as imitlab demos by hand."""
    pytest.importorskip("jax")  # DataCollector's buffers need minari[create]
    env = minari.DataCollector(gym.make(env_id))
    obs_space, act_space = env_spaces(env_id)
    layout = observation_layout(env_id)
    trajs = []
    for ep in range(episodes):
        o, _ = env.reset(seed=seed + ep)
        obs, acts, rews, done = [o], [], [], False
        while not done:
            a = act(o)
            o, r, term, trunc, _ = env.step(a)
            obs.append(o)
            acts.append(a)
            rews.append(r)
            done = term or trunc
        if layout is not None:
            flat = flatten_observations(layout, {k: np.stack([x[k] for x in obs]) for k in obs[0]})
        else:
            flat = np.stack(obs)
        trajs.append(Trajectory(flat, np.array(acts), np.array(rews, np.float32), bool(term), bool(trunc)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # minari asks for an author, a code link, ...
        env.create_dataset(dataset_id, algorithm_name="test")
    env.close()
    return Demonstrations(trajs, env_id, describe_space(obs_space), describe_space(act_space), {}, layout)


def train_bc_policy(env_id, demos, **config):
    from imitlab.algorithms.bc import BCConfig, train_bc

    return train_bc(env_id=env_id, demos=demos, seed=0, config=BCConfig(**config), eval_every=0, eval_episodes=1).policy


def test_cartpole_dataset_imports_to_the_recorded_arrays_and_trains_the_same_bc_policy(capsys, tmp_path):
    from imitlab.evaluation import evaluate
    from imitlab.experts import load_expert

    expert = load_expert("zoo", "CartPole-v1")
    own = record_with_data_collector("CartPole-v1", lambda o: int(expert.act(o[None])[0]), 6, "test/cartpole/expert-v0")
    code, out, err = run(capsys, "demos", "import", "minari:test/cartpole/expert-v0", "--out", tmp_path / "d.npz")
    assert code == 0, err
    assert "6 episodes, 3000 transitions of CartPole-v1 from minari minari:test/cartpole/expert-v0" in out
    imported = load_demos(tmp_path / "d.npz")
    assert_same(own, imported)
    assert [(t.terminated, t.truncated) for t in imported.trajectories] == [(False, True)] * 6
    assert imported.provenance["details"]["dataset_id"] == "test/cartpole/expert-v0"
    # Same arrays, same seed: the same policy, weight for weight.
    a, b = train_bc_policy("CartPole-v1", own, epochs=20), train_bc_policy("CartPole-v1", imported, epochs=20)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name
    assert evaluate(b, "CartPole-v1", episodes=20, seed=77).mean_return >= 475


def test_pendulum_dataset_imports_exactly_and_bc_learns_its_expert(capsys, tmp_path):
    def expert(o):
        return np.clip(-0.5 * o[2:3], -2, 2).astype(np.float32)

    own = record_with_data_collector("Pendulum-v1", expert, 3, "test/pendulum/linear-v0")
    assert run(capsys, "demos", "import", "minari:test/pendulum/linear-v0", "--out", tmp_path / "d.npz")[0] == 0
    imported = load_demos(tmp_path / "d.npz")
    assert_same(own, imported)
    assert all(t.truncated and not t.terminated and len(t) == 200 for t in imported.trajectories)
    a = train_bc_policy("Pendulum-v1", own, epochs=30, continuous_loss="mse")
    b = train_bc_policy("Pendulum-v1", imported, epochs=30, continuous_loss="mse")
    for x, y in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(x, y)
    t = imported.to_transitions()
    assert np.abs(b.act(t.obs) - t.acts).mean() < 0.05 * np.abs(t.acts).mean() + 0.02


@pytest.mark.parametrize("data_format", ["hdf5", "arrow"])
@pytest.mark.parametrize("rews", [True, False])
def test_export_opens_in_minari_with_identical_arrays_and_imports_back_exactly(capsys, tmp_path, data_format, rews):
    d = cartpole_demos(rews=rews)
    d.save(tmp_path / "d.npz")
    code, out, err = run(capsys, "demos", "export", tmp_path / "d.npz", "--to", "minari", "imitlab/cartpole/rt-v0",
                         "--data-format", data_format)
    assert code == 0, err
    ds = minari.load_dataset("imitlab/cartpole/rt-v0")
    assert ds.total_episodes == 3 and ds.spec.env_spec.id == "CartPole-v1"
    for t, ep in zip(d.trajectories, ds.iterate_episodes()):
        np.testing.assert_array_equal(ep.observations, t.obs)
        np.testing.assert_array_equal(ep.actions, t.acts)
        np.testing.assert_array_equal(ep.rewards, t.rews if rews else np.zeros(len(t)))
        assert ep.terminations.tolist() == [False] * (len(t) - 1) + [t.terminated]
        assert ep.truncations.tolist() == [False] * (len(t) - 1) + [t.truncated]
    assert run(capsys, "demos", "import", "minari:imitlab/cartpole/rt-v0", "--out", tmp_path / "e.npz")[0] == 0
    assert_same(d, load_demos(tmp_path / "e.npz"))


def test_dict_observations_go_out_as_dicts_and_come_back_flat(capsys, tmp_path):
    rng = np.random.default_rng(0)
    layout = observation_layout(POINT_GOAL_ID)
    flat = rng.uniform(-1, 1, (12, 6)).astype(np.float32)
    d = Demonstrations.from_arrays(flat, rng.uniform(-1, 1, (10, 2)).astype(np.float32), episode_lengths=[4, 6],
                                   terminated=[True, False], truncated=[False, False], env_id=POINT_GOAL_ID)
    d.save(tmp_path / "d.npz")
    assert run(capsys, "demos", "export", tmp_path / "d.npz", "--to", "minari", "imitlab/point/dict-v0")[0] == 0
    ds = minari.load_dataset("imitlab/point/dict-v0")
    assert isinstance(ds.observation_space, gym.spaces.Dict)
    first = next(iter(ds.iterate_episodes()))
    want = unflatten_observations(layout, flat[:5])
    assert set(first.observations) == {"achieved_goal", "desired_goal", "observation"}
    for k in want:
        np.testing.assert_array_equal(first.observations[k], want[k])
    assert run(capsys, "demos", "import", "minari:imitlab/point/dict-v0", "--out", tmp_path / "e.npz")[0] == 0
    assert_same(d, load_demos(tmp_path / "e.npz"))


def test_a_data_collector_dataset_of_a_dict_env_imports_flat_with_its_layout(capsys, tmp_path):
    own = record_with_data_collector(POINT_GOAL_ID, lambda o: point_goal_expert({k: v[None] for k, v in o.items()})[0], 4,
                                     "test/point/expert-v0")
    assert run(capsys, "demos", "import", "minari:test/point/expert-v0", "--out", tmp_path / "d.npz")[0] == 0
    imported = load_demos(tmp_path / "d.npz")
    assert_same(own, imported)
    assert imported.obs_layout == observation_layout(POINT_GOAL_ID)
    assert all(t.terminated for t in imported.trajectories)  # the scripted expert reaches every goal


def test_collect_records_straight_into_a_minari_dataset(capsys, tmp_path):
    code, out, err = run(capsys, "demos", "collect", "--env", "CartPole-v1", "--expert", "zoo", "--episodes", "2",
                         "--format", "minari", "--out", "imitlab/cartpole/zoo-v0")
    assert code == 0, err
    assert "wrote Minari dataset 'imitlab/cartpole/zoo-v0': 2 episodes, 1000 transitions" in out
    ds = minari.load_dataset("imitlab/cartpole/zoo-v0")
    assert (ds.total_episodes, ds.total_steps) == (2, 1000)
    assert run(capsys, "demos", "import", "minari:imitlab/cartpole/zoo-v0", "--out", tmp_path / "d.npz")[0] == 0
    code, out, _ = run(capsys, "demos", "info", tmp_path / "d.npz")
    assert code == 0
    assert "source: minari:imitlab/cartpole/zoo-v0 (minari)" in out and "dataset_id=\"imitlab/cartpole/zoo-v0\"" in out
    info = json.loads(run(capsys, "demos", "info", tmp_path / "d.npz", "--json")[1])
    assert info["provenance"]["format"] == "minari" and info["return_mean"] == 500.0
    # An id in use is refused before any episode is run.
    code, _, err = run(capsys, "demos", "collect", "--env", "CartPole-v1", "--expert", "zoo", "--episodes", "2",
                       "--format", "minari", "--out", "imitlab/cartpole/zoo-v0")
    assert code == 2 and "already exists" in err and len(err.strip().splitlines()) == 1


def _refused(capsys, tmp_path, *argv, match):
    out = tmp_path / "refused.npz"
    code, _, err = run(capsys, *argv, "--out", out)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and match in err, err
    assert not out.exists()


def test_bad_sources_are_one_line_and_write_nothing(capsys, tmp_path, minari_root):
    _refused(capsys, tmp_path, "demos", "import", "minari:test/nothing-v0",
             match="imitlab never downloads: fetch it with 'minari download test/nothing-v0'")
    _refused(capsys, tmp_path, "demos", "import", "minari:../etc-v0", match="is not a Minari dataset id")
    d = cartpole_demos()
    d.save(tmp_path / "d.npz")
    assert run(capsys, "demos", "export", tmp_path / "d.npz", "--to", "minari", "tests/cartpole-v0")[0] == 0
    _refused(capsys, tmp_path, "demos", "import", "minari:tests/cartpole-v0", "--env", "Pendulum-v1",
             match="spaces do not fit Pendulum-v1")
    code, _, err = run(capsys, "demos", "export", tmp_path / "d.npz", "--to", "minari", "tests/cartpole-v0")
    assert code == 2 and "already exists" in err
    # A directory that is not a dataset, and a dataset directory given by path.
    _refused(capsys, tmp_path, "demos", "import", tmp_path, match="neither a Minari dataset")
    assert run(capsys, "demos", "import", minari_root / "tests" / "cartpole-v0", "--out", tmp_path / "p.npz")[0] == 0
    # A Dict dataset whose keys are not the env's.
    other = gym.spaces.Dict({"goal": gym.spaces.Box(-1, 1, (2,), np.float32), "pos": gym.spaces.Box(-1, 1, (4,), np.float32)})
    rng = np.random.default_rng(0)
    e = Demonstrations.from_arrays(rng.uniform(-1, 1, (5, 6)).astype(np.float32), np.zeros((4, 2), np.float32),
                                   episode_lengths=[4], env_id=POINT_GOAL_ID, obs_space=other)
    e.save(tmp_path / "e.npz")
    assert run(capsys, "demos", "export", tmp_path / "e.npz", "--to", "minari", "tests/point-v0")[0] == 0
    _refused(capsys, tmp_path, "demos", "import", "minari:tests/point-v0", match="keys ['goal', 'pos'] only in the first")
    # NaN in a dataset (written from Python, which does not check): refused by the file loader's checks.
    from imitlab.data.importers import export_demos

    f = cartpole_demos()
    f.trajectories[1].obs[3, 2] = np.nan
    export_demos(f, "minari", "tests/nan-v0")
    _refused(capsys, tmp_path, "demos", "import", "minari:tests/nan-v0", match="observations contain nan or inf")


def test_gail_trains_on_an_imported_dataset(capsys, tmp_path):
    from imitlab.experts import load_expert

    expert = load_expert("zoo", "CartPole-v1")
    record_with_data_collector("CartPole-v1", lambda o: int(expert.act(o[None])[0]), 10, "test/cartpole/gail-v0")
    assert run(capsys, "demos", "import", "minari:test/cartpole/gail-v0", "--out", tmp_path / "d.npz")[0] == 0
    code, _, err = run(capsys, "train", "gail", "--env", "CartPole-v1", "--demos", tmp_path / "d.npz", "--steps", "20000",
                       "--seed", "0", "--out", tmp_path / "gail", "--eval-episodes", "50")
    assert code == 0, err
    final = json.loads((tmp_path / "gail" / "summary.json").read_text())["final_eval"]
    # Measured with 20,480 env steps: 386.9 (seed 0; 499.7 and 316.8 with seeds 1 and 2), the same to the
    # last digit as on imitlab's own recording of these episodes; a random policy scores about 22.
    assert final["mean_return"] >= 250

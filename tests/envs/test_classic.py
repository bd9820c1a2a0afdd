import gymnasium as gym
import numpy as np
import pytest

from imitlab.envs import make_vec_env
from imitlab.envs.classic import BATCHED_ENVS, BatchedCartPole


@pytest.mark.parametrize("env_id", sorted(BATCHED_ENVS))
def test_batched_env_matches_gymnasium_step_for_step(env_id):
    ref = gym.make(env_id)
    venv = make_vec_env(env_id, 1)
    assert isinstance(venv, BATCHED_ENVS[env_id])
    assert venv.single_observation_space == ref.observation_space
    assert venv.single_action_space == ref.action_space
    ref.action_space.seed(0)
    for episode in range(3):
        obs_ref, _ = ref.reset(seed=episode)
        venv.reset(seed=0)
        venv.state[0] = ref.unwrapped.state  # start both from the same state
        np.testing.assert_allclose(venv._observe(venv.state)[0], obs_ref, rtol=1e-6, atol=1e-6)
        for _ in range(1000):
            a = ref.action_space.sample()
            obs_ref, r_ref, term_ref, trunc_ref, _ = ref.step(a)
            obs, r, term, trunc, next_obs = venv.step(np.asarray([a]))
            np.testing.assert_allclose(next_obs[0], obs_ref, rtol=1e-5, atol=1e-5)
            assert r[0] == pytest.approx(r_ref, rel=1e-5, abs=1e-5)
            assert (term[0], trunc[0]) == (term_ref, trunc_ref)
            if term_ref or trunc_ref:
                break
            venv.state[0] = ref.unwrapped.state  # keep float rounding from drifting over long episodes
        assert term_ref or trunc_ref


def test_batched_initial_states_follow_gymnasium_reset_ranges():
    for env_id, low, high in [("Pendulum-v1", [-np.pi, -1], [np.pi, 1]), ("MountainCar-v0", [-0.6, 0], [-0.4, 0])]:
        venv = make_vec_env(env_id, 2000)
        venv.reset(seed=0)
        assert (venv.state >= np.array(low)).all() and (venv.state <= np.array(high)).all()
        assert np.allclose(venv.state.min(0), low, atol=0.01) and np.allclose(venv.state.max(0), high, atol=0.01)


def test_same_step_autoreset_returns_final_and_reset_observations():
    venv = make_vec_env("CartPole-v1", 3)
    venv.reset(seed=1)
    pushes = np.ones(3, dtype=np.int64)  # always push right: the pole falls within a few dozen steps
    for _ in range(200):
        obs, _, term, trunc, next_obs = venv.step(pushes)
        if term.any():
            break
    assert term.any() and not trunc.any()
    i = int(np.argmax(term))
    # The final observation is past the angle or position limit; the reset one is near zero.
    assert abs(next_obs[i, 2]) > BatchedCartPole.theta_threshold or abs(next_obs[i, 0]) > 2.4
    assert np.all(np.abs(obs[i]) <= 0.05)
    assert venv.steps[i] == 0
    # Envs that did not finish carry on unchanged.
    assert np.array_equal(obs[~term], next_obs[~term])


def test_truncation_at_the_time_limit():
    venv = make_vec_env("CartPole-v1", 2)
    venv.reset(seed=0)
    venv.steps[:] = 499
    venv.state[:] = 0.0
    _, _, term, trunc, _ = venv.step(np.array([0, 1]))
    assert trunc.all() and not term.any()
    assert (venv.steps == 0).all()


@pytest.mark.parametrize(
    "env_id, action, message",
    [
        # (N, 1) used to broadcast MountainCar's state to shape (3, 2, 3) without a word
        ("MountainCar-v0", np.zeros((3, 1), np.int64), r"shape \(3,\), got int64 of shape \(3, 1\)"),
        ("CartPole-v1", np.zeros(2, np.int64), r"shape \(3,\), got int64 of shape \(2,\)"),
        ("Acrobot-v1", np.zeros(3, np.float32), r"array of integers of shape \(3,\), got float32"),
        ("MountainCar-v0", np.array([0, 1, 3]), r"actions from 0 to 3; Discrete\(3\) allows 0 to 2"),
        ("CartPole-v1", np.array([-1, 0, 1]), r"actions from -1 to 1; Discrete\(2\) allows 0 to 1"),
        ("Pendulum-v1", np.zeros(3, np.float32), r"shape \(3, 1\), got float32 of shape \(3,\)"),
        ("Pendulum-v1", np.zeros((3, 2), np.float32), r"shape \(3, 1\), got float32 of shape \(3, 2\)"),
        ("Pendulum-v1", np.zeros((3, 1), bool), r"array of numbers of shape \(3, 1\), got bool"),
    ],
)
def test_batched_env_rejects_actions_outside_its_action_space(env_id, action, message):
    venv = make_vec_env(env_id, 3)
    venv.reset(seed=0)
    state = venv.state.copy()
    with pytest.raises(ValueError, match=message):
        venv.step(action)
    np.testing.assert_array_equal(venv.state, state)  # nothing stepped
    assert venv.state.shape == state.shape and (venv.steps == 0).all()


@pytest.mark.parametrize(
    "env_id, action",
    [
        ("CartPole-v1", [0, 1, 1]),  # a list of ints, as a plain-function expert may return
        ("MountainCar-v0", np.array([0, 2, 1], np.int32)),
        ("Pendulum-v1", np.array([[-5.0], [0.0], [5.0]])),  # float64, out of bounds: clipped, as before
    ],
)
def test_batched_env_accepts_valid_actions(env_id, action):
    venv = make_vec_env(env_id, 3)
    venv.reset(seed=0)
    obs, *_ = venv.step(action)
    assert obs.shape == (3, *venv.single_observation_space.shape)

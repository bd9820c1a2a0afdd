import gymnasium as gym
import numpy as np
import pytest

from imitlab.envs import make_vec_env
from imitlab.envs.classic import BatchedCartPole


@pytest.mark.parametrize("env_id", ["CartPole-v1", "CartPole-v0"])
def test_batched_cartpole_matches_gymnasium_step_for_step(env_id):
    rng = np.random.default_rng(0)
    ref = gym.make(env_id)
    venv = make_vec_env(env_id, 1)
    assert isinstance(venv, BatchedCartPole)
    for episode in range(5):
        obs_ref, _ = ref.reset(seed=episode)
        venv.reset(seed=0)
        venv.state[0] = ref.unwrapped.state  # start both from the same state
        obs = venv.state.astype(np.float32)
        np.testing.assert_array_equal(obs[0], obs_ref)
        while True:
            a = int(rng.integers(2))
            obs_ref, r_ref, term_ref, trunc_ref, _ = ref.step(a)
            obs, r, term, trunc, next_obs = venv.step(np.array([a]))
            np.testing.assert_array_equal(next_obs[0], obs_ref)
            assert (r[0], term[0], trunc[0]) == (r_ref, term_ref, trunc_ref)
            if term_ref or trunc_ref:
                break
            np.testing.assert_array_equal(obs[0], obs_ref)


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

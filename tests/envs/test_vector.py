import numpy as np
import pytest

from imitlab.envs import make_vec_env
from imitlab.envs.vector import GymVecEnv
from imitlab.errors import UserError


def test_gymnasium_backend_gives_final_observation_at_truncation():
    venv = make_vec_env("Pendulum-v1", 2, backend="gymnasium")
    assert isinstance(venv, GymVecEnv)
    obs = venv.reset(seed=0)
    for t in range(200):
        prev = obs
        obs, rew, term, trunc, next_obs = venv.step(np.zeros((2, 1), np.float32))
        if t < 199:
            assert not trunc.any()
            np.testing.assert_array_equal(obs, next_obs)
    assert trunc.all()
    assert not np.array_equal(obs, next_obs)  # reset observation differs from the final one
    # The final observation continues the trajectory: cos^2 + sin^2 = 1 and angular velocity small.
    np.testing.assert_allclose(next_obs[:, 0] ** 2 + next_obs[:, 1] ** 2, 1.0, rtol=1e-5)
    assert np.abs(next_obs[:, 2] - prev[:, 2]).max() < 2.0
    venv.close()


def test_continuous_actions_are_clipped_to_the_bounds():
    a = make_vec_env("Pendulum-v1", 1, backend="gymnasium")
    b = make_vec_env("Pendulum-v1", 1, backend="gymnasium")
    a.reset(seed=3)
    b.reset(seed=3)
    out_a = a.step(np.array([[100.0]], np.float32))
    out_b = b.step(np.array([[2.0]], np.float32))
    np.testing.assert_array_equal(out_a[0], out_b[0])


def test_batched_pendulum_clips_too():
    a = make_vec_env("Pendulum-v1", 1)
    b = make_vec_env("Pendulum-v1", 1)
    a.reset(seed=3)
    b.reset(seed=3)
    np.testing.assert_array_equal(a.step(np.array([[100.0]], np.float32))[0], b.step(np.array([[2.0]], np.float32))[0])


def test_unknown_env_id_is_a_user_error():
    with pytest.raises(UserError, match="unknown environment 'NoSuchEnv-v0'"):
        make_vec_env("NoSuchEnv-v0", 1)


def test_backend_choice_is_validated():
    with pytest.raises(UserError, match="backend"):
        make_vec_env("Pendulum-v1", 1, backend="ray")


def test_observations_come_as_float32_whatever_the_env_gives():
    import gymnasium as gym

    class Float64Obs(gym.ObservationWrapper):
        def __init__(self, env):
            super().__init__(env)
            self.observation_space = gym.spaces.Box(-np.inf, np.inf, env.observation_space.shape, np.float64)

        def observation(self, obs):
            return obs.astype(np.float64)

    venv = GymVecEnv.__new__(GymVecEnv)
    venv.env = gym.vector.SyncVectorEnv([lambda: Float64Obs(gym.make("Pendulum-v1"))] * 2,
                                        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    venv._clip = None
    assert venv.reset(seed=0).dtype == np.float32
    obs, _, _, _, next_obs = venv.step(np.zeros((2, 1), np.float32))
    assert obs.dtype == np.float32 and next_obs.dtype == np.float32

"""LearnedRewardVecEnv: the learner's rewards are the learned reward's at (s, a), plus the absorbing tail at true terminations."""

import numpy as np

from imitlab.envs.vector import make_vec_env
from imitlab.rewards import LoadedReward
from imitlab.rewards.env import LearnedRewardVecEnv


class _FirstCoordinate:
    """A stand-in for a loaded reward: r(s, a) = s[0] + a, absorbing reward 2."""

    absorbing_reward = 2.0
    terminal_bonus = LoadedReward.terminal_bonus

    def __call__(self, obs, acts):
        return obs[:, 0] + acts


def test_rewards_are_the_learned_ones_at_the_state_acted_in():
    ref, venv = make_vec_env("CartPole-v1", 4), LearnedRewardVecEnv(make_vec_env("CartPole-v1", 4), _FirstCoordinate(), gamma=0.5)
    obs = venv.reset(seed=3)
    np.testing.assert_array_equal(obs, ref.reset(seed=3))
    rng = np.random.default_rng(0)
    terminations = 0
    for _ in range(200):
        acts = rng.integers(0, 2, 4)
        new_obs, rew, term, trunc, _ = venv.step(acts)
        ref_step = ref.step(acts)
        np.testing.assert_array_equal(new_obs, ref_step[0])
        # 0.5 / (1 - 0.5) * 2 = 2 more at a true termination (a CartPole fall)
        np.testing.assert_allclose(rew, (obs[:, 0] + acts + 2.0 * term).astype(np.float32), rtol=1e-6)
        terminations += int(term.sum())
        obs = new_obs
    assert terminations > 0

import numpy as np
import torch

from imitlab.envs import make_vec_env
from imitlab.policies import make_policy
from imitlab.sampling import RolloutSampler, run_episodes


def test_rollout_batch_links_steps_and_episode_ends():
    venv = make_vec_env("CartPole-v1", 4)
    policy = make_policy(venv.single_observation_space, venv.single_action_space)
    sampler = RolloutSampler(venv, 64, seed=0)
    b1 = sampler.collect(policy)
    b2 = sampler.collect(policy)
    assert sampler.total_steps == 2 * 64 * 4
    done = b1.terminated | b1.truncated
    assert done.any()  # a random CartPole policy ends episodes within 64 steps
    # Within a batch, where no episode ended, the next step starts where this one led.
    same = ~done[:-1]
    np.testing.assert_array_equal(b1.next_obs[:-1][same], b1.obs[1:][same])
    # Where an episode ended, the next observation is a fresh reset, not the final one.
    assert not np.allclose(b1.next_obs[:-1][done[:-1]], b1.obs[1:][done[:-1]])
    assert np.all(np.abs(b1.obs[1:][done[:-1]]) <= 0.05)
    # Batches continue each other.
    np.testing.assert_array_equal(b1.next_obs[-1][~done[-1]], b2.obs[0][~done[-1]])
    # Episode bookkeeping: every finished episode's length equals its return in CartPole.
    np.testing.assert_array_equal(b1.episode_lengths, b1.episode_returns)
    assert len(b1.episode_lengths) == done.sum()
    # The stored log-probabilities are the policy's.
    with torch.no_grad():
        logp = policy.log_prob(torch.from_numpy(b1.flat("obs")), torch.from_numpy(b1.flat("acts")))
    np.testing.assert_allclose(b1.flat("logp"), logp.numpy(), rtol=1e-5, atol=1e-6)


def test_sampler_is_deterministic_given_the_seed():
    def run():
        torch.manual_seed(0)
        venv = make_vec_env("CartPole-v1", 3)
        policy = make_policy(venv.single_observation_space, venv.single_action_space)
        return RolloutSampler(venv, 50, seed=7).collect(policy)

    a, b = run(), run()
    np.testing.assert_array_equal(a.obs, b.obs)
    np.testing.assert_array_equal(a.acts, b.acts)


def test_run_episodes_runs_exactly_n_whole_episodes():
    lengths_seen = []

    def act(obs):
        return np.zeros(len(obs), dtype=np.int64)  # always push left: short episodes

    eps = run_episodes(act, "CartPole-v1", 70, seed=0, record=True, max_parallel=32)
    assert len(eps.returns) == 70 and len(eps.trajectories) == 70
    for t, ret, length in zip(eps.trajectories, eps.returns, eps.lengths):
        assert len(t) == length == ret
        assert t.terminated
        lengths_seen.append(length)
    assert min(lengths_seen) >= 8

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.nn.utils import parameters_to_vector

from imitlab.envs import make_vec_env
from imitlab.errors import UserError
from imitlab.losses import discounted_returns
from imitlab.policies import make_policy
from imitlab.rl import TRPO, Reinforce, ReinforceConfig, TRPOConfig, make_generator
from imitlab.sampling import RolloutSampler


def test_discounted_returns_restart_at_episode_ends():
    # One env: episode A = steps 0-1 (terminated), episode B = steps 2-3 (truncated), C = step 4 (batch end).
    rews = np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32).reshape(-1, 1)
    term = np.array([0, 1, 0, 0, 0], bool).reshape(-1, 1)
    trunc = np.array([0, 0, 0, 1, 0], bool).reshape(-1, 1)
    nv = np.array([100.0, 100.0, 100.0, 10.0, 20.0], np.float32).reshape(-1, 1)
    g = 0.5
    out = discounted_returns(rews, term, trunc, nv, gamma=g)[:, 0]
    assert out[1] == pytest.approx(2.0)  # terminated: nothing after it, not episode B's rewards
    assert out[0] == pytest.approx(1.0 + g * 2.0)
    assert out[3] == pytest.approx(4.0 + g * 10.0)  # truncated: bootstrap from V(final obs)
    assert out[2] == pytest.approx(3.0 + g * out[3])
    assert out[4] == pytest.approx(5.0 + g * 20.0)  # batch end: bootstrap
    plain = discounted_returns(rews, term, trunc, np.zeros_like(nv), gamma=g)[:, 0]
    assert plain[3] == pytest.approx(4.0) and plain[4] == pytest.approx(5.0)


def _batch(env_id, seed=0, steps=64):
    torch.manual_seed(seed)
    venv = make_vec_env(env_id, 8)
    policy = make_policy(venv.single_observation_space, venv.single_action_space)
    return policy, RolloutSampler(venv, steps, seed=seed).collect(policy)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
@pytest.mark.parametrize("max_kl", [0.01, 0.001])
def test_trpo_step_satisfies_its_kl_bound(env_id, max_kl):
    policy, batch = _batch(env_id)
    obs = torch.from_numpy(batch.flat("obs"))
    with torch.no_grad():
        old = tuple(t.clone() for t in policy.dist_params(obs))
    before = [p.detach().clone() for p in policy.parameters()]
    trpo = TRPO(policy, TRPOConfig(max_kl=max_kl), seed=0)
    rewards = np.random.default_rng(0).normal(size=batch.rews.shape).astype(np.float32)
    stats = trpo.update(batch, rewards)
    with torch.no_grad():
        kl = policy.kl(old, obs).mean().item()
    assert stats["line_search_accepted"] == 1.0
    assert 0 < kl <= max_kl * (1 + 1e-5)
    assert kl == pytest.approx(stats["kl"], rel=1e-4)
    assert any((p != b).any() for p, b in zip(policy.parameters(), before))


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_trpo_keeps_the_policy_when_the_line_search_rejects_every_step(env_id):
    """The line search runs all its iterations, each trial step moves the parameters, and none is
    within the KL bound (the policy's KL carries a constant 1.0 on top, so no step measures under
    max_kl, while its gradients, and so the step direction, are the true ones): the policy must
    come back to exactly where it started."""
    policy, batch = _batch(env_id)
    before = parameters_to_vector(policy.parameters()).detach().clone()
    true_kl = policy.kl
    trials = []

    def offset_kl(old, obs):
        if not torch.is_grad_enabled():  # the line search's measurement (the Fisher products need grad)
            trials.append(parameters_to_vector(policy.parameters()).detach().clone())
        return true_kl(old, obs) + 1.0

    policy.kl = offset_kl
    rewards = np.random.default_rng(0).normal(size=batch.rews.shape).astype(np.float32)
    stats = TRPO(policy, TRPOConfig(max_kl=0.01, backtrack_iters=5), seed=0).update(batch, rewards)
    assert len(trials) == 5
    assert all(not torch.equal(t, before) for t in trials)  # every trial moved the policy ...
    assert stats["line_search_accepted"] == 0.0 and stats["kl"] == 0.0 and stats["step_fraction"] == 0.0
    assert torch.equal(parameters_to_vector(policy.parameters()), before)  # ... and it was put back


def test_reinforce_moves_probability_towards_rewarded_actions():
    policy, batch = _batch("CartPole-v1")
    gen = Reinforce(policy, ReinforceConfig(baseline="mean", lr=1e-2), seed=0)
    rewards = (batch.acts == 1).astype(np.float32)  # reward only action 1
    obs = torch.from_numpy(batch.flat("obs"))
    p_before = torch.softmax(policy.logits(obs), -1)[:, 1].mean().item()
    for _ in range(5):
        gen.update(batch, rewards)
    assert torch.softmax(policy.logits(obs), -1)[:, 1].mean().item() > p_before + 0.05


def test_unknown_generator_and_baseline_are_user_errors():
    policy = make_policy(gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(2))
    with pytest.raises(UserError, match="unknown generator"):
        make_generator("a2c", policy, None, seed=0)
    with pytest.raises(UserError, match="baseline"):
        Reinforce(policy, ReinforceConfig(baseline="median"), seed=0)

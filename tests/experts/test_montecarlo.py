"""Monte-Carlo Q* on envs whose episodes end: a termination ends the roll-out (value 0 after it),
checked against roll-outs of gymnasium's own environments, stepped one at a time by hand."""

import gymnasium as gym
import numpy as np
import pytest

from imitlab.experts import as_expert
from imitlab.experts.montecarlo import monte_carlo_q


def _brute_force_q(env_id, state, first_action, expert, *, gamma, horizon):
    """Q*(s, a) from gymnasium's own (unbatched) env, restored to ``state``: the discounted rewards
    up to and including the terminating step, nothing after it. Also returns the roll-out's length."""
    act = as_expert(expert).act
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    env.state = np.array(state, dtype=np.float64)
    total, discount, action = 0.0, 1.0, first_action
    for t in range(horizon):
        obs, rew, terminated, _, _ = env.step(action)
        total += discount * rew
        if terminated:
            return total, t + 1
        discount *= gamma
        action = int(np.asarray(act(np.asarray(obs, np.float32)[None])).reshape(-1)[0])
    return total, horizon


def _tip_it_over(obs):
    """Push the cart the way that drops the pole further (right when it leans left)."""
    return (obs[:, 2] < 0).astype(np.int64)


def _balance(obs):
    """Push the cart under the pole; keeps it up for a while, not forever."""
    return (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(np.int64)


@pytest.mark.parametrize("expert", [_tip_it_over, _balance])
def test_monte_carlo_q_stops_counting_at_a_termination_on_cartpole(expert):
    states = np.array([
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.15, 0.5],     # falls within a few steps
        [0.0, 0.0, 0.208, 0.3],    # the first action ends the episode: Q* = 1
        [2.35, 1.0, 0.0, 0.0],     # drives off the track
        [-0.5, -0.3, -0.05, 0.2],
        [0.0, 0.0, -0.1, -1.0],
    ])
    first = np.array([0, 1, 1, 1, 0, 0], np.int64)
    gamma, horizon = 0.9, 60
    q, steps = monte_carlo_q("CartPole-v1", states, first, expert, gamma=gamma, horizon=horizon, seed=0)
    want, lengths = zip(*(_brute_force_q("CartPole-v1", s, int(a), expert, gamma=gamma, horizon=horizon)
                          for s, a in zip(states, first)))
    lengths = np.array(lengths)
    assert lengths[2] == 1 and (lengths < horizon).sum() >= 2  # early ends, where masking matters
    np.testing.assert_allclose(q, want, rtol=1e-6)
    assert steps == lengths.sum()
    # Counting what the autoreset env gives after an end (a fresh episode's +1s) would be the bug.
    assert (q[lengths < horizon] < (1 - gamma**horizon) / (1 - gamma) - 1e-6).all()


def test_monte_carlo_q_stops_at_acrobots_goal():
    """Acrobot pays -1 a step and 0 on reaching the goal; after it the autoreset env would pay -1
    again. States on the way up, from a roll-out of the shipped expert in gymnasium's Acrobot."""
    from imitlab.experts import load_expert

    expert = load_expert("zoo", "Acrobot-v1")
    env = gym.make("Acrobot-v1").unwrapped
    obs, _ = env.reset(seed=3)
    states, acts = [], []
    for _ in range(200):
        a = int(expert.act(np.asarray(obs, np.float32)[None])[0])
        states.append(np.array(env.state))
        acts.append(a)
        obs, _, terminated, _, _ = env.step(a)
        if terminated:
            break
    assert terminated, "the expert should reach the goal"
    states, acts = np.array(states[-40::8]), np.array(acts[-40::8])  # 40 to 8 steps before the goal
    gamma, horizon = 0.95, 60
    q, steps = monte_carlo_q("Acrobot-v1", states, acts, expert, gamma=gamma, horizon=horizon, seed=0)
    want, lengths = zip(*(_brute_force_q("Acrobot-v1", s, int(a), expert, gamma=gamma, horizon=horizon)
                          for s, a in zip(states, acts)))
    assert (np.array(lengths) < horizon).all()
    np.testing.assert_allclose(q, want, rtol=1e-6)
    # With a termination at step L: -(1 - gamma^(L-1)) / (1 - gamma), the goal step paying 0.
    lengths = np.array(lengths)
    np.testing.assert_allclose(q, -(1 - gamma ** (lengths - 1)) / (1 - gamma), rtol=1e-6)
    assert steps == lengths.sum()

"""Numpy-batched classic-control environments with same-step autoreset.

Each class steps all of its copies at once with the exact dynamics of the gymnasium original
(tests/envs/test_classic.py checks them step for step). Unlike gymnasium's own vector CartPole,
which resets on the *next* step call and so wastes one step per episode, a finished copy is reset
within the same call, and the observation it ended on is returned separately as ``next_obs``.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np


class BatchedCartPole:
    """CartPole-v0/v1 for ``num_envs`` copies at once (dynamics of gymnasium's CartPoleEnv)."""

    gravity = 9.8
    masscart = 1.0
    masspole = 0.1
    total_mass = masspole + masscart
    length = 0.5
    polemass_length = masspole * length
    force_mag = 10.0
    tau = 0.02
    theta_threshold = 12 * 2 * math.pi / 360
    x_threshold = 2.4

    def __init__(self, num_envs: int, max_episode_steps: int) -> None:
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        high = np.array(
            [self.x_threshold * 2, np.inf, self.theta_threshold * 2, np.inf], dtype=np.float32
        )
        self.single_observation_space = gym.spaces.Box(-high, high, dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(2)
        self.state = np.zeros((num_envs, 4))
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.rng = np.random.default_rng()

    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state = self.rng.uniform(-0.05, 0.05, size=(self.num_envs, 4))
        self.steps[:] = 0
        return self.state.astype(np.float32)

    def step(self, action: np.ndarray):
        x, x_dot, theta, theta_dot = self.state.T
        force = np.where(np.asarray(action) == 1, self.force_mag, -self.force_mag)
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        temp = (force + self.polemass_length * np.square(theta_dot) * sintheta) / self.total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * np.square(costheta) / self.total_mass)
        )
        xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass
        # Euler integration, in gymnasium's order.
        x = x + self.tau * x_dot
        x_dot = x_dot + self.tau * xacc
        theta = theta + self.tau * theta_dot
        theta_dot = theta_dot + self.tau * thetaacc
        self.state = np.stack((x, x_dot, theta, theta_dot), axis=1)
        terminated = (
            (x < -self.x_threshold)
            | (x > self.x_threshold)
            | (theta < -self.theta_threshold)
            | (theta > self.theta_threshold)
        )
        self.steps += 1
        truncated = self.steps >= self.max_episode_steps
        reward = np.ones(self.num_envs, dtype=np.float32)
        next_obs = self.state.astype(np.float32)
        done = terminated | truncated
        if done.any():
            k = int(done.sum())
            self.state[done] = self.rng.uniform(-0.05, 0.05, size=(k, 4))
            self.steps[done] = 0
            obs = self.state.astype(np.float32)
        else:
            obs = next_obs
        return obs, reward, terminated, truncated, next_obs

    def close(self) -> None:
        pass


# env id -> constructor(num_envs, max_episode_steps)
BATCHED_ENVS = {
    "CartPole-v0": BatchedCartPole,
    "CartPole-v1": BatchedCartPole,
}

"""Numpy-batched classic-control environments with same-step autoreset.

Each class steps all of its copies at once with the exact dynamics of the gymnasium original
(tests/envs/test_classic.py checks them step for step). Unlike gymnasium's vector envs in their
default mode, which reset on the *next* step call and so waste one step per episode, a finished copy
is reset within the same call, and the observation it ended on is returned separately as
``next_obs``. Subclasses give the physics (``_dynamics``), the observation of a state and the
reset distribution; the base class does time limits, autoreset and seeding.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np


class BatchedEnv:
    state_dim: int
    single_observation_space: gym.Space
    single_action_space: gym.Space

    def __init__(self, num_envs: int, max_episode_steps: int) -> None:
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.state = np.zeros((num_envs, self.state_dim))
        self.steps = np.zeros(num_envs, dtype=np.int64)
        self.rng = np.random.default_rng()
        space = self.single_action_space
        self._clip: tuple[np.ndarray, np.ndarray] | None
        self._action_range: tuple[int, int] | None
        if isinstance(space, gym.spaces.Box):
            self._clip = (space.low, space.high)
            self._action_shape: tuple[int, ...] = (num_envs, *space.shape)
            self._action_kinds = "fiu"
            self._action_range = None
        else:
            assert isinstance(space, gym.spaces.Discrete)  # each batched env acts in a Box or a Discrete space
            self._clip = None
            self._action_shape = (num_envs,)  # a Discrete space's shape is ()
            self._action_kinds = "iu"
            # a Discrete(n, start) space's actions lie in [start, start + n)
            self._action_range = (int(space.start), int(space.start + space.n))

    # -- to implement -------------------------------------------------------------------------
    def _initial_states(self, k: int) -> np.ndarray:
        raise NotImplementedError

    def _dynamics(self, state: np.ndarray, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (next_state, reward, terminated) for a batch."""
        raise NotImplementedError

    def _observe(self, state: np.ndarray) -> np.ndarray:
        return state.astype(np.float32)

    # -- the VecEnv interface ---------------------------------------------------------------
    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state = self._initial_states(self.num_envs)
        self.steps[:] = 0
        return self._observe(self.state)

    def step(self, action: np.ndarray):
        action = np.asarray(action)
        self._check_actions(action)
        if self._clip is not None:
            action = np.clip(action, *self._clip)
        self.state, reward, terminated = self._dynamics(self.state, action)
        self.steps += 1
        truncated = self.steps >= self.max_episode_steps
        next_obs = self._observe(self.state)
        done = terminated | truncated
        if done.any():
            self.state[done] = self._initial_states(int(done.sum()))
            self.steps[done] = 0
            obs = self._observe(self.state)
        else:
            obs = next_obs
        return obs, reward.astype(np.float32), terminated, truncated, next_obs

    def close(self) -> None:
        pass

    def _check_actions(self, action: np.ndarray) -> None:
        """Raise ValueError unless ``action`` is one valid action per copy, as gymnasium's
        ``action_space.contains`` would judge it (a Box's bounds excepted: step clips to them).

        Numpy broadcasting would otherwise step a wrongly shaped batch into nonsense states
        without a word. A few whole-array checks, as this runs on every step."""
        if action.shape != self._action_shape or action.dtype.kind not in self._action_kinds:
            kind = "numbers" if self._clip is not None else "integers"
            raise ValueError(
                f"{type(self).__name__}.step needs one {self.single_action_space} action per env: an array of "
                f"{kind} of shape {self._action_shape}, got {action.dtype} of shape {action.shape}"
            )
        if self._action_range is not None:
            low, high = self._action_range
            if action.min() < low or action.max() >= high:
                raise ValueError(
                    f"{type(self).__name__}.step got actions from {action.min()} to {action.max()}; "
                    f"{self.single_action_space} allows {low} to {high - 1}"
                )


class BatchedCartPole(BatchedEnv):
    """CartPole-v0/v1 (gymnasium's CartPoleEnv, Euler integration)."""

    state_dim = 4
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
    _high = np.array([x_threshold * 2, np.inf, theta_threshold * 2, np.inf], dtype=np.float32)
    single_observation_space = gym.spaces.Box(-_high, _high, dtype=np.float32)
    single_action_space = gym.spaces.Discrete(2)

    def _initial_states(self, k):
        return self.rng.uniform(-0.05, 0.05, size=(k, 4))

    def _dynamics(self, state, action):
        x, x_dot, theta, theta_dot = state.T
        force = np.where(action == 1, self.force_mag, -self.force_mag)
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        temp = (force + self.polemass_length * np.square(theta_dot) * sintheta) / self.total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * np.square(costheta) / self.total_mass)
        )
        xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass
        x = x + self.tau * x_dot
        x_dot = x_dot + self.tau * xacc
        theta = theta + self.tau * theta_dot
        theta_dot = theta_dot + self.tau * thetaacc
        terminated = (
            (x < -self.x_threshold) | (x > self.x_threshold)
            | (theta < -self.theta_threshold) | (theta > self.theta_threshold)
        )
        return np.stack((x, x_dot, theta, theta_dot), axis=1), np.ones(len(state)), terminated


class BatchedAcrobot(BatchedEnv):
    """Acrobot-v1 (gymnasium's AcrobotEnv: 'book' dynamics, RK4 over dt = 0.2, no torque noise)."""

    state_dim = 4
    dt = 0.2
    link_length_1 = 1.0
    link_mass_1 = link_mass_2 = 1.0
    link_com_pos_1 = link_com_pos_2 = 0.5
    link_moi = 1.0
    max_vel_1 = 4 * math.pi
    max_vel_2 = 9 * math.pi
    avail_torque = np.array([-1.0, 0.0, 1.0])
    _high = np.array([1.0, 1.0, 1.0, 1.0, max_vel_1, max_vel_2], dtype=np.float32)
    single_observation_space = gym.spaces.Box(-_high, _high, dtype=np.float32)
    single_action_space = gym.spaces.Discrete(3)

    def _initial_states(self, k):
        # gymnasium draws the reset state in float32
        return self.rng.uniform(-0.1, 0.1, size=(k, 4)).astype(np.float32).astype(np.float64)

    def _dsdt(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        m1, m2, l1 = self.link_mass_1, self.link_mass_2, self.link_length_1
        lc1, lc2, I1, I2, g = self.link_com_pos_1, self.link_com_pos_2, self.link_moi, self.link_moi, 9.8
        theta1, theta2, dtheta1, dtheta2 = s.T
        d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * np.cos(theta2)) + I1 + I2
        d2 = m2 * (lc2**2 + l1 * lc2 * np.cos(theta2)) + I2
        phi2 = m2 * lc2 * g * np.cos(theta1 + theta2 - math.pi / 2.0)
        phi1 = (
            -m2 * l1 * lc2 * dtheta2**2 * np.sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * np.sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * np.cos(theta1 - math.pi / 2)
            + phi2
        )
        ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * np.sin(theta2) - phi2) / (
            m2 * lc2**2 + I2 - d2**2 / d1
        )
        ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return np.stack((dtheta1, dtheta2, ddtheta1, ddtheta2), axis=1)

    def _dynamics(self, state, action):
        torque = self.avail_torque[action]
        h = self.dt
        k1 = self._dsdt(state, torque)
        k2 = self._dsdt(state + h / 2 * k1, torque)
        k3 = self._dsdt(state + h / 2 * k2, torque)
        k4 = self._dsdt(state + h * k3, torque)
        ns = state + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        ns[:, 0] = _wrap(ns[:, 0])
        ns[:, 1] = _wrap(ns[:, 1])
        ns[:, 2] = np.clip(ns[:, 2], -self.max_vel_1, self.max_vel_1)
        ns[:, 3] = np.clip(ns[:, 3], -self.max_vel_2, self.max_vel_2)
        terminated = -np.cos(ns[:, 0]) - np.cos(ns[:, 1] + ns[:, 0]) > 1.0
        return ns, np.where(terminated, 0.0, -1.0), terminated

    def _observe(self, s):
        return np.stack(
            (np.cos(s[:, 0]), np.sin(s[:, 0]), np.cos(s[:, 1]), np.sin(s[:, 1]), s[:, 2], s[:, 3]), axis=1
        ).astype(np.float32)


def _wrap(x: np.ndarray) -> np.ndarray:
    """gymnasium's acrobot ``wrap`` into [-pi, pi] (by whole turns, keeping the endpoints)."""
    diff = 2 * math.pi
    x = np.where(x > math.pi, x - diff * np.ceil((x - math.pi) / diff), x)
    return np.where(x < -math.pi, x + diff * np.ceil((-math.pi - x) / diff), x)


class BatchedPendulum(BatchedEnv):
    """Pendulum-v1 (gymnasium's PendulumEnv, g = 10)."""

    state_dim = 2
    max_speed = 8.0
    max_torque = 2.0
    dt = 0.05
    g = 10.0
    m = 1.0
    l = 1.0  # noqa: E741
    single_observation_space = gym.spaces.Box(
        -np.array([1.0, 1.0, max_speed], np.float32), np.array([1.0, 1.0, max_speed], np.float32), dtype=np.float32
    )
    single_action_space = gym.spaces.Box(-max_torque, max_torque, (1,), np.float32)

    def _initial_states(self, k):
        high = np.array([math.pi, 1.0])
        return self.rng.uniform(-high, high, size=(k, 2))

    def _dynamics(self, state, action):
        th, thdot = state.T
        u = action.reshape(len(state), -1)[:, 0].astype(np.float32)
        th_norm = ((th + np.pi) % (2 * np.pi)) - np.pi
        costs = th_norm**2 + 0.1 * thdot**2 + 0.001 * (u**2)
        newthdot = thdot + (3 * self.g / (2 * self.l) * np.sin(th) + 3.0 / (self.m * self.l**2) * u) * self.dt
        newthdot = np.clip(newthdot, -self.max_speed, self.max_speed)
        newth = th + newthdot * self.dt
        return np.stack((newth, newthdot), axis=1), -costs, np.zeros(len(state), bool)

    def _observe(self, s):
        return np.stack((np.cos(s[:, 0]), np.sin(s[:, 0]), s[:, 1]), axis=1).astype(np.float32)


class BatchedMountainCar(BatchedEnv):
    """MountainCar-v0 (gymnasium's MountainCarEnv)."""

    state_dim = 2
    min_position, max_position, max_speed, goal_position = -1.2, 0.6, 0.07, 0.5
    force, gravity = 0.001, 0.0025
    single_observation_space = gym.spaces.Box(
        np.array([min_position, -max_speed], np.float32), np.array([max_position, max_speed], np.float32), dtype=np.float32
    )
    single_action_space = gym.spaces.Discrete(3)

    def _initial_states(self, k):
        return np.stack((self.rng.uniform(-0.6, -0.4, size=k), np.zeros(k)), axis=1)

    def _dynamics(self, state, action):
        position, velocity = state.T
        velocity = velocity + (action - 1) * self.force + np.cos(3 * position) * (-self.gravity)
        velocity = np.clip(velocity, -self.max_speed, self.max_speed)
        position = np.clip(position + velocity, self.min_position, self.max_position)
        velocity = np.where((position == self.min_position) & (velocity < 0), 0.0, velocity)
        terminated = (position >= self.goal_position) & (velocity >= 0)
        return np.stack((position, velocity), axis=1), -np.ones(len(state)), terminated


# env id -> constructor(num_envs, max_episode_steps)
BATCHED_ENVS: dict[str, type[BatchedEnv]] = {
    "CartPole-v0": BatchedCartPole,
    "CartPole-v1": BatchedCartPole,
    "Acrobot-v1": BatchedAcrobot,
    "Pendulum-v1": BatchedPendulum,
    "MountainCar-v0": BatchedMountainCar,
}

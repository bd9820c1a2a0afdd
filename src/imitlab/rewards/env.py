"""A vector env whose rewards are a learned reward's: what ``imitlab train rl --reward`` trains on.

The learner sees only the learned reward; the env's own reward is dropped here. Evaluations make
their own envs, so returns and normalized scores stay the env's true ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imitlab.envs.vector import VecEnv, make_vec_env
from imitlab.rewards import LoadedReward


class LearnedRewardVecEnv:
    """``venv`` with each step's reward replaced by ``reward(s, a)`` at the state the action was
    taken in, plus, at a true termination, the discounted return of the absorbing state that
    follows it (``reward.terminal_bonus(gamma)``; 0 for a reward learned without absorbing states)."""

    def __init__(self, venv: VecEnv, reward: LoadedReward, *, gamma: float) -> None:
        self.venv = venv
        self.reward = reward
        self.num_envs = venv.num_envs
        self.single_observation_space = venv.single_observation_space
        self.single_action_space = venv.single_action_space
        self.bonus = reward.terminal_bonus(gamma)
        self._obs: np.ndarray | None = None

    def reset(self, seed: int | None = None) -> np.ndarray:
        self._obs = self.venv.reset(seed=seed)
        return self._obs

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._obs is None:
            raise RuntimeError("reset() the env before step()")
        rewards = self.reward(self._obs, actions)
        obs, _, terminated, truncated, next_obs = self.venv.step(actions)
        if self.bonus:
            rewards = rewards + self.bonus * terminated
        self._obs = obs
        return obs, rewards.astype(np.float32), terminated, truncated, next_obs

    def close(self) -> None:
        self.venv.close()

    def __getattr__(self, name: str) -> Any:
        # Anything else (a numpy-batched env's state) is the wrapped env's.
        return getattr(self.venv, name)


def learner_env(env_id: str, num_envs: int, reward: LoadedReward | None, *, gamma: float) -> VecEnv:
    """The vector env a learner trains in: ``env_id``'s, with its rewards replaced by ``reward``'s
    where one is given (:class:`~imitlab.rewards.env.LearnedRewardVecEnv`)."""
    venv = make_vec_env(env_id, num_envs)
    if reward is None:
        return venv
    return LearnedRewardVecEnv(venv, reward, gamma=gamma)


def reward_record(reward: LoadedReward | None) -> dict[str, Any]:
    """What a run's config.json records of the learned reward it trained on (nothing without one)."""
    if reward is None:
        return {}
    return {"reward": {"path": reward.meta.get("path"), "algo": reward.meta.get("extra", {}).get("algo"),
                       "env_id": reward.env_id, "env_kwargs": reward.env_kwargs, "state_only": reward.state_only}}

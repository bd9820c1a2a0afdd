"""Environments with Dict or Tuple observations: the layout each env records, and a small
goal-conditioned env to test them on.

imitlab's networks observe a flat Box. An env whose observation space is a Dict or a (nested)
Tuple is stepped flattened (:func:`imitlab.envs.vector.make_vec_env` wraps it in gymnasium's
``FlattenObservation``: leaves in the space's order, a Discrete leaf one-hot), and its layout
(:func:`~imitlab.envs.spaces.describe_layout` of the structured space) is recorded in demo and
policy files, so that a saved policy can take the structured observation back
(:func:`~imitlab.envs.spaces.flatten_observations`) and exports can rebuild it
(:func:`~imitlab.envs.spaces.unflatten_observations`).

``imitlab/PointGoal-v0`` is a goal-conditioned point (observations ``{"achieved_goal",
"desired_goal", "observation"}`` as gymnasium-robotics' GoalEnv gives them) and
``imitlab/PointGoalNested-v0`` the same with a nested Tuple holding a Discrete leaf; both have a
scripted expert, :func:`point_goal_expert`.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from imitlab.envs.classic import BATCHED_ENVS
from imitlab.envs.spaces import describe_layout, is_structured, unflatten_observations
from imitlab.errors import UserError


def _active_kwargs(env_id: str) -> dict[str, Any]:
    """The keyword arguments imitlab makes ``env_id`` with now (``--env-kwargs``), if any."""
    try:
        from imitlab.envs.vector import active_env_kwargs
    except ImportError:  # an imitlab whose vector envs take no env kwargs
        return {}
    return dict(active_env_kwargs(env_id))


def _raw_spaces(env_id: str) -> tuple[gym.Space, gym.Space]:
    """Observation and action space of ``gym.make(env_id)`` (with the active env kwargs), unflattened."""
    from imitlab.envs.vector import check_env_id

    check_env_id(env_id)
    return _made_spaces(env_id, json.dumps(_active_kwargs(env_id), sort_keys=True))


@functools.lru_cache(maxsize=64)
def _made_spaces(env_id: str, kwargs_json: str) -> tuple[gym.Space, gym.Space]:
    try:
        env = gym.make(env_id, **json.loads(kwargs_json))
    except gym.error.DependencyNotInstalled as e:
        raise UserError(f"{env_id} needs a missing dependency: {e}") from None
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()


def _layout(env_id: str) -> dict[str, Any] | None:
    if env_id in BATCHED_ENVS and not _active_kwargs(env_id):  # imitlab's numpy classic envs: Box observations
        return None
    space = _raw_spaces(env_id)[0]
    return describe_layout(space) if is_structured(space) else None


def observation_layout(env_id: str, *, strict: bool = True) -> dict[str, Any] | None:
    """The layout (:func:`~imitlab.envs.spaces.describe_layout`) of ``env_id``'s observations when
    they are a Dict or Tuple, else None. Makes the env once per process.

    With ``strict=False`` an env id that is not registered, or an env that cannot be made, gives
    None instead of a UserError (for writers that only add the layout when there is one)."""
    if not strict:
        try:
            return copy.deepcopy(_layout(env_id))
        except (UserError, gym.error.Error):
            return None
    return copy.deepcopy(_layout(env_id))


def env_spaces_with_layout(env_id: str) -> tuple[gym.Space, gym.Space, dict[str, Any] | None]:
    """``(observation space as imitlab's networks see it (flat), action space, layout or None)``."""
    from imitlab.envs.vector import env_spaces

    obs_space, act_space = env_spaces(env_id)
    if is_structured(obs_space):  # a vector env that does not flatten: flatten here
        return gym.spaces.flatten_space(obs_space), act_space, describe_layout(obs_space)
    return obs_space, act_space, observation_layout(env_id)


# ----------------------------------------------------------------------- a goal-conditioned point
class PointGoalEnv(gym.Env):
    """A point in [-1, 1]^2 that moves by ``0.1 * action`` (action in [-1, 1]^2) towards a goal.

    Both are drawn uniformly at reset. Reward -1 per step; the episode terminates (reward 0 on
    that step) when the point is within 0.1 of the goal. Observations are a Dict in the GoalEnv
    convention: ``achieved_goal`` (the point), ``desired_goal``, ``observation`` (the point again;
    with ``nested``, the tuple (point, quadrant of the goal seen from the point) with the quadrant a
    Discrete(4)). The scripted expert (:func:`point_goal_expert`) reaches a goal in at most 20 steps.
    """

    metadata: dict[str, Any] = {"render_modes": []}
    STEP = 0.1
    RADIUS = 0.1

    def __init__(self, nested: bool = False) -> None:
        self.nested = nested
        point = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        inner: gym.Space = gym.spaces.Tuple((point, gym.spaces.Discrete(4))) if nested else point
        self.observation_space = gym.spaces.Dict({"achieved_goal": point, "desired_goal": point, "observation": inner})
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._pos = np.zeros(2, np.float32)
        self._goal = np.zeros(2, np.float32)

    def _obs(self) -> dict[str, Any]:
        pos, goal = self._pos.copy(), self._goal.copy()
        inner: Any = pos.copy()
        if self.nested:
            d = goal - pos
            inner = (pos.copy(), int(d[0] >= 0) + 2 * int(d[1] >= 0))
        return {"achieved_goal": pos, "desired_goal": goal, "observation": inner}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._pos = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        self._goal = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return self._obs(), {}

    def step(self, action):
        a = np.clip(np.asarray(action, dtype=np.float32).reshape(2), -1.0, 1.0)
        self._pos = np.clip(self._pos + np.float32(self.STEP) * a, -1.0, 1.0).astype(np.float32)
        reached = bool(np.linalg.norm(self._goal - self._pos) < self.RADIUS)
        return self._obs(), 0.0 if reached else -1.0, reached, False, {"is_success": reached}


POINT_GOAL_ID = "imitlab/PointGoal-v0"
POINT_GOAL_NESTED_ID = "imitlab/PointGoalNested-v0"


def register_envs() -> None:
    """Register ``imitlab/PointGoal-v0`` and ``imitlab/PointGoalNested-v0`` (50-step time limit)."""
    for env_id, kwargs in ((POINT_GOAL_ID, {}), (POINT_GOAL_NESTED_ID, {"nested": True})):
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point="imitlab.envs.dict_obs:PointGoalEnv", max_episode_steps=50, kwargs=kwargs)


register_envs()


def point_goal_expert(obs: Any, *, env_id: str = POINT_GOAL_ID) -> np.ndarray:
    """The scripted expert of :class:`PointGoalEnv`: full speed along each axis towards the goal,
    slowing on the last step. Takes a batch of dict observations or of flat ones (as imitlab's
    vector envs give them), returns actions [B, 2]."""
    if not isinstance(obs, Mapping):
        layout = observation_layout(env_id)
        assert layout is not None
        obs = unflatten_observations(layout, np.asarray(obs).reshape(len(obs), -1))
    delta = np.asarray(obs["desired_goal"], np.float32) - np.asarray(obs["achieved_goal"], np.float32)
    return np.clip(delta / PointGoalEnv.STEP, -1.0, 1.0).astype(np.float32).reshape(-1, 2)


def point_goal_expert_for(env_id: str) -> Callable[[Any], np.ndarray]:
    """:func:`point_goal_expert` for flat observations of ``env_id`` (either PointGoal id)."""
    return functools.partial(point_goal_expert, env_id=env_id)

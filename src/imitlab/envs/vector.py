"""One vector-env interface for every environment, with same-step autoreset.

``step(actions)`` returns ``(obs, reward, terminated, truncated, next_obs)``: ``obs`` is what the
policy acts on next (already reset where an episode ended) and ``next_obs`` is the observation each
transition really led to (the final observation where an episode ended). So a transition is always
``(obs_t, act_t, rew_t, next_obs_t)`` with no dummy reset steps, and bootstrapping at a time-limit
truncation uses the true final state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from imitlab.envs.classic import BATCHED_ENVS
from imitlab.errors import UserError


class VecEnv(Protocol):
    num_envs: int
    single_observation_space: gym.Space
    single_action_space: gym.Space

    def reset(self, seed: int | None = None) -> np.ndarray: ...

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...

    def close(self) -> None: ...


class RestorableVecEnv(VecEnv, Protocol):
    """A :class:`VecEnv` whose internal state can be read and set (imitlab's numpy-batched envs).

    ``state`` is [num_envs, state_dim], ``steps`` each copy's steps into its episode, and
    ``max_episode_steps`` the time limit that truncates an episode.
    """

    state: np.ndarray
    steps: np.ndarray
    max_episode_steps: int


def check_env_id(env_id: str) -> gym.envs.registration.EnvSpec:
    """Return the gymnasium spec of ``env_id`` or raise a UserError that says what to do."""
    try:
        return gym.spec(env_id)
    except gym.error.Error as e:
        raise UserError(
            f"unknown environment {env_id!r} ({e}); use a registered gymnasium id such as "
            "CartPole-v1, and install the extra that provides it (e.g. pip install 'imitlab[box2d]')"
        ) from None


_ENV_KWARGS: dict[str, dict[str, Any]] = {}

DEFAULT_TIME_LIMITS: dict[str, int] = {"CliffWalking-v1": 200}
"""Time limits for envs that gymnasium registers without one: an episode of a policy that never
reaches CliffWalking's goal would otherwise never end (a random walk takes ~6,000 steps), and
evaluations, roll-outs and demos all need episodes that end."""


def time_limit(env_id: str) -> int | None:
    """The steps after which imitlab truncates an episode of ``env_id``: gymnasium's registered
    limit, else :data:`DEFAULT_TIME_LIMITS`'s (None: none)."""
    registered = check_env_id(env_id).max_episode_steps
    return registered if registered is not None else DEFAULT_TIME_LIMITS.get(env_id)


@contextmanager
def env_kwargs(env_id: str, kwargs: dict[str, Any] | None) -> Iterator[None]:
    """Within this block, every env of ``env_id`` that imitlab makes is made with ``kwargs``
    (``gym.make(env_id, **kwargs)``: Pendulum-v1's ``g``, LunarLander-v3's ``enable_wind``, a MuJoCo
    env's ``xml_file`` ...), and run directories record them in ``config.json``. The CLI's
    ``--env-kwargs`` opens one around its command, so that every part of a run (sampling,
    evaluation, the spaces of its files) sees the same env. Empty or None: the env as registered."""
    kwargs = dict(kwargs or {})
    before = _ENV_KWARGS.get(env_id)
    if kwargs:
        _ENV_KWARGS[env_id] = kwargs
    else:
        _ENV_KWARGS.pop(env_id, None)
    try:
        yield
    finally:
        if before is None:
            _ENV_KWARGS.pop(env_id, None)
        else:
            _ENV_KWARGS[env_id] = before


def active_env_kwargs(env_id: str) -> dict[str, Any]:
    """The keyword arguments ``env_id`` is made with now (:func:`env_kwargs`; empty: as registered)."""
    return dict(_ENV_KWARGS.get(env_id, {}))


def parse_env_kwargs(text: str | None) -> dict[str, Any]:
    """``--env-kwargs``: a JSON object of keyword arguments (``'{"g": 15.0}'``); a UserError otherwise."""
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UserError(f"--env-kwargs {text!r} is not valid JSON ({e.msg} at character {e.pos}); "
                        """write a JSON object, e.g. --env-kwargs '{"g": 15.0}'""") from None
    if not isinstance(value, dict):
        raise UserError(f"--env-kwargs {text!r} is a JSON {type(value).__name__}, not an object of keyword arguments; "
                        """write e.g. --env-kwargs '{"g": 15.0}'""")
    return value


def physics_engine(env_id: str) -> str:
    """What simulates ``env_id``: ``"numpy"`` for imitlab's numpy-batched classic envs (their
    arithmetic replays bit for bit on any CPU), ``"Box2D"`` or ``"mujoco"`` for gymnasium's
    physics-engine families (chaotic: another CPU or release gives other trajectories), else the
    module of the env's entry point."""
    if env_id in BATCHED_ENVS:
        return "numpy"
    entry = check_env_id(env_id).entry_point
    entry = entry if isinstance(entry, str) else getattr(entry, "__module__", "")
    for key, name in ((".box2d", "Box2D"), (".mujoco", "mujoco")):
        if key in entry:
            return name
    return entry.split(":")[0]


class GymVecEnv:
    """Adapter over gymnasium's SyncVectorEnv in same-step autoreset mode."""

    def __init__(self, env_id: str, num_envs: int, **make_kwargs) -> None:
        if check_env_id(env_id).max_episode_steps is None and env_id in DEFAULT_TIME_LIMITS:
            make_kwargs = {"max_episode_steps": DEFAULT_TIME_LIMITS[env_id], **make_kwargs}
        self.env = self._make(env_id, num_envs, make_kwargs, wrappers=None)
        if not isinstance(self.env.single_observation_space, gym.spaces.Box):
            # Discrete (FrozenLake's cell index: one-hot) and Dict / Tuple observations are flattened
            # to the Box that imitlab's networks observe (gymnasium's flatten_space layout).
            self.env.close()
            self.env = self._make(env_id, num_envs, make_kwargs, wrappers=[gym.wrappers.FlattenObservation])
        self.num_envs = num_envs
        self.single_observation_space = self.env.single_observation_space
        self.single_action_space = self.env.single_action_space
        space = self.single_action_space
        self._clip = (space.low, space.high) if isinstance(space, gym.spaces.Box) else None

    @staticmethod
    def _make(env_id: str, num_envs: int, make_kwargs: dict[str, Any], wrappers: list | None) -> gym.vector.VectorEnv:
        try:
            return gym.make_vec(
                env_id,
                num_envs=num_envs,
                vectorization_mode="sync",
                vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
                wrappers=wrappers,
                **make_kwargs,
            )
        except gym.error.DependencyNotInstalled as e:
            extra = "mujoco" if "mujoco" in str(e).lower() else "box2d" if "box2d" in str(e).lower() else None
            fix = f"; pip install 'imitlab[{extra}]' installs it" if extra else ""
            raise UserError(f"{env_id} needs a missing dependency: {e}{fix}") from None
        except TypeError as e:
            if not make_kwargs:
                raise
            raise UserError(f"{env_id} does not take the env kwargs {make_kwargs} ({' '.join(str(e).split())}); "
                            "check --env-kwargs against the env's constructor") from None

    def reset(self, seed: int | None = None) -> np.ndarray:
        obs, _ = self.env.reset(seed=seed)
        return obs.astype(np.float32, copy=False)

    def step(self, actions: np.ndarray):
        if self._clip is not None:
            actions = np.clip(actions, *self._clip)
        obs, rew, term, trunc, info = self.env.step(actions)
        obs = obs.astype(np.float32, copy=False)  # MuJoCo observes in float64; networks work in float32
        next_obs = obs
        if "_final_obs" in info:
            mask = info["_final_obs"]
            if mask.any():
                next_obs = obs.copy()
                next_obs[mask] = np.stack(info["final_obs"][mask]).astype(np.float32)
        return obs, rew.astype(np.float32), term, trunc, next_obs

    def close(self) -> None:
        self.env.close()


def make_vec_env(env_id: str, num_envs: int, *, backend: str = "auto") -> VecEnv:
    """Make ``num_envs`` copies of ``env_id`` behind the same-step :class:`VecEnv` interface.

    Args:
        env_id: a gymnasium id.
        num_envs: number of parallel copies (stepped in this process).
        backend: ``"auto"`` uses imitlab's numpy-batched version where one exists (the classic
            control tasks in ``imitlab.envs.classic.BATCHED_ENVS``: CartPole, Acrobot, Pendulum,
            MountainCar), else gymnasium's SyncVectorEnv; ``"gymnasium"`` forces the latter.

    Inside :func:`env_kwargs` for ``env_id``, the envs are gymnasium's, made with those keyword
    arguments. Observations that are not a Box (Discrete, Dict, Tuple) are flattened to one.
    """
    spec = check_env_id(env_id)
    if num_envs < 1:
        raise UserError(f"num_envs must be positive, got {num_envs}")
    kwargs = active_env_kwargs(env_id)
    if backend == "auto" and env_id in BATCHED_ENVS and not kwargs:
        # gymnasium registers every classic-control id with a time limit
        assert spec.max_episode_steps is not None
        return BATCHED_ENVS[env_id](num_envs, spec.max_episode_steps)
    if backend not in ("auto", "gymnasium"):
        raise UserError(f"unknown backend {backend!r}; use 'auto' or 'gymnasium'")
    return GymVecEnv(env_id, num_envs, **kwargs)


def env_spaces(env_id: str) -> tuple[gym.Space, gym.Space]:
    """Observation and action space of one copy of ``env_id``."""
    venv = make_vec_env(env_id, 1)
    spaces = venv.single_observation_space, venv.single_action_space
    venv.close()
    return spaces

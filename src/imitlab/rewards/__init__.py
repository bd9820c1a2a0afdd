"""Learned rewards as artifacts: ``reward.pt`` beside ``policy.pt`` in every IRL run.

A learned reward is an ``nn.Module`` of one of the kinds in :data:`REWARD_KINDS` (the
:class:`LearnedReward` protocol): AIRL's network g(s) or g(s, a) (``"mlp"``), apprenticeship
learning's linear w . phi(s) (``"linear"``), maximum-entropy IRL's table (``"tabular"``).
Each maps a batch of observations (and actions) to rewards [B]; each records the constructor
arguments that rebuild it (``config()``) and whether it reads the state alone (``state_only``).

The file holds only tensors and plain values (it loads with ``weights_only=True``): the env id and
the env kwargs it was learned under, the observation and action spaces, the kind and its config,
the weights, and optionally the reward of the absorbing state that follows a true termination
(rewards learned with absorbing states: a return that stops at a termination counts
``gamma / (1 - gamma)`` of it, as during training).
"""

from __future__ import annotations

import importlib
import math
import os
import warnings
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
import torch

from imitlab.envs.spaces import describe_space, space_differences
from imitlab.errors import UserError
from imitlab.utils import atomic_torch_save

REWARD_FORMAT = "imitlab-reward"
REWARD_VERSION = 1

REWARD_KINDS: dict[str, str] = {
    "mlp": "imitlab.rewards.nets:RewardNet",
    "linear": "imitlab.rewards.linear:LinearReward",
    "tabular": "imitlab.rewards.tabular:TabularReward",
}
"""Each reward kind's class, as ``"module:Class"`` (imported when a file of that kind is read)."""

_RESAVE = "give the reward.pt of an imitlab IRL run (airl, apprenticeship, maxent-irl, iq-learn) or its run directory"


@runtime_checkable
class LearnedReward(Protocol):
    """What every reward kind is: an ``nn.Module`` built as ``cls(obs_space, act_space, **config())``."""

    state_only: bool
    """It reads the state alone (actions are ignored): such a reward may transfer to changed dynamics."""

    def __call__(self, obs: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
        """Rewards [B] of observations [B, *obs_shape] and actions [B, *act_shape]."""
        ...

    def config(self) -> dict[str, Any]:
        """The constructor's keyword arguments besides the spaces, as plain values."""
        ...

    def state_dict(self) -> dict[str, Any]: ...


def reward_class(kind: str) -> type:
    """The class of reward kind ``kind``."""
    module, _, name = REWARD_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def save_reward(
    reward: Any,
    path: str | os.PathLike,
    *,
    env_id: str,
    obs_space: gym.Space,
    act_space: gym.Space,
    env_kwargs: dict[str, Any] | None = None,
    absorbing_reward: float | None = None,
    gamma: float | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write ``reward`` (a :class:`LearnedReward`) to ``path`` atomically, loadable without unpickling.

    Args:
        reward: the learned reward module.
        path: where to write (``reward.pt`` in a run directory).
        env_id: the env it was learned on; ``env_kwargs`` the keyword arguments that env was made with.
        obs_space, act_space: the spaces its inputs come from.
        absorbing_reward: the reward of the absorbing state after a true termination (None: none learned).
        gamma: the discount it was learned with (the absorbing tail's).
        extra: plain values to keep with it (the algorithm, the seed, its correlation with the true reward).
    """
    kind = next((k for k in REWARD_KINDS if reward_class(k) is type(reward)), None)
    if kind is None:
        raise TypeError(f"{type(reward).__name__} is not a reward kind of imitlab.rewards.REWARD_KINDS")
    payload = {
        "format": REWARD_FORMAT,
        "version": REWARD_VERSION,
        "env_id": env_id,
        "env_kwargs": dict(env_kwargs or {}),
        "kind": kind,
        "obs_space": describe_space(obs_space),
        "act_space": describe_space(act_space),
        "state_only": bool(reward.state_only),
        "config": reward.config(),
        "absorbing_reward": None if absorbing_reward is None else float(absorbing_reward),
        "gamma": None if gamma is None else float(gamma),
        "state_dict": {k: v.detach().clone() for k, v in reward.state_dict().items()},
        "extra": extra or {},
    }
    atomic_torch_save(payload, path)


class LoadedReward:
    """A reward read from a file: the module, and what the file says of it."""

    def __init__(self, module: Any, meta: dict[str, Any]) -> None:
        self.module = module
        self.meta = meta
        self.env_id: str = meta["env_id"]
        self.env_kwargs: dict[str, Any] = meta["env_kwargs"]
        self.state_only: bool = meta["state_only"]
        self.absorbing_reward: float | None = meta["absorbing_reward"]
        self.gamma: float | None = meta["gamma"]

    @torch.no_grad()
    def __call__(self, obs: np.ndarray, acts: np.ndarray) -> np.ndarray:
        """Rewards [B] (float64) of a batch of observations and actions (numpy in, numpy out)."""
        return reward_values(self.module, obs, acts)

    def terminal_bonus(self, gamma: float) -> float:
        """What a true termination adds to its step's reward: the discounted return of staying in
        the absorbing state forever, ``gamma / (1 - gamma) * r_absorbing`` (0 without one)."""
        if self.absorbing_reward is None:
            return 0.0
        return gamma / (1.0 - gamma) * self.absorbing_reward

    def check_env(self, env_id: str) -> None:
        """A UserError where the reward meets an env it was not made for (another env id, other
        spaces); a warning where the env's kwargs differ from those it was learned under (re-optimising
        a reward under changed dynamics is what transfer means, so that is allowed, and said)."""
        from imitlab.envs.vector import active_env_kwargs, env_spaces

        where = f"reward {self.meta['path']!r}" if "path" in self.meta else "the reward"
        if env_id != self.env_id:
            raise UserError(f"{where} was learned on {self.env_id}, not {env_id}; pass --env {self.env_id}")
        obs_space, act_space = env_spaces(env_id)
        problems = (space_differences(self.meta["obs_space"], describe_space(obs_space), name="observation")
                    + space_differences(self.meta["act_space"], describe_space(act_space), name="action"))
        if problems:
            raise UserError(f"{where} was learned on an env whose spaces differ from this {env_id}'s "
                            f"({'; '.join(problems)}); learn a reward on this env")
        now = active_env_kwargs(env_id)
        if now != self.env_kwargs:
            warnings.warn(f"{where} was learned on {env_id} with env kwargs {self.env_kwargs or 'none'}; "
                          f"it is used here with {now or 'none'} (reward transfer)", stacklevel=2)


def reward_values(reward: Any, obs: np.ndarray, acts: np.ndarray) -> np.ndarray:
    """``reward``'s values [B] (float64) at numpy observations and actions."""
    with torch.no_grad():
        o = torch.as_tensor(np.asarray(obs), dtype=torch.float32)
        a = np.asarray(acts)
        a_t = torch.as_tensor(a, dtype=torch.float32) if np.issubdtype(a.dtype, np.floating) else torch.as_tensor(a)
        return reward(o, a_t).double().numpy()


def load_reward(path: str | os.PathLike) -> LoadedReward:
    """Load a reward saved by :func:`save_reward` (a run directory: its ``reward.pt``).

    A damaged or foreign file (not a reward file, fields missing or of the wrong kind, weights that
    do not fit the network it declares, nan/inf weights, pickled objects) is a :class:`UserError`
    naming the problem; nothing but tensors and plain values is unpickled.
    """
    from imitlab.policies import _network_spaces, load_checked_weights, read_torch_file

    path = Path(path)
    if path.is_dir():
        if not (path / "reward.pt").is_file() and (path / "policy.pt").is_file():
            raise UserError(f"run directory {str(path)!r} has no reward.pt: only IRL runs (airl, apprenticeship, "
                            "maxent-irl, iq-learn) learn a reward; GAIL's discriminator is not one")
        path = path / "reward.pt"
    if not path.is_file():
        raise UserError(f"reward file {str(path)!r} not found; {_RESAVE}")
    where = f"reward file {str(path)!r}"
    payload = read_torch_file(path, "reward file", _RESAVE)
    if not isinstance(payload, dict) or payload.get("format") != REWARD_FORMAT:
        raise UserError(f"{str(path)!r} is not an imitlab reward file; {_RESAVE}")
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UserError(f"{where} has format version {version!r}, not a whole number; {_RESAVE}")
    if version > REWARD_VERSION:
        raise UserError(f"{where} was written by a newer imitlab (format version {version}); upgrade imitlab")
    for key, kinds, what in (("env_id", (str,), "an env id"), ("env_kwargs", (dict,), "a dict"), ("config", (dict,), "a dict"),
                             ("extra", (dict,), "a dict"), ("state_only", (bool,), "true or false")):
        if not isinstance(payload.get(key), kinds):
            raise UserError(f"{where} has {key}={payload.get(key)!r}, not {what}; {_RESAVE}")
    for key in ("absorbing_reward", "gamma"):
        value = payload.get(key)
        if value is not None and (not isinstance(value, float | int) or isinstance(value, bool) or not math.isfinite(value)):
            raise UserError(f"{where} has {key}={value!r}, not a finite number; {_RESAVE}")
    gamma = payload.get("gamma")
    if gamma is not None and not 0 <= gamma < 1:
        raise UserError(f"{where} has gamma={gamma!r}, outside [0, 1); {_RESAVE}")
    kind = payload.get("kind")
    if kind not in REWARD_KINDS:
        raise UserError(f"{where} holds an unknown reward kind {kind!r} (known: {', '.join(REWARD_KINDS)}); {_RESAVE}")
    obs_space, act_space = _network_spaces(payload, where, _RESAVE)
    cls = reward_class(kind)
    config = payload["config"]
    check = getattr(cls, "check_config", None)
    if check is not None:
        problem = check(config)
        if problem:
            raise UserError(f"{where}: its {kind} reward's config {problem}; {_RESAVE}")
    module = load_checked_weights(lambda: cls(obs_space, act_space, **config), payload.get("state_dict"),
                                  f"{where} ({kind} reward)", _RESAVE)
    if bool(module.state_only) != payload["state_only"]:
        raise UserError(f"{where} says state_only={payload['state_only']}, but its {kind} reward "
                        f"{'reads the state alone' if module.state_only else 'reads actions'}; {_RESAVE}")
    module.eval()
    meta = {k: v for k, v in payload.items() if k != "state_dict"}
    meta["path"] = str(path)
    return LoadedReward(module, meta)


__all__ = ["REWARD_KINDS", "LearnedReward", "LoadedReward", "load_reward", "reward_class", "reward_values", "save_reward"]

"""Experts: anything that maps a batch of observations to a batch of actions.

The :class:`Expert` protocol asks only for ``act(obs) -> actions``; a plain callable
``obs -> actions`` is accepted wherever an expert is. :func:`load_expert` resolves what a user
names on the command line: ``zoo`` (the expert shipped for the env) or a policy file / run dir.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from imitlab.envs.spaces import describe_space, same_space, space_summary
from imitlab.envs.vector import env_spaces
from imitlab.errors import UserError
from imitlab.policies import load_policy


@runtime_checkable
class Expert(Protocol):
    def act(self, obs: np.ndarray) -> np.ndarray: ...


class CallableExpert:
    """Wraps a function ``obs_batch -> action_batch`` as an :class:`Expert`."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.fn = fn

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(obs))


def as_expert(obj: Expert | Callable[[np.ndarray], np.ndarray]) -> Expert:
    """Accept an Expert (anything with ``act``) or a plain callable."""
    if isinstance(obj, Expert):
        return obj
    if callable(obj):
        return CallableExpert(obj)
    raise UserError(f"an expert must have act(obs) or be callable, got {type(obj).__name__}")


def zoo_path(env_id: str) -> Path:
    """Path of the expert shipped for ``env_id``; a UserError if there is none."""
    path = Path(str(resources.files("imitlab.experts") / "zoo" / f"{env_id}.pt"))
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.pt"))
        raise UserError(f"no shipped expert for {env_id}; the zoo has: {', '.join(available) or 'none'}")
    return path


def load_expert(spec: str | os.PathLike, env_id: str) -> Expert:
    """Load the expert named by ``spec`` (``"zoo"`` or a policy path) and check it fits ``env_id``."""
    path = zoo_path(env_id) if str(spec) == "zoo" else Path(spec)
    policy, meta = load_policy(path)
    obs_space, act_space = env_spaces(env_id)
    if not (same_space(meta["obs_space"], describe_space(obs_space)) and same_space(meta["act_space"], describe_space(act_space))):
        raise UserError(
            f"expert {str(path)!r} was made for {meta.get('env_id')} ({space_summary(meta['obs_space'])}, "
            f"{space_summary(meta['act_space'])}), which does not fit {env_id}"
        )
    return policy

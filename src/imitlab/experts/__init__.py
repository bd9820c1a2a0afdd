"""Experts: anything that maps a batch of observations to a batch of actions, and, where it has a
critic, the action values Q*(s, a) that AggreVaTeD learns from.

The :class:`Expert` protocol asks only for ``act(obs) -> actions``; a plain callable
``obs -> actions`` is accepted wherever an expert is. A :class:`QExpert` adds ``q(obs, act)`` and,
for discrete actions, ``q_values(obs)`` (Q* for every action), all on numpy batches.

:func:`load_expert` resolves what a user names on the command line:

- ``zoo``: the expert shipped for the env (``zoo/ENV.pt``); for an env with tabular dynamics and
  no shipped file, the exact optimal expert (``optimal``);
- ``optimal``: the exact optimal policy by value iteration, for envs with tabular dynamics
  (FrozenLake-v1, CliffWalking-v1, GridWorld-v0, Taxi);
- ``zoo:ALGO``: the shipped expert trained by ALGO (``zoo/ENV.ALGO.pt``, or ``zoo/ENV.pt`` when
  that one was made by ALGO), e.g. ``zoo:dqn`` for CartPole-v1's DQN expert with its Q;
- ``sb3:PATH``: a Stable-Baselines3 zip (see :mod:`imitlab.experts.sb3`; needs ``imitlab[sb3]``);
- a policy file or run directory. A file whose policy is a DQN's :class:`~imitlab.policies.QPolicy`
  or that has a ``critic`` section (a SAC's :class:`~imitlab.critics.TwinQ`) loads as a
  :class:`PolicyExpert` with its Q; any other as the policy itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

import numpy as np
import torch

from imitlab.envs.spaces import describe_space, same_space, space_summary
from imitlab.envs.vector import env_spaces
from imitlab.errors import UserError
from imitlab.policies import Policy, QPolicy, load_policy

if TYPE_CHECKING:
    from imitlab.critics import TwinQ, TwinQDiscrete


@runtime_checkable
class Expert(Protocol):
    def act(self, obs: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class QExpert(Protocol):
    """An expert with a critic: ``q(obs, act)`` is Q*(s, a) for a batch of pairs."""

    def act(self, obs: np.ndarray) -> np.ndarray: ...

    def q(self, obs: np.ndarray, act: np.ndarray) -> np.ndarray: ...


def has_q(expert: Any) -> TypeGuard[QExpert]:
    """True if ``expert`` can give Q*(s, a) on numpy batches (its ``has_q`` attribute says so, when
    it has one). A bare torch policy does not count: wrap a DQN's QPolicy in a PolicyExpert."""
    if isinstance(expert, Policy):
        return False
    flag = getattr(expert, "has_q", None)
    return bool(flag) if flag is not None else callable(getattr(expert, "q", None))


def has_q_values(expert: Any) -> bool:
    """True if ``expert`` gives Q*(s, .) over a discrete action set in one call."""
    return has_q(expert) and callable(getattr(expert, "q_values", None))


class CallableExpert:
    """Wraps a function ``obs_batch -> action_batch`` as an :class:`Expert`."""

    has_q = False

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.fn = fn

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(obs))


class PolicyExpert:
    """An imitlab policy together with its critic: a DQN (the policy is its own Q-network) or a
    SAC actor with its twin critic (Q* = the minimum of the two)."""

    has_q = True

    def __init__(self, policy: Policy, critic: QPolicy | TwinQ | TwinQDiscrete, *, source: str = "") -> None:
        self.policy = policy
        self.critic = critic
        self.source = source

    @property
    def discrete(self) -> bool:
        return self.policy.discrete

    def act(self, obs: np.ndarray, *, deterministic: bool = True) -> np.ndarray:
        return self.policy.act(obs, deterministic=deterministic)

    @torch.inference_mode()
    def q(self, obs: np.ndarray, act: np.ndarray) -> np.ndarray:
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32))
        act_t = torch.as_tensor(np.asarray(act))
        if not self.discrete:
            act_t = act_t.float()
        return self.critic.q(obs_t, act_t).numpy()

    @torch.inference_mode()
    def q_values(self, obs: np.ndarray) -> np.ndarray:
        # A DQN's Q-network or a fitted discrete twin critic: the critics with Q* for every action.
        q_values = getattr(self.critic, "q_values", None)
        if not callable(q_values):
            raise UserError(f"expert {self.source} has continuous actions: ask q(obs, act), not q_values(obs)")
        return q_values(torch.as_tensor(np.asarray(obs, dtype=np.float32))).numpy()

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.act(obs)


def as_expert(obj: Expert | Callable[[np.ndarray], np.ndarray]) -> Expert:
    """Accept an Expert (anything with ``act``) or a plain callable."""
    if isinstance(obj, Expert):
        return obj
    if callable(obj):
        return CallableExpert(obj)
    raise UserError(f"an expert must have act(obs) or be callable, got {type(obj).__name__}")


def _zoo_dir() -> Path:
    return Path(str(resources.files("imitlab.experts") / "zoo"))


def zoo_files(env_id: str | None = None) -> list[Path]:
    """The shipped expert files (of ``env_id``, if given), each env's default ``ENV.pt`` first.

    Files are named ``ENV.pt`` (the default) or ``ENV.ALGO.pt``; gymnasium ids hold no dots.
    """
    files = sorted(_zoo_dir().glob("*.pt"), key=lambda p: (p.name.split(".")[0], p.name.count("."), p.name))
    return [p for p in files if env_id is None or p.name.split(".")[0] == env_id]


def zoo_spec(path: Path) -> str:
    """The ``--expert`` name of a shipped file: ``zoo`` for ``ENV.pt``, ``zoo:ALGO`` for ``ENV.ALGO.pt``."""
    parts = path.name[: -len(".pt")].split(".")
    return f"zoo:{parts[1]}" if len(parts) == 2 else "zoo"


def zoo_path(env_id: str, algo: str | None = None) -> Path:
    """Path of the expert shipped for ``env_id`` (trained by ``algo``, if given); a UserError if none.

    The default expert of an env is ``ENV.pt``; others are ``ENV.ALGO.pt``. ``algo`` also matches
    the default file when that one records being trained by ``algo``.
    """
    zoo = _zoo_dir()
    available = sorted(p.name[: -len(".pt")] for p in zoo.glob("*.pt"))
    default = zoo / f"{env_id}.pt"
    if algo is None:
        if default.is_file():
            return default
        raise UserError(f"no shipped expert for {env_id}; the zoo has: {', '.join(available) or 'none'}")
    named = zoo / f"{env_id}.{algo}.pt"
    if named.is_file():
        return named
    if default.is_file() and _file_algo(default) == algo:
        return default
    raise UserError(f"no shipped {algo} expert for {env_id}; the zoo has: {', '.join(available) or 'none'}")


def _file_algo(path: Path) -> str | None:
    algo = load_policy(path)[1].get("extra", {}).get("algo", "")
    return (algo.removeprefix("expert-") or None) if isinstance(algo, str) else None


def load_expert(spec: str | os.PathLike, env_id: str) -> Expert:
    """Load the expert named by ``spec`` and check it fits ``env_id``.

    ``spec`` is ``"zoo"``, ``"zoo:ALGO"``, ``"sb3:PATH"`` or a policy file / run directory (see the
    module docstring). The result has ``act``; experts with a critic also have ``q`` (and
    ``q_values`` for discrete actions).
    """
    text = str(spec)
    if text.startswith("sb3:"):
        from imitlab.experts.sb3 import load_sb3_expert

        return load_sb3_expert(text[len("sb3:"):], env_id)
    if text == "optimal" or (text == "zoo" and not zoo_files(env_id) and _tabular(env_id)):
        from imitlab.experts.tabular import optimal_expert

        return optimal_expert(env_id)
    if text == "zoo":
        path = zoo_path(env_id)
    elif text.startswith("zoo:"):
        path = zoo_path(env_id, text[len("zoo:"):])
    else:
        path = Path(spec)
    policy, meta = load_policy(path)
    obs_space, act_space = env_spaces(env_id)
    check_fits(meta["obs_space"], meta["act_space"], describe_space(obs_space), describe_space(act_space),
               what=f"expert {str(path)!r}", made_for=meta.get("env_id"), env_id=env_id)
    if isinstance(policy, QPolicy):
        return PolicyExpert(policy, policy, source=str(path))
    if "critic" in meta:
        from imitlab.critics import critic_from_payload

        return PolicyExpert(policy, critic_from_payload(meta["critic"], str(path)), source=str(path))
    return policy


def _tabular(env_id: str) -> bool:
    from imitlab.envs.tabular import has_tabular_dynamics

    return has_tabular_dynamics(env_id)


def check_fits(obs_desc: dict, act_desc: dict, env_obs: dict, env_act: dict, *, what: str, made_for: str | None, env_id: str) -> None:
    """A UserError unless the spaces an expert was made for are ``env_id``'s."""
    if not (same_space(obs_desc, env_obs) and same_space(act_desc, env_act)):
        raise UserError(
            f"{what} was made for {made_for} ({space_summary(obs_desc)}, {space_summary(act_desc)}), "
            f"which does not fit {env_id} ({space_summary(env_obs)}, {space_summary(env_act)}); "
            f"give one made for {env_id}"
        )

"""Stable-Baselines3 models (PPO, A2C, DQN, SAC, TD3) as imitlab experts (the ``sb3`` extra).

``load_sb3_expert(path, env_id)`` (``--expert sb3:PATH`` on the command line) loads the zip with
SB3's own ``load`` and wraps it: ``act`` is SB3's deterministic ``predict``; where the algorithm has
an action-value critic it is exposed as Q*: DQN's Q-network (``q_values(obs)`` over all actions
and ``q(obs, act)``), and for SAC and TD3 the minimum of the twin critics, ``q(obs, act)`` with
actions in env units (SB3's critics take actions rescaled to [-1, 1]; the adapter rescales).
PPO and A2C have a state-value function only: they are experts without Q.

An SB3 zip holds pickled Python objects (its ``data`` entry and the spaces), so loading one runs
code from the file: do it only for files you trust. imitlab never loads one unless a user names it.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from imitlab.envs.spaces import describe_space
from imitlab.envs.vector import env_spaces
from imitlab.errors import UserError

SB3_ALGOS = ("ppo", "a2c", "dqn", "sac", "td3")


def _import_sb3():
    try:
        import stable_baselines3
    except ImportError:
        raise UserError(
            "loading a Stable-Baselines3 expert needs stable-baselines3: pip install 'imitlab[sb3]'"
        ) from None
    return stable_baselines3


def sb3_algo(path: str | os.PathLike) -> str:
    """Which SB3 algorithm saved the zip at ``path`` (read from its JSON ``data`` entry, no unpickling)."""
    try:
        with zipfile.ZipFile(path) as z:
            data = json.loads(z.read("data"))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise UserError(f"{str(path)!r} is not a Stable-Baselines3 zip ({type(e).__name__}: {e})") from None
    module = data.get("policy_class", {}).get("__module__", "") if isinstance(data.get("policy_class"), dict) else ""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in ("dqn", "sac", "td3"):
        return parts[1]
    if module == "stable_baselines3.common.policies":
        return "ppo" if "clip_range" in data else "a2c"
    raise UserError(
        f"{str(path)!r} was saved by an algorithm imitlab cannot adapt (policy module {module or 'unknown'!r}); "
        f"supported: {', '.join(a.upper() for a in SB3_ALGOS)}"
    )


class SB3Expert:
    """An SB3 model acting deterministically; no Q (PPO, A2C)."""

    has_q = False

    def __init__(self, model: Any, algo: str, source: str = "") -> None:
        self.model = model
        self.algo = algo
        self.source = source
        self.discrete = isinstance(model.action_space, gym.spaces.Discrete)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.model.predict(np.asarray(obs, dtype=np.float32), deterministic=True)[0]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.act(obs)

    def _obs(self, obs: np.ndarray) -> torch.Tensor:
        return self.model.policy.obs_to_tensor(np.asarray(obs, dtype=np.float32))[0]


class SB3DQNExpert(SB3Expert):
    """An SB3 DQN: Q* is its online Q-network."""

    has_q = True

    @torch.no_grad()
    def q_values(self, obs: np.ndarray) -> np.ndarray:
        return self.model.q_net(self._obs(obs)).cpu().numpy()

    def q(self, obs: np.ndarray, act: np.ndarray) -> np.ndarray:
        q = self.q_values(obs)
        return np.take_along_axis(q, np.asarray(act, np.int64).reshape(-1, 1), 1)[:, 0]


class SB3TwinCriticExpert(SB3Expert):
    """An SB3 SAC or TD3: Q* is the minimum of its twin critics."""

    has_q = True

    @torch.no_grad()
    def q(self, obs: np.ndarray, act: np.ndarray) -> np.ndarray:
        act = np.asarray(act, np.float32).reshape(len(obs), -1)
        scaled = self.model.policy.scale_action(act)  # SB3's critics see actions in [-1, 1]
        qs = self.model.critic(self._obs(obs), torch.as_tensor(scaled, dtype=torch.float32))
        return torch.min(torch.cat(qs, dim=1), dim=1).values.cpu().numpy()


def load_sb3_expert(path: str | os.PathLike, env_id: str) -> SB3Expert:
    """Load the SB3 zip at ``path`` as an expert for ``env_id`` (see the module docstring)."""
    sb3 = _import_sb3()
    path = Path(path)
    if not path.is_file():
        raise UserError(f"SB3 model {str(path)!r} not found; pass the .zip that model.save() wrote")
    algo = sb3_algo(path)
    cls = {"ppo": sb3.PPO, "a2c": sb3.A2C, "dqn": sb3.DQN, "sac": sb3.SAC, "td3": sb3.TD3}[algo]
    try:
        model = cls.load(str(path), device="cpu")
    except Exception as e:  # SB3 raises many kinds on a damaged or incompatible file
        raise UserError(f"cannot load SB3 {algo.upper()} model {str(path)!r}: {type(e).__name__}: {e}") from None
    from imitlab.experts import check_fits

    obs_space, act_space = env_spaces(env_id)
    check_fits(describe_space(model.observation_space), describe_space(model.action_space),
               describe_space(obs_space), describe_space(act_space),
               what=f"SB3 {algo.upper()} model {str(path)!r}", made_for="another env", env_id=env_id)
    wrapper = {"dqn": SB3DQNExpert, "sac": SB3TwinCriticExpert, "td3": SB3TwinCriticExpert}.get(algo, SB3Expert)
    return wrapper(model, algo, str(path))

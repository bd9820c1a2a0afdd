"""Stable-Baselines3 models (PPO, A2C, DQN, SAC, TD3) as imitlab experts (the ``sb3`` extra).

``load_sb3_expert(path, env_id)`` (``--expert sb3:PATH`` on the command line) loads the zip with
SB3's own ``load`` and wraps it: ``act`` is SB3's deterministic ``predict``; where the algorithm has
an action-value critic it is exposed as Q*: DQN's Q-network (``q_values(obs)`` over all actions
and ``q(obs, act)``), and for SAC and TD3 the minimum of the twin critics, ``q(obs, act)`` with
actions in env units (SB3's critics take actions rescaled to [-1, 1]; the adapter rescales).
PPO and A2C have a state-value function only: they are experts without Q.

The model's saved spaces must fit the env's in type, shape, dtype and (for Discrete) size; a
mismatch is refused naming what differs. Spaces that differ in their bounds only are accepted with
a :class:`~imitlab.envs.spaces.SpaceBoundsWarning`: gymnasium releases changed bounds without
changing envs (CartPole-v1's unbounded velocities were float32-max in 0.29, inf from 1.0), and RL
Zoo and hub experts were saved under older releases.

A model trained inside SB3's ``VecNormalize`` saw normalised observations only; fed raw ones it
acts badly. Where the statistics that RL Zoo and the hub save lie beside the zip (see
:func:`find_vecnormalize`), they are applied to every observation before the model sees it, for
``act`` and for the critics alike (reward normalisation does not matter for acting).

An SB3 zip holds pickled Python objects (its ``data`` entry and the spaces) that SB3's ``load``
unpickles, running code from the file: imitlab loads one only when a user names it with the
explicit ``sb3:`` prefix. The ``vecnormalize.pkl`` found beside it is a pickle too, but imitlab
reads it with a state-only unpickler (numpy arrays and numbers; no code from the file runs), so
the statistics need no trust of their own.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from imitlab.envs.spaces import SpaceBoundsWarning, bounds_difference, describe_space, space_differences
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


VECNORMALIZE_NAMES = ("vecnormalize.pkl", "vec_normalize.pkl")


@dataclass(frozen=True)
class ObsNormalization:
    """SB3 ``VecNormalize``'s observation transform with fixed statistics:
    ``clip((obs - mean) / sqrt(var + epsilon), -clip_obs, clip_obs)`` as float32."""

    mean: np.ndarray
    var: np.ndarray
    clip_obs: float
    epsilon: float
    source: str = ""

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        # the same operations in the same (float64) precision as VecNormalize, so that the model
        # sees bit for bit what it saw in training
        return np.clip((obs - self.mean) / np.sqrt(self.var + self.epsilon), -self.clip_obs, self.clip_obs).astype(np.float32)


def find_vecnormalize(zip_path: str | os.PathLike, env_id: str) -> Path | None:
    """The ``VecNormalize`` statistics saved with the SB3 zip at ``zip_path``, or None.

    Looks beside the zip for ``vecnormalize.pkl`` then ``vec_normalize.pkl`` (the hub's name), then
    in RL Zoo's layout, where ``LOG/ENV.zip`` (or ``LOG/best_model.zip``) has its statistics in
    ``LOG/ENV/vecnormalize.pkl``.
    """
    zip_path = Path(zip_path)
    folder = zip_path.parent
    candidates = [folder / name for name in VECNORMALIZE_NAMES]
    candidates += [folder / sub / "vecnormalize.pkl" for sub in dict.fromkeys((zip_path.stem, env_id))]
    return next((p for p in candidates if p.is_file()), None)


class _State:
    """What a pickled object becomes when read by :class:`_StateOnlyUnpickler`: its saved
    attributes and nothing else (no class of the file's is imported, no method of it runs)."""

    def __init__(self, *args: Any) -> None:
        self._args = args

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:
            self._state = state


def _state_ctor(*args: Any) -> _State:
    return _State(*args)


class _StateOnlyUnpickler(pickle.Unpickler):
    """Reads a ``VecNormalize`` pickle without running code from it.

    Numpy's array, dtype and scalar rebuilders are the only callables it lets the file name; the
    objects around them (VecNormalize, RunningMeanStd, gymnasium spaces, numpy Generators) become
    inert :class:`_State` records of their attributes. Any other global (``os.system``, a class
    whose ``__setstate__`` would run) is refused, so the file needs no more trust than a .npz.
    """

    _NUMPY = {("numpy", "dtype"), ("numpy", "ndarray")} | {
        (f"numpy.{core}.{mod}", name)
        for core in ("core", "_core")
        for mod, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer"))
    }
    _RECORDS = ("stable_baselines3.common.vec_env.vec_normalize.", "stable_baselines3.common.running_mean_std.",
                "gymnasium.spaces.", "gym.spaces.", "numpy.random.")

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._NUMPY:
            return super().find_class(module, name)
        if f"{module}.".startswith(self._RECORDS):
            return _State if name[:1].isupper() else _state_ctor
        raise pickle.UnpicklingError(f"it names {module}.{name}, which a VecNormalize file does not hold")


def load_vecnormalize(path: str | os.PathLike, obs_shape: tuple[int, ...]) -> ObsNormalization | None:
    """The observation statistics of the ``VecNormalize`` pickled at ``path``, or None where it did
    not normalise observations (``norm_obs=False``). Read by :class:`_StateOnlyUnpickler`: numbers
    and arrays only, no code from the file runs."""
    try:
        with open(path, "rb") as f:
            vec_normalize = _StateOnlyUnpickler(f).load()
    except Exception as e:  # a damaged or foreign file can fail in any way
        raise UserError(
            f"cannot read the VecNormalize statistics {str(path)!r} saved with the SB3 model "
            f"({type(e).__name__}: {e}); replace it with the file the model was trained with, or move it away"
        ) from None
    if not getattr(vec_normalize, "norm_obs", True):
        return None
    rms = getattr(vec_normalize, "obs_rms", None)
    mean, var = getattr(rms, "mean", None), getattr(rms, "var", None)
    if not (isinstance(mean, np.ndarray) and isinstance(var, np.ndarray)):
        raise UserError(
            f"{str(path)!r} holds no VecNormalize observation statistics for a Box space (obs_rms.mean/var); "
            "imitlab handles Box observations: move the file away if it belongs to another model"
        )
    if mean.shape != tuple(obs_shape) or var.shape != tuple(obs_shape):
        raise UserError(
            f"the VecNormalize statistics {str(path)!r} have shape {mean.shape} but the model's observations "
            f"{tuple(obs_shape)}; they belong to another model: move the file away"
        )
    return ObsNormalization(
        mean=mean.astype(np.float64), var=var.astype(np.float64), clip_obs=float(getattr(vec_normalize, "clip_obs", 10.0)),
        epsilon=float(getattr(vec_normalize, "epsilon", 1e-8)), source=str(path),
    )


class SB3Expert:
    """An SB3 model acting deterministically; no Q (PPO, A2C). ``obs_normalization`` (its
    ``VecNormalize`` statistics), when given, transforms observations before the model sees them."""

    has_q = False

    def __init__(self, model: Any, algo: str, source: str = "", obs_normalization: ObsNormalization | None = None) -> None:
        self.model = model
        self.algo = algo
        self.source = source
        self.obs_normalization = obs_normalization
        self.discrete = isinstance(model.action_space, gym.spaces.Discrete)

    def model_obs(self, obs: np.ndarray) -> np.ndarray:
        """Env observations as the model was trained on them (normalised where it was)."""
        obs = np.asarray(obs, dtype=np.float32)
        return obs if self.obs_normalization is None else self.obs_normalization(obs)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.model.predict(self.model_obs(obs), deterministic=True)[0]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.act(obs)

    def _obs(self, obs: np.ndarray) -> torch.Tensor:
        return self.model.policy.obs_to_tensor(self.model_obs(obs))[0]


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
    check_sb3_spaces(model, env_id, what=f"SB3 {algo.upper()} model {str(path)!r}")
    stats = find_vecnormalize(path, env_id)
    normalization = None if stats is None else load_vecnormalize(stats, model.observation_space.shape)
    wrapper = {"dqn": SB3DQNExpert, "sac": SB3TwinCriticExpert, "td3": SB3TwinCriticExpert}.get(algo, SB3Expert)
    return wrapper(model, algo, str(path), normalization)


def check_sb3_spaces(model: Any, env_id: str, *, what: str) -> None:
    """A UserError naming what differs unless ``model``'s saved spaces fit ``env_id``'s; a
    :class:`SpaceBoundsWarning` where they differ in bounds only."""
    obs_space, act_space = env_spaces(env_id)
    pairs = (("observation", describe_space(model.observation_space), describe_space(obs_space)),
             ("action", describe_space(model.action_space), describe_space(act_space)))
    differences = [d for name, mine, env in pairs for d in space_differences(mine, env, name=name)]
    if differences:
        raise UserError(
            f"{what} does not fit {env_id}: {'; '.join(differences)} (the model's vs the env's); "
            f"load a model trained on {env_id}"
        )
    bounds = [b for name, mine, env in pairs if (b := bounds_difference(mine, env, name=name)) is not None]
    if bounds:
        # stacklevel 4: past this function, load_sb3_expert and load_expert, to the caller's line
        warnings.warn(
            f"{what} differs from {env_id} in space bounds only ({'; '.join(bounds)}; the model's vs the env's), "
            "as spaces saved under another gymnasium release may; using it",
            SpaceBoundsWarning, stacklevel=4,
        )


def as_imitlab_policy(expert: SB3Expert, env_id: str) -> Any:
    """An SB3 PPO or A2C actor (``MlpPolicy``: tanh layers, flat observations) as an imitlab policy
    that acts as it does, deterministically: the same layers and weights, its ``VecNormalize``
    statistics (if any) as the policy's observation normalisation, and for Box actions the mean
    head rescaled to imitlab's unit action space. What ``imitlab expert fit-q`` saves an SB3 expert
    as, beside its fitted critic, so that the file needs neither SB3 nor unpickling.

    Observations beyond VecNormalize's ``clip_obs`` standard deviations are not clipped here (imitlab's
    normalisation has no clip); they are rare for a trained policy, but there the two may differ.
    """
    from torch import nn

    from imitlab.policies import CategoricalPolicy, GaussianPolicy

    where = f"SB3 {expert.algo.upper()} model {expert.source!r}"
    if expert.algo not in ("ppo", "a2c"):
        raise UserError(f"{where} has its own Q* (its critic): give it to aggrevated as --expert sb3:PATH; only PPO and "
                        "A2C actors are converted to imitlab policies")
    sb3_policy = expert.model.policy
    if type(sb3_policy.features_extractor).__name__ != "FlattenExtractor" or getattr(sb3_policy, "use_sde", False) \
            or getattr(sb3_policy, "squash_output", False):
        raise UserError(f"{where} is not a plain MlpPolicy (flat observations, no gSDE, no squashing): imitlab cannot "
                        "convert it; fit Q* for an imitlab policy instead (e.g. BC or DAgger on this expert)")
    layers = list(sb3_policy.mlp_extractor.policy_net)
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    if not linears or any(not isinstance(m, (nn.Linear, nn.Tanh)) for m in layers):
        raise UserError(f"{where}'s actor has layers {[type(m).__name__ for m in layers]}: imitlab policies are "
                        "Linear + Tanh stacks (SB3's default activation_fn for PPO and A2C)")
    obs_space, act_space = env_spaces(env_id)
    hidden = [m.out_features for m in linears]
    head = sb3_policy.action_net
    policy: CategoricalPolicy | GaussianPolicy
    if isinstance(act_space, gym.spaces.Discrete):
        policy = CategoricalPolicy(obs_space, act_space, hidden)
    elif isinstance(act_space, gym.spaces.Box):
        policy = GaussianPolicy(obs_space, act_space, hidden, squash=False, state_dependent_std=False)
    else:
        raise UserError(f"{where} acts in {act_space}: imitlab converts Discrete and Box actions")
    own = [m for m in policy.net if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for mine, theirs in zip(own[:-1], linears):
            mine.weight.copy_(theirs.weight)
            mine.bias.copy_(theirs.bias)
        if isinstance(policy, GaussianPolicy):
            # SB3's mean is in env units; imitlab's in [-1, 1]: a = bias + scale * u.
            scale, bias = policy.act_scale, policy.act_bias
            own[-1].weight.copy_(head.weight / scale[:, None])
            own[-1].bias.copy_((head.bias - bias) / scale)
            policy.log_std.copy_(sb3_policy.log_std.detach() - torch.log(scale))
        else:
            own[-1].weight.copy_(head.weight)
            own[-1].bias.copy_(head.bias)
    norm = expert.obs_normalization
    if norm is not None:
        policy.set_obs_normalization(norm.mean, np.sqrt(norm.var + norm.epsilon))
    return policy.eval()

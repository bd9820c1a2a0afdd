"""Stochastic MLP policies (categorical and Gaussian), their fast sampling path, save and load.

A policy maps a batch of observations to an action distribution. It carries fixed observation
normalisation statistics (set from expert data or left at identity) and, for continuous actions,
the env's action bounds, so a saved ``policy.pt`` is all that is needed to act.
"""

from __future__ import annotations

import math
import os
import pickle
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from imitlab.envs.dict_obs import observation_layout
from imitlab.envs.spaces import flatten_observations, layout_size, obs_dim, observations_batched, space_from_description
from imitlab.errors import UserError
from imitlab.losses import categorical_kl, gaussian_kl
from imitlab.nets import mlp, network_config
from imitlab.utils import atomic_torch_save

if TYPE_CHECKING:
    from imitlab.critics import TwinQ, TwinQDiscrete

POLICY_FORMAT = "imitlab.policy"
POLICY_VERSION = 1


class Policy(nn.Module):
    """Base of the two policy kinds: observation normalisation and numpy acting."""

    discrete: bool
    # buffers, registered in __init__ (declared here so that they read as tensors, not modules)
    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int]):
        super().__init__()
        self.observation_space = observation_space
        self.action_space = action_space
        self.hidden = list(hidden)
        self.obs_dim = obs_dim(observation_space)
        # The Dict/Tuple space that the flat observations follow (envs.spaces.describe_layout), for an
        # env with structured observations: act() then takes them structured too. Set by load_policy.
        self.obs_layout: dict[str, Any] | None = None
        self.register_buffer("obs_mean", torch.zeros(self.obs_dim))
        self.register_buffer("obs_std", torch.ones(self.obs_dim))

    def set_obs_normalization(self, mean: np.ndarray, std: np.ndarray) -> None:
        """Fix the statistics that observations are normalised with (e.g. the expert data's)."""
        self.obs_mean.copy_(torch.as_tensor(mean, dtype=torch.float32).reshape(-1))
        self.obs_std.copy_(torch.as_tensor(np.maximum(std, 1e-6), dtype=torch.float32).reshape(-1))

    def normalize(self, obs: torch.Tensor) -> torch.Tensor:
        return (obs.reshape(obs.shape[0], -1) - self.obs_mean) / self.obs_std

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        raise NotImplementedError

    def log_prob(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return self.log_prob_entropy(obs, act)[0]

    def log_prob_entropy(self, obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability of ``act`` and the entropy at ``obs``, with gradients (no
        torch.distributions objects: their argument checks cost more than the math here)."""
        raise NotImplementedError

    def dist_params(self, obs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The tensors that define the action distribution at ``obs`` (for KL computations)."""
        raise NotImplementedError

    def kl(self, old_params: tuple[torch.Tensor, ...], obs: torch.Tensor) -> torch.Tensor:
        """Per-observation KL(old || current) from ``old_params = dist_params(obs)`` taken earlier."""
        raise NotImplementedError

    def sample(
        self, obs: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample actions and their log-probabilities (no gradient)."""
        raise NotImplementedError

    def mode(self, obs: torch.Tensor) -> torch.Tensor:
        """The most likely action (deterministic acting)."""
        raise NotImplementedError

    @torch.inference_mode()
    def act(self, obs: Any, *, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of numpy observations; the Expert protocol's ``act``.

        A policy for an env with Dict or Tuple observations (``obs_layout`` set) also takes them
        as the env gives them: a dict (tuple) of arrays with a batch axis, or a single
        observation, for which it returns a single action.
        """
        single = False
        if self.obs_layout is not None and isinstance(obs, Mapping | tuple):
            single = not observations_batched(self.obs_layout, obs)
            obs = flatten_observations(self.obs_layout, obs)
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32))
        act = (self.mode(obs_t) if deterministic else self.sample(obs_t)[0]).numpy()
        return act[0] if single else act

    def config(self) -> dict[str, Any]:
        return network_config(self)


class CategoricalPolicy(Policy):
    """Softmax policy over a Discrete action space."""

    discrete = True

    def __init__(self, observation_space: gym.Space, action_space: gym.spaces.Discrete, hidden: Sequence[int] = (64, 64)):
        super().__init__(observation_space, action_space, hidden)
        self.n = int(action_space.n)
        self.net = mlp(self.obs_dim, self.n, hidden, out_gain=0.01)

    def logits(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(obs))

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Categorical:
        return torch.distributions.Categorical(logits=self.logits(obs))

    def dist_params(self, obs):
        return (self.logits(obs),)

    def kl(self, old_params, obs):
        return categorical_kl(old_params[0], self.logits(obs))

    def log_prob_entropy(self, obs, act):
        logp_all = torch.log_softmax(self.logits(obs), -1)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        return logp_all.gather(-1, act.long().reshape(-1, 1)).squeeze(-1), entropy

    @torch.no_grad()
    def sample(self, obs, generator=None):
        logp_all = torch.log_softmax(self.logits(obs), -1)
        # Inverse-CDF sampling: one uniform per row, cheaper than torch.multinomial on big batches.
        u = torch.rand(obs.shape[0], 1, generator=generator)
        act = (u > logp_all.exp().cumsum(-1)).sum(-1).clamp_(max=self.n - 1)
        return act, logp_all.gather(-1, act.reshape(-1, 1)).squeeze(-1)

    @torch.no_grad()
    def mode(self, obs):
        return self.logits(obs).argmax(-1)


class QPolicy(Policy):
    """Greedy policy over a Q-network's action values: a DQN's policy, which is also its critic.

    ``q_values(obs)`` gives Q(s, a) for every action; the policy takes the argmax, and when sampled
    acts epsilon-greedily with ``epsilon`` (0 unless a learner sets it for exploration).
    """

    discrete = True

    def __init__(self, observation_space: gym.Space, action_space: gym.spaces.Discrete, hidden: Sequence[int] = (64, 64)):
        super().__init__(observation_space, action_space, hidden)
        self.n = int(action_space.n)
        self.net = mlp(self.obs_dim, self.n, hidden, activation="relu")
        self.epsilon = 0.0

    def q_values(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(obs))

    def q(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return self.q_values(obs).gather(-1, act.long().reshape(-1, 1)).squeeze(-1)

    def _log_probs(self, obs: torch.Tensor) -> torch.Tensor:
        greedy = F.one_hot(self.q_values(obs).argmax(-1), self.n).float()
        return torch.log(self.epsilon / self.n + (1.0 - self.epsilon) * greedy)

    def log_prob_entropy(self, obs, act):
        logp_all = self._log_probs(obs)
        entropy = -(logp_all.exp() * logp_all.clamp(min=-1e4)).sum(-1)
        return logp_all.gather(-1, act.long().reshape(-1, 1)).squeeze(-1), entropy

    @torch.no_grad()
    def sample(self, obs, generator=None):
        greedy = self.q_values(obs).argmax(-1)
        explore = torch.rand(obs.shape[0], generator=generator) < self.epsilon
        random = torch.randint(self.n, (obs.shape[0],), generator=generator)
        act = torch.where(explore, random, greedy)
        p = torch.where(act == greedy, 1.0 - self.epsilon + self.epsilon / self.n, self.epsilon / self.n)
        return act, torch.log(p)

    @torch.no_grad()
    def mode(self, obs):
        return self.q_values(obs).argmax(-1)


class GaussianPolicy(Policy):
    """Diagonal Gaussian policy for a Box action space, optionally tanh-squashed.

    The network works in a unit action space; actions are ``bias + scale * y`` with ``scale`` and
    ``bias`` taken from the env's bounds, so one learning rate fits envs with any action range.
    Unsquashed, ``y = u ~ N(mean, std)`` and the env clips out-of-bound actions; squashed,
    ``y = tanh(u)`` stays inside the bounds and the log-probability carries the change-of-variables
    term ``-sum log(1 - tanh(u)^2)`` (Haarnoja et al. 2018, appendix C). The log-std is one learned
    vector (``state_dependent_std=False``) or a second head of the network.

    Log-probabilities are of the unit-space action: the affine map's Jacobian is a constant that
    cancels in every ratio and gradient, so it is left out.
    """

    discrete = False
    act_scale: torch.Tensor  # buffers, registered in __init__
    act_bias: torch.Tensor

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.spaces.Box,
        hidden: Sequence[int] = (64, 64),
        *,
        squash: bool = False,
        state_dependent_std: bool = False,
        init_log_std: float = -0.5,
    ):
        super().__init__(observation_space, action_space, hidden)
        self.squash = squash
        self.state_dependent_std = state_dependent_std
        self.act_dim = int(np.prod(action_space.shape))
        self.net = mlp(self.obs_dim, self.act_dim * (2 if state_dependent_std else 1), hidden, out_gain=0.01)
        if state_dependent_std:
            head = self.net[-1]
            assert isinstance(head, nn.Linear)  # mlp() ends in a Linear layer
            with torch.no_grad():
                head.bias[self.act_dim :] = init_log_std
        else:
            self.log_std = nn.Parameter(torch.full((self.act_dim,), float(init_log_std)))
        low = np.asarray(action_space.low, dtype=np.float32).reshape(-1)
        high = np.asarray(action_space.high, dtype=np.float32).reshape(-1)
        finite = np.isfinite(low) & np.isfinite(high)
        if squash and not finite.all():
            raise UserError("a tanh-squashed policy needs finite action bounds; use squash=False")
        scale = np.where(finite, (high - low) / 2, 1.0)
        bias = np.where(finite, (high + low) / 2, 0.0)
        self.register_buffer("act_scale", torch.as_tensor(scale, dtype=torch.float32))
        self.register_buffer("act_bias", torch.as_tensor(bias, dtype=torch.float32))

    def to_unit(self, act: torch.Tensor) -> torch.Tensor:
        return (act.reshape(act.shape[0], -1) - self.act_bias) / self.act_scale

    def mean_log_std(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-std of the pre-squash Gaussian ``u``."""
        out = self.net(self.normalize(obs))
        if self.state_dependent_std:
            mean, log_std = out.chunk(2, -1)
            return mean, log_std.clamp(-5.0, 2.0)
        return out, self.log_std.expand_as(out)

    def dist_params(self, obs):
        return self.mean_log_std(obs)

    def kl(self, old_params, obs):
        return gaussian_kl(*old_params, *self.mean_log_std(obs))

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Normal:
        """The pre-squash Gaussian of ``u`` (the unit-space action itself when unsquashed)."""
        mean, log_std = self.mean_log_std(obs)
        return torch.distributions.Normal(mean, log_std.exp())

    def mean_unit_action(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic action in unit space (with gradients)."""
        mean = self.mean_log_std(obs)[0]
        return torch.tanh(mean) if self.squash else mean

    def log_prob_entropy(self, obs, act):
        mean, log_std = self.mean_log_std(obs)
        y = self.to_unit(act)
        if self.squash:
            u = torch.atanh(y.clamp(-1 + 1e-6, 1 - 1e-6))
        else:
            u = y
        logp = _normal_log_prob((u - mean) / log_std.exp(), log_std)
        if self.squash:
            logp = logp - _tanh_log_det(u)
        # Squashed, this is the pre-squash Gaussian's entropy: the usual stand-in, with no closed form.
        entropy = (log_std + 0.5 * (1.0 + math.log(2 * math.pi))).sum(-1)
        return logp, entropy

    def rsample(self, obs: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Reparameterised sample and its log-probability, differentiable (for SAC-style actors)."""
        mean, log_std = self.mean_log_std(obs)
        noise = torch.randn(mean.shape, generator=generator)
        u = mean + log_std.exp() * noise
        logp = _normal_log_prob(noise, log_std)
        if self.squash:
            logp = logp - _tanh_log_det(u)
            u = torch.tanh(u)
        return self.act_bias + self.act_scale * u, logp

    @torch.no_grad()
    def sample(self, obs, generator=None):
        return self.rsample(obs, generator)

    @torch.no_grad()
    def mode(self, obs):
        return self.act_bias + self.act_scale * self.mean_unit_action(obs)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "squash": self.squash, "state_dependent_std": self.state_dependent_std}


def _normal_log_prob(z: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Log-density of ``mean + exp(log_std) * z`` under N(mean, exp(log_std)), summed over dims."""
    return (-0.5 * z.square() - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def _tanh_log_det(u: torch.Tensor) -> torch.Tensor:
    """``sum log(1 - tanh(u)^2)``, computed stably as ``2 (log 2 - u - softplus(-2u))``."""
    return (2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(-1)


@dataclass(frozen=True)
class PolicySpec:
    """How to build a policy: hidden sizes and, for Box actions, the Gaussian's options."""

    hidden: tuple[int, ...] = (64, 64)
    squash: bool = False
    state_dependent_std: bool = False
    init_log_std: float = -0.5

    def build(self, observation_space: gym.Space, action_space: gym.Space) -> Policy:
        return make_policy(
            observation_space, action_space, self.hidden, squash=self.squash,
            state_dependent_std=self.state_dependent_std, init_log_std=self.init_log_std,
        )


def make_policy(
    observation_space: gym.Space, action_space: gym.Space, hidden: Sequence[int] = (64, 64), **gaussian_options
) -> Policy:
    """A categorical policy for Discrete actions, a Gaussian one for Box actions.

    ``gaussian_options`` (``squash``, ``state_dependent_std``, ``init_log_std``) apply to Box actions.
    """
    if isinstance(action_space, gym.spaces.Discrete):
        return CategoricalPolicy(observation_space, action_space, hidden)
    if isinstance(action_space, gym.spaces.Box):
        return GaussianPolicy(observation_space, action_space, hidden, **gaussian_options)
    raise UserError(f"unsupported action space {action_space}; imitlab handles Discrete and Box")


def save_policy(
    policy: Policy, path: str | os.PathLike, *, env_id: str, extra: dict | None = None, critic: TwinQ | TwinQDiscrete | None = None
) -> None:
    """Write ``policy`` to ``path`` atomically, in a file that loads without unpickling code.

    A ``critic`` (e.g. a SAC expert's :class:`~imitlab.critics.TwinQ`) goes in an optional
    ``critic`` section (its ``config()`` plus ``state_dict``), so one file holds an expert and its
    Q*. Readers that know nothing of critics load the policy alone.
    """
    payload = {
        "format": POLICY_FORMAT,
        "version": POLICY_VERSION,
        "env_id": env_id,
        **policy.config(),
        "state_dict": {k: v.detach().clone() for k, v in policy.state_dict().items()},
        "extra": extra or {},
    }
    layout = policy.obs_layout if policy.obs_layout is not None else observation_layout(env_id, strict=False)
    if layout is not None and layout_size(layout) == policy.obs_dim:
        payload["obs_layout"] = layout  # so that the loaded policy takes the env's Dict/Tuple observations
    if critic is not None:
        payload["critic"] = {**critic.config(), "state_dict": {k: v.detach().clone() for k, v in critic.state_dict().items()}}
    atomic_torch_save(payload, path)


def load_policy(path: str | os.PathLike) -> tuple[Policy, dict[str, Any]]:
    """Load a policy saved by :func:`save_policy`; returns ``(policy, file_metadata)``.

    A run directory may be given instead of the file: its ``policy.pt`` is used. The metadata
    keeps a critic section, if any, under ``"critic"`` (see :func:`imitlab.critics.critic_from_payload`).
    A damaged or foreign file (truncated, flipped bytes, fields missing or of the wrong kind,
    weights that do not fit the network the file declares, nan/inf weights, pickled objects) is a
    :class:`UserError` naming the problem; nothing but tensors and plain values is unpickled.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "policy.pt"
    if not path.is_file():
        raise UserError(f"policy file {str(path)!r} not found; pass a run directory or a policy.pt file")
    where = f"policy file {str(path)!r}"
    payload = read_torch_file(path, "policy file", _RESAVE)
    if not isinstance(payload, dict) or payload.get("format") != POLICY_FORMAT:
        raise UserError(f"{str(path)!r} is not an imitlab policy file (saved with imitlab.save_policy); {_RESAVE}")
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UserError(f"{where} has format version {version!r}, not a whole number; {_RESAVE}")
    if version > POLICY_VERSION:
        raise UserError(f"{str(path)!r} was written by a newer imitlab (format version {version}); upgrade imitlab")
    for key, kind, what in (("env_id", str, "an env id"), ("extra", dict, "a dict")):
        if key in payload and not isinstance(payload[key], kind):
            raise UserError(f"{where} has {key}={payload[key]!r}, not {what}; {_RESAVE}")
    policy = _policy_from_payload(payload, where)
    if payload.get("obs_layout") is not None:
        from imitlab.data.demos import layout_problem

        problem = layout_problem(payload["obs_layout"])
        if problem is None and layout_size(payload["obs_layout"]) != policy.obs_dim:
            problem = f"flattens to {layout_size(payload['obs_layout'])} entries, not the policy's {policy.obs_dim}"
        if problem:
            raise UserError(f"{where}: its obs_layout {problem}; {_RESAVE}")
        policy.obs_layout = payload["obs_layout"]
    if "critic" in payload:
        _check_critic(payload["critic"], payload, where)
    policy.eval()
    meta = {k: v for k, v in payload.items() if k != "state_dict"}
    meta["path"] = str(path)
    return policy, meta


_RESAVE = "give a policy.pt that imitlab saved (a run directory's) or 'zoo'"
_POLICY_KINDS: dict[str, tuple[type[Policy], str]] = {
    "CategoricalPolicy": (CategoricalPolicy, "Discrete"),
    "QPolicy": (QPolicy, "Discrete"),
    "GaussianPolicy": (GaussianPolicy, "Box"),
}


def _policy_from_payload(payload: dict[str, Any], where: str) -> Policy:
    """The policy a file's payload describes, its fields and weights checked before use."""
    kind = payload.get("kind")
    if kind not in _POLICY_KINDS:
        raise UserError(f"{where} holds an unknown policy kind {kind!r}; {_RESAVE}")
    cls, act_type = _POLICY_KINDS[kind]
    obs_space, act_space = _network_spaces(payload, where, _RESAVE)
    if not isinstance(act_space, getattr(gym.spaces, act_type)):
        raise UserError(f"{where} holds a {kind} for {act_space}, but a {kind} acts in a {act_type} space; {_RESAVE}")
    hidden = _network_hidden(payload, where, _RESAVE)
    options = {}
    if cls is GaussianPolicy:
        for key in ("squash", "state_dependent_std"):
            if key in payload:
                if not isinstance(payload[key], bool):
                    raise UserError(f"{where} has {key}={payload[key]!r}, not true or false; {_RESAVE}")
                options[key] = payload[key]
    policy = load_checked_weights(
        lambda: cls(obs_space, act_space, hidden, **options), payload.get("state_dict"),
        f"{where} ({kind}, hidden {hidden})", _RESAVE,
    )
    if not bool((policy.obs_std > 0).all()):
        raise UserError(f"{where} has observation std {policy.obs_std.tolist()}, which must be positive; {_RESAVE}")
    return policy


def _check_critic(section: Any, payload: dict[str, Any], where: str) -> None:
    """Check a policy file's ``critic`` section as thoroughly as its policy, so that
    :func:`imitlab.critics.critic_from_payload` gets only a section that loads."""
    from imitlab.critics import CRITIC_KINDS

    where = f"the critic section of {where}"
    if not isinstance(section, dict) or section.get("kind") not in CRITIC_KINDS:
        kind = section.get("kind") if isinstance(section, dict) else type(section).__name__
        raise UserError(f"{where} holds an unknown critic kind {kind!r}; {_RESAVE}")
    for key in ("obs_space", "act_space"):
        if section.get(key) != payload[key]:
            raise UserError(f"{where} is for other spaces than its policy ({key} differs); {_RESAVE}")
    obs_space, act_space = _network_spaces(section, where, _RESAVE)
    hidden = _network_hidden(section, where, _RESAVE)
    kind = CRITIC_KINDS[section["kind"]]
    load_checked_weights(lambda: kind(obs_space, act_space, hidden), section.get("state_dict"),
                         f"{where} ({section['kind']}, hidden {hidden})", _RESAVE)


def _network_spaces(payload: dict[str, Any], where: str, fix: str) -> tuple[gym.Space, gym.Space]:
    """The observation and action spaces a saved network's payload records, checked: a
    Box observation space and well-formed descriptions of bounded size."""
    from imitlab.data.demos import space_problem

    spaces = []
    for key in ("obs_space", "act_space"):
        if key not in payload:
            raise UserError(f"{where} lacks its {key!r}; {fix}")
        problem = space_problem(payload[key])
        if problem:
            raise UserError(f"{where}: its {key} {problem}; {fix}")
        spaces.append(space_from_description(payload[key]))
    if not isinstance(spaces[0], gym.spaces.Box):
        raise UserError(f"{where} records observations {spaces[0]}; imitlab's networks observe Box spaces; {fix}")
    return spaces[0], spaces[1]


def _network_hidden(payload: dict[str, Any], where: str, fix: str) -> list[int]:
    """The hidden layer sizes a saved network's payload records, checked to be whole numbers."""
    hidden = payload.get("hidden")
    if (not isinstance(hidden, list | tuple) or len(hidden) > 64
            or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden)):
        raise UserError(f"{where} has hidden={hidden!r}, not a list of layer sizes; {fix}")
    return list(hidden)


_Net = TypeVar("_Net", bound=nn.Module)


def load_checked_weights(build: Callable[[], _Net], state_dict: Any, where: str, fix: str) -> _Net:
    """``build()`` with ``state_dict`` loaded into it, once the weights are known to fit.

    The network is first built on the meta device (shapes only, no memory), so a file that declares
    a huge network, or weights that do not fit the network it declares, is refused before anything
    is allocated; weights must have the network's exact names, shapes and dtypes, and be finite.
    """
    if not isinstance(state_dict, dict):
        raise UserError(f"{where} has no weights (its state_dict is {type(state_dict).__name__}); {fix}")
    try:
        with torch.device("meta"):
            want = build().state_dict()
    except UserError as e:
        raise UserError(f"{where} describes a network imitlab cannot build ({e}); {fix}") from None
    except (RuntimeError, ValueError, OverflowError) as e:  # e.g. sizes whose product overflows int64
        raise UserError(f"{where} describes a network imitlab cannot build ({_one_line(str(e))}); {fix}") from None
    missing = sorted(map(str, want.keys() - state_dict.keys()))
    unexpected = sorted(map(str, state_dict.keys() - want.keys()))
    if missing or unexpected:
        raise UserError(f"{where}: its weights do not fit the network it declares (missing {missing or 'none'}, "
                        f"unexpected {unexpected or 'none'}); {fix}")
    for name, ref in want.items():
        got = state_dict[name]
        if not isinstance(got, torch.Tensor) or got.layout != torch.strided:
            raise UserError(f"{where}: weight {name!r} is a {type(got).__name__}, not a dense tensor; {fix}")
        if got.shape != ref.shape or got.dtype != ref.dtype:
            raise UserError(f"{where}: its weights do not fit the network it declares: {name!r} is "
                            f"{got.dtype} {tuple(got.shape)}, the network needs {ref.dtype} {tuple(ref.shape)}; {fix}")
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise UserError(f"{where}: weight {name!r} contains nan or inf; {fix}")
    module = build()
    module.load_state_dict(state_dict)
    return module


def read_torch_file(path: Path, what: str, fix: str) -> Any:
    """The object in a file written by ``torch.save``, loaded with ``weights_only=True`` once the
    zip archive's checksums hold (torch does not check them: a flipped byte in a tensor would
    load as a silently wrong weight). Any failure is a one-line UserError that ends with ``fix``."""
    name = f"{what} {str(path)!r}"
    try:
        if not zipfile.is_zipfile(path):
            raise UserError(f"cannot read {name}: it is not a zip archive as torch.save writes (truncated, or "
                            f"another kind of file); {fix}")
        with zipfile.ZipFile(path) as zf:
            damaged = zf.testzip()
        if damaged is not None:
            raise UserError(f"cannot read {name}: it is damaged (its part {damaged!r} fails its checksum or "
                            f"header check); {fix}")
        return torch.load(path, map_location="cpu", weights_only=True)
    except UserError:
        raise
    except pickle.UnpicklingError as e:
        # torch's message first suggests loading without weights_only; only its last part says what was refused.
        detail = _one_line(str(e).split("WeightsUnpickler error:")[-1]).split(". ")[0]
        raise UserError(f"cannot read {name}: it holds objects that a weights-only load refuses ({detail}); "
                        f"imitlab never unpickles code from files; {fix}") from None
    except Exception as e:  # noqa: BLE001 - zipfile and torch's reader raise many kinds for a damaged file
        detail = ": ".join([type(e).__name__, _one_line(str(e))][: 2 if str(e).strip() else 1])
        raise UserError(f"cannot read {name}: it is damaged or not a torch file ({detail}); {fix}") from None


def _one_line(text: str) -> str:
    """The first non-empty line of ``text``, shortened: library messages explain at length."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= 160 else line[:157] + "..."

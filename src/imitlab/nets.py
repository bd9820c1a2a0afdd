"""Small MLPs with the orthogonal initialisation that PPO implementations rely on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import gymnasium as gym
from torch import nn

from imitlab.envs.spaces import describe_space

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def mlp(
    in_dim: int,
    out_dim: int,
    hidden: Sequence[int] = (64, 64),
    *,
    activation: str = "tanh",
    out_gain: float = 1.0,
) -> nn.Sequential:
    """An MLP with orthogonal weights (gain sqrt(2) inside, ``out_gain`` on the last layer).

    A small ``out_gain`` (0.01 for policy heads) starts the policy near uniform, as in
    Andrychowicz et al. 2021, "What matters in on-policy RL".
    """
    layers: list[nn.Module] = []
    sizes = [in_dim, *hidden]
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [_init(nn.Linear(a, b), math.sqrt(2)), ACTIVATIONS[activation]()]
    layers.append(_init(nn.Linear(sizes[-1], out_dim), out_gain))
    return nn.Sequential(*layers)


def _init(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class SpacedNetwork(Protocol):
    """A network that records what it was built for: its hidden sizes and its spaces."""

    # read-only members, so that a network whose space is narrower (a Box) still fits
    @property
    def hidden(self) -> list[int]: ...

    @property
    def observation_space(self) -> gym.Space: ...

    @property
    def action_space(self) -> gym.Space: ...


def network_config(net: SpacedNetwork) -> dict[str, Any]:
    """What a saved file records to rebuild ``net``: its kind, hidden sizes and spaces."""
    return {
        "kind": type(net).__name__,
        "hidden": net.hidden,
        "obs_space": describe_space(net.observation_space),
        "act_space": describe_space(net.action_space),
    }

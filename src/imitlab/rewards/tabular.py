"""A tabular reward (kind ``"tabular"``): maximum-entropy IRL's learned reward on a tabular env.

It reads one-hot observations (imitlab's vector envs flatten a Discrete observation to one; the
state is the argmax) and discrete actions. Three forms:

- ``"next_state"``: r(s') of the state entered, as FrozenLake's and the gridworld's true rewards
  are. A terminal state (a goal, a hole) is entered but never acted in, so this is the form that
  can tell a goal from a hole. Called on (s, a), it gives the expectation under the dynamics it
  was learned with, R(s, a) = sum_s' P(s' | s, a) r(s'), kept in the file;
- ``"state"``: r(s) of the state acted in (``state_only``: actions unread);
- ``"state_action"``: r(s, a).

The state forms are a table (one weight per state) or linear over given state features,
r(s) = phi(s) . w (e.g. the gridworld's one-hot cell kinds: one weight per kind).

:meth:`TabularReward.table` gives the learned reward in its own form, [S] or [S, A], for heatmaps
beside :meth:`imitlab.envs.tabular.TabularMDP.true_table`; :meth:`TabularReward.sa_table` the
[S, A] table that ``forward`` reads.
"""

from __future__ import annotations

from typing import Any, get_args

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from imitlab.envs.tabular import RewardForm
from imitlab.errors import UserError

REWARD_FORMS: tuple[str, ...] = get_args(RewardForm)
MAX_FEATURES = 4096
MAX_ENTRIES = 1 << 26
"""The largest table held (states x actions, states x features)."""


class TabularReward(nn.Module):
    """A reward table over a tabular env's states (and actions); see the module docstring.

    Built as ``TabularReward(obs_space, act_space, form=..., n_features=...)`` (obs_space: the
    one-hot Box of n_states; act_space: Discrete), then given its weights with :meth:`set_weights`.
    All its state is in float64 buffers (``weights``, ``features``, ``rewards``), so the file
    carries it.
    """

    weights: torch.Tensor
    features: torch.Tensor
    rewards: torch.Tensor

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, *, form: str = "next_state",
                 n_features: int = 0) -> None:
        super().__init__()
        if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
            raise UserError(f"a tabular reward reads one-hot states (a 1-D Box), not {observation_space}")
        if not isinstance(action_space, gym.spaces.Discrete):
            raise UserError(f"a tabular reward reads discrete actions, not {action_space}")
        problem = self.check_config({"form": form, "n_features": n_features})
        if problem:
            raise UserError(f"a tabular reward's config {problem}")
        self.n_states, self.n_actions = int(observation_space.shape[0]), int(action_space.n)
        self.form, self.n_features = form, int(n_features)
        if self.n_states * max(self.n_actions, self.n_features) > MAX_ENTRIES:
            raise UserError(f"a tabular reward of {self.n_states:,} states holds at most {MAX_ENTRIES:,} entries a table")
        self.state_only = form == "state"
        if self.n_features:
            shape: tuple[int, ...] = (self.n_features,)
        else:
            shape = (self.n_states, self.n_actions) if form == "state_action" else (self.n_states,)
        self.register_buffer("weights", torch.zeros(shape, dtype=torch.float64))
        self.register_buffer("features", torch.zeros((self.n_states, self.n_features), dtype=torch.float64))
        self.register_buffer("rewards", torch.zeros((self.n_states, self.n_actions), dtype=torch.float64))

    @staticmethod
    def check_config(config: dict[str, Any]) -> str | None:
        """What is wrong with a file's config for this kind, or None."""
        if set(config) != {"form", "n_features"}:
            return f"has keys {sorted(config)}, not form and n_features"
        if config["form"] not in REWARD_FORMS:
            return f"has form {config['form']!r}, not one of {', '.join(REWARD_FORMS)}"
        n = config["n_features"]
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_FEATURES:
            return f"has n_features={n!r}, not a whole number in 0..{MAX_FEATURES}"
        if n and config["form"] == "state_action":
            return "is linear over state features with form state_action; features serve the state forms"
        return None

    def config(self) -> dict[str, Any]:
        return {"form": self.form, "n_features": self.n_features}

    @torch.no_grad()
    def set_weights(self, weights: np.ndarray, *, features: np.ndarray | None = None,
                    transitions: np.ndarray | None = None) -> TabularReward:
        """Set the learned weights (the table, or the linear weights over ``features`` [S, K]) and
        the [S, A] table ``forward`` reads; form ``next_state`` needs the env's ``transitions``
        P[s, a, s'] to take its expectation. Returns ``self``."""
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != tuple(self.weights.shape):
            raise ValueError(f"weights of shape {weights.shape}, the reward needs {tuple(self.weights.shape)}")
        if self.n_features:
            if features is None or np.shape(features) != (self.n_states, self.n_features):
                raise ValueError(f"a linear reward needs features [{self.n_states}, {self.n_features}]")
            self.features.copy_(torch.as_tensor(np.asarray(features, dtype=np.float64)))
        self.weights.copy_(torch.as_tensor(weights))
        table = self.table()
        if self.form == "state_action":
            rewards = table
        elif self.form == "state":
            rewards = np.repeat(table[:, None], self.n_actions, 1)
        else:
            if transitions is None or np.shape(transitions) != (self.n_states, self.n_actions, self.n_states):
                raise ValueError("a next-state reward needs the env's transitions [S, A, S] to take its expectation")
            rewards = np.asarray(transitions) @ table
        self.rewards.copy_(torch.as_tensor(rewards))
        return self

    def table(self) -> np.ndarray:
        """The learned reward in its own form (float64): r[S] (of the state entered for
        ``next_state``, acted in for ``state``) or r[S, A] (``state_action``)."""
        w = self.weights.numpy()
        return self.features.numpy() @ w if self.n_features else w.copy()

    def sa_table(self) -> np.ndarray:
        """R[S, A] (float64): the reward ``forward`` gives each state and action."""
        return self.rewards.numpy().copy()

    def forward(self, obs: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
        """Rewards [B] (float32) of one-hot observations [B, S] (or state indices [B]) and actions [B]."""
        states = obs.argmax(-1) if obs.dim() == 2 else obs.long()
        return self.rewards[states, acts.long().reshape(-1)].float()

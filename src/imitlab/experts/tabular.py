"""The exact optimal expert of a tabular env (``--expert optimal``): value iteration on its known
dynamics and true reward (:func:`imitlab.envs.tabular.tabular_mdp`), no training.

It acts on the one-hot observations imitlab's envs give, deterministically: the first optimal
action where several tie (FrozenLake's symmetric moves; ties within a relative 1e-6). It has Q*, so
it also serves AggreVaTeD. FrozenLake-v1's ice is slippery: its optimal policy reaches the goal in
about three episodes of four within the 100-step limit, so its demonstrations hold failures.

:func:`tabular_policy` turns any tabular policy (log-probabilities [S, A]) into an imitlab
:class:`~imitlab.policies.CategoricalPolicy` that reproduces it exactly: no hidden layer, so its
logits are the weights of one linear layer read by the one-hot state.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from imitlab.envs.tabular import TabularMDP, tabular_mdp
from imitlab.envs.vector import env_spaces
from imitlab.policies import CategoricalPolicy
from imitlab.rl.tabular import optimal_actions, value_iteration

EXPERT_GAMMA = 0.999
"""The discount the optimal expert maximises: close to 1, so that it values reaching the goal
over reaching it fast (on FrozenLake-v1 a lower discount gives up some success for speed)."""
LOG_FLOOR = -30.0
"""The logit of an action a tabular policy never takes (probability about 1e-13): files hold finite weights."""


def tabular_policy(log_pi: np.ndarray, observation_space: gym.Space, action_space: gym.Space) -> CategoricalPolicy:
    """A :class:`~imitlab.policies.CategoricalPolicy` with no hidden layer whose logits at the one-hot
    state s are ``log_pi[s]`` (log-probabilities [S, A], -inf allowed: floored at :data:`LOG_FLOOR`).
    Acting deterministically it takes the first most likely action, as ``argmax`` does."""
    log_pi = np.maximum(np.asarray(log_pi, dtype=np.float64), LOG_FLOOR)
    if not isinstance(action_space, gym.spaces.Discrete):
        raise ValueError(f"a tabular policy acts in a Discrete space, not {action_space}")
    policy = CategoricalPolicy(observation_space, action_space, hidden=())
    layer = policy.net[0]
    assert isinstance(layer, torch.nn.Linear), "a policy without hidden layers is one Linear layer"
    if tuple(layer.weight.shape) != (log_pi.shape[1], log_pi.shape[0]):
        raise ValueError(f"log_pi has shape {log_pi.shape}; the env's one-hot states and actions need "
                         f"{(layer.weight.shape[1], layer.weight.shape[0])}")
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(log_pi.T, dtype=torch.float32))
        layer.bias.zero_()
    policy.eval()
    return policy


class OptimalExpert:
    """The optimal policy of a tabular env's true reward, with its Q* (a :class:`~imitlab.experts.QExpert`).

    Args:
        env_id: an env with tabular dynamics (made with its active env kwargs).
        gamma: the discount it maximises.
    """

    has_q = True
    discrete = True

    def __init__(self, env_id: str, *, gamma: float = EXPERT_GAMMA) -> None:
        self.env_id = env_id
        self.gamma = gamma
        self.mdp: TabularMDP = tabular_mdp(env_id)
        solution = value_iteration(self.mdp.expected_reward(), self.mdp.continuation, gamma=gamma)
        self.q_table = solution.q
        """Q*(s, a) [S, A] of the true reward under ``gamma``."""
        self.optimal = optimal_actions(self.q_table)
        """Every optimal action of each state [S, A] (ties included)."""
        self.actions = self.optimal.argmax(1)
        """The action it takes in each state [S]: the first optimal one."""
        log_pi = np.where(np.eye(self.mdp.n_actions, dtype=bool)[self.actions], 0.0, LOG_FLOOR)
        self.policy = tabular_policy(log_pi, *env_spaces(env_id))
        self.source = f"optimal ({env_id}, gamma {gamma})"

    def act(self, obs: np.ndarray, *, deterministic: bool = True) -> np.ndarray:
        return self.actions[self.mdp.states_of(obs)]

    def q(self, obs: np.ndarray, act: np.ndarray) -> np.ndarray:
        return self.q_table[self.mdp.states_of(obs), np.asarray(act, dtype=np.int64).reshape(-1)].astype(np.float32)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        return self.q_table[self.mdp.states_of(obs)].astype(np.float32)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.act(obs)


def optimal_expert(env_id: str) -> OptimalExpert:
    """``--expert optimal``: the exact optimal expert of a tabular env; a UserError naming the
    tabular envs for any other."""
    return OptimalExpert(env_id)

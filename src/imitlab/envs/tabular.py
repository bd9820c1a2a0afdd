"""Known tabular dynamics: the transition tensor, rewards, terminal and initial states of an env
with finitely many states and actions.

:func:`tabular_mdp` reads them from gymnasium's toy-text layout, ``env.unwrapped.P[s][a]`` =
``[(probability, next_state, reward, terminated), ...]`` with ``initial_state_distrib``: the
layout of FrozenLake-v1, FrozenLake8x8-v1, CliffWalking-v1 (and its slippery version), Taxi-v4
and imitlab's own GridWorld-v0 (:mod:`imitlab.envs.gridworld`). The env is made with the env
kwargs active for it (:func:`imitlab.envs.vector.env_kwargs`, the CLI's ``--env-kwargs``), so
``{"is_slippery": false}`` or a gridworld's ``grid`` give their own dynamics.

States are the env's Discrete observations; imitlab's networks see them one-hot (the vector envs
flatten Discrete observations), and :meth:`TabularMDP.states_of` maps such observations back.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from imitlab.envs import gridworld as _gridworld  # noqa: F401  (registers GridWorld-v0)
from imitlab.envs.vector import active_env_kwargs, check_env_id, time_limit
from imitlab.errors import UserError

TABULAR_ENVS = ("FrozenLake-v1", "FrozenLake8x8-v1", "CliffWalking-v1", "CliffWalkingSlippery-v1", "Taxi-v4", "GridWorld-v0")
"""The registered envs known to have tabular dynamics (:func:`tabular_mdp` takes any env in their layout)."""
MAX_ENTRIES = 20_000_000
"""The largest transition tensor held (states x actions x states): Taxi-v4's is 1.5 million."""

RewardForm = Literal["state", "next_state", "state_action"]
"""What a tabular reward reads: the state acted in, the state entered, or the state and action."""


@dataclass(frozen=True, eq=False)
class TabularMDP:
    """An env's exact dynamics and true reward, as dense numpy arrays (read-only).

    An episode starts in a state drawn from ``initial``; at state s, action a leads to s' with
    probability ``transitions[s, a, s']``, earning ``rewards[s, a, s']``; the episode ends when
    ``terminates[s, a, s']``. ``max_episode_steps`` is the env's time limit (None: none).
    """

    env_id: str
    env_kwargs: dict[str, Any]
    transitions: np.ndarray
    """P(s' | s, a) [S, A, S'], float64; each [s, a] row sums to 1."""
    rewards: np.ndarray
    """The true reward of each transition [S, A, S'], float64 (0 where it has probability 0)."""
    terminates: np.ndarray
    """Whether the transition s, a -> s' ends the episode [S, A, S'], bool."""
    initial: np.ndarray
    """The distribution of the first state [S]."""
    max_episode_steps: int | None
    grid_shape: tuple[int, int] | None = None
    """(rows, cols) where states are the cells of a grid, row by row (heatmaps reshape to it)."""
    kinds: np.ndarray | None = None
    """Each state's cell kind as a character [S] (FrozenLake's S F H G, the gridworld's map,
    CliffWalking's S . C G with C the cliff), where the env has a map."""

    @property
    def n_states(self) -> int:
        return int(self.transitions.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.transitions.shape[1])

    @property
    def continuation(self) -> np.ndarray:
        """P(s' | s, a) for the transitions that do not end the episode [S, A, S']: the dynamics the
        solvers propagate values and visitation through (nothing follows a termination)."""
        return np.where(self.terminates, 0.0, self.transitions)

    @property
    def terminal(self) -> np.ndarray:
        """States where an episode has ended [S], bool: those entered only by terminating transitions
        (an episode never acts in them)."""
        entered = self.transitions > 0
        ending = (entered & self.terminates).any((0, 1))
        continuing = (entered & ~self.terminates).any((0, 1))
        return np.asarray(ending & ~continuing)

    @property
    def reachable(self) -> np.ndarray:
        """States some policy can reach from the initial states [S], bool (walls and CliffWalking's
        cliff are not: a fall returns the agent to the start)."""
        step = np.asarray((self.transitions > 0).any(1))  # [S, S']: s' follows s under some action
        acting = ~np.asarray(self.terminal)
        seen = np.asarray(self.initial > 0)
        frontier = seen.copy()
        while frontier.any():
            nxt = np.asarray(step[frontier & acting].any(0)) & ~seen
            seen |= nxt
            frontier = nxt
        return seen

    def expected_reward(self) -> np.ndarray:
        """The true reward's expectation over the next state, R[s, a] [S, A]."""
        return (self.transitions * self.rewards).sum(-1)

    def state_reward(self) -> np.ndarray | None:
        """The true reward as a function of the state entered, r[s'] [S] (nan for states never
        entered), or None where it is not one (CliffWalking: a fall costs -100, a bump into the edge
        beside the start -1, and both end in the start state)."""
        acted = ~self.terminal & self.reachable
        mask = (self.transitions > 0) & acted[:, None, None]
        lo = np.where(mask, self.rewards, np.inf).min((0, 1))
        hi = np.where(mask, self.rewards, -np.inf).max((0, 1))
        entered = mask.any((0, 1))
        if not np.allclose(lo[entered], hi[entered], rtol=0, atol=1e-9):
            return None
        return np.where(entered, lo, np.nan)

    def acted_state_reward(self) -> np.ndarray | None:
        """The true reward as a function of the state acted in, r[s] [S] (nan for terminal states),
        or None where it is not one."""
        acted = ~self.terminal & self.reachable
        mask = self.transitions > 0
        lo = np.where(mask, self.rewards, np.inf).min((1, 2))
        hi = np.where(mask, self.rewards, -np.inf).max((1, 2))
        if not np.allclose(lo[acted], hi[acted], rtol=0, atol=1e-9):
            return None
        return np.where(acted, lo, np.nan)

    def true_table(self, form: RewardForm) -> np.ndarray | None:
        """The true reward in the shape a tabular reward of ``form`` learns (to draw beside it):
        r[s'] of the state entered (``next_state``), r[s] of the state acted in (``state``), or the
        expected R[s, a] (``state_action``); None where the true reward has no such form."""
        if form == "next_state":
            return self.state_reward()
        if form == "state":
            return self.acted_state_reward()
        if form == "state_action":
            return self.expected_reward()
        raise ValueError(f"unknown reward form {form!r}")

    def kind_features(self) -> tuple[np.ndarray, list[str]]:
        """One-hot cell kinds [S, K] (float64) and the kinds, for a linear reward with a weight per
        kind; a UserError for an env without a map."""
        if self.kinds is None:
            raise UserError(f"{self.env_id} has no map of cell kinds; use table features (one weight per state)")
        names = list(dict.fromkeys(self.kinds.tolist()))
        return (self.kinds[:, None] == np.array(names)[None, :]).astype(np.float64), names

    def states_of(self, obs: np.ndarray) -> np.ndarray:
        """The state indices [B] (int64) of one-hot observations [B, S] (or of indices [B])."""
        obs = np.asarray(obs)
        if obs.ndim == 1:
            states = obs.astype(np.int64)
        elif obs.ndim == 2 and obs.shape[1] == self.n_states:
            states = obs.argmax(1).astype(np.int64)
        else:
            raise UserError(f"observations of shape {obs.shape[1:]} are not {self.env_id}'s one-hot states "
                            f"({self.n_states},)")
        if len(states) and (states.min() < 0 or states.max() >= self.n_states):
            raise UserError(f"observations hold states outside {self.env_id}'s 0..{self.n_states - 1}")
        return states


def tabular_env_names() -> list[str]:
    """The envs of :data:`TABULAR_ENVS` that this gymnasium registers."""
    return [env_id for env_id in TABULAR_ENVS if env_id in gym.registry]


def has_tabular_dynamics(env_id: str) -> bool:
    """True if :func:`tabular_mdp` can read ``env_id``'s dynamics (with its active env kwargs)."""
    try:
        tabular_mdp(env_id)
    except UserError:
        return False
    return True


def _no_dynamics(env_id: str, why: str) -> UserError:
    return UserError(f"{env_id} has no known tabular dynamics ({why}); maxent-irl and the optimal expert need an env "
                     f"with finitely many states whose transition probabilities are known, e.g. "
                     f"{', '.join(tabular_env_names())}")


def tabular_mdp(env_id: str) -> TabularMDP:
    """The exact dynamics and true reward of ``env_id``, made with its active env kwargs.

    Raises:
        UserError: an unknown env id, env kwargs it does not take, or an env without tabular
            dynamics (naming those that have them).
    """
    check_env_id(env_id)
    kwargs = active_env_kwargs(env_id)
    return _build(env_id, json.dumps(kwargs, sort_keys=True, default=repr))


@lru_cache(maxsize=16)
def _build(env_id: str, kwargs_json: str) -> TabularMDP:
    kwargs = json.loads(kwargs_json)
    try:
        with warnings.catch_warnings():  # made only to read its dynamics: its deprecation notes are not news here
            warnings.simplefilter("ignore")
            env = gym.make(env_id, **kwargs)
    except gym.error.DependencyNotInstalled as e:
        raise _no_dynamics(env_id, f"it cannot even be made here: {e}") from None
    except TypeError as e:
        if not kwargs:
            raise
        raise UserError(f"{env_id} does not take the env kwargs {kwargs} ({' '.join(str(e).split())}); "
                        "check --env-kwargs against the env's constructor") from None
    try:
        return _read(env_id, kwargs, env)
    finally:
        env.close()


def _read(env_id: str, kwargs: dict[str, Any], env: gym.Env) -> TabularMDP:
    u = env.unwrapped
    obs_space, act_space = u.observation_space, u.action_space
    if not (isinstance(obs_space, gym.spaces.Discrete) and isinstance(act_space, gym.spaces.Discrete)):
        raise _no_dynamics(env_id, f"its observations are {type(obs_space).__name__}, its actions "
                                   f"{type(act_space).__name__}, not both Discrete")
    P = getattr(u, "P", None)
    initial = getattr(u, "initial_state_distrib", None)
    if not isinstance(P, dict) or initial is None:
        raise _no_dynamics(env_id, "its env exposes no transition table P and initial_state_distrib")
    if getattr(u, "fickle_passenger", False):
        raise _no_dynamics(env_id, "a fickle passenger changes destination outside its transition table P")
    S, A = int(obs_space.n), int(act_space.n)
    if S * A * S > MAX_ENTRIES:
        raise _no_dynamics(env_id, f"its {S:,} states make a transition tensor larger than {MAX_ENTRIES:,} entries")
    start = int(obs_space.start)
    transitions = np.zeros((S, A, S))
    rewards = np.zeros((S, A, S))
    terminates = np.zeros((S, A, S), dtype=bool)
    for s in range(S):
        for a in range(A):
            for p, nxt, r, done in P[s + start][a + int(act_space.start)]:
                j = int(nxt) - start
                # several entries may name one next state (FrozenLake's slips into a wall): their
                # rewards and ends agree, so the probabilities add up
                transitions[s, a, j] += p
                rewards[s, a, j] = r
                terminates[s, a, j] |= bool(done)
    if not np.allclose(transitions.sum(-1), 1.0, atol=1e-6):
        raise _no_dynamics(env_id, "its transition probabilities do not sum to 1")
    initial = np.asarray(initial, dtype=np.float64).reshape(-1)
    entered = transitions > 0
    terminal = np.asarray((entered & terminates).any((0, 1)) & ~(entered & ~terminates).any((0, 1)))
    grid_shape, kinds = _map_of(u, S, terminal)
    for array in (transitions, rewards, terminates, initial):
        array.setflags(write=False)
    return TabularMDP(
        env_id=env_id, env_kwargs=kwargs, transitions=transitions, rewards=rewards, terminates=terminates,
        initial=initial / initial.sum(), max_episode_steps=time_limit(env_id),
        grid_shape=grid_shape, kinds=kinds,
    )


def _map_of(u: Any, n_states: int, terminal: np.ndarray) -> tuple[tuple[int, int] | None, np.ndarray | None]:
    """The grid shape and cell kinds of a toy-text env, where it has a map of its states (a
    ``desc`` as FrozenLake's, or CliffWalking's ``shape``, cliff and start, its terminal states goals)."""
    desc = getattr(u, "desc", None)
    if isinstance(desc, np.ndarray) and desc.ndim == 2 and desc.size == n_states:
        kinds = np.array([c.decode() if isinstance(c, bytes) else str(c) for c in desc.reshape(-1)])
        return (int(desc.shape[0]), int(desc.shape[1])), kinds
    shape = getattr(u, "shape", None)
    cliff = getattr(u, "_cliff", None)
    if isinstance(shape, tuple) and len(shape) == 2 and shape[0] * shape[1] == n_states:
        kinds = np.full(n_states, ".")
        if isinstance(cliff, np.ndarray) and cliff.size == n_states:
            kinds[cliff.reshape(-1)] = "C"
        start = getattr(u, "start_state_index", None)
        if start is not None:
            kinds[int(start)] = "S"
        kinds[terminal] = "G"
        return (int(shape[0]), int(shape[1])), kinds
    return None, None

"""Maximum (causal) entropy inverse RL on tabular envs with known dynamics (Ziebart et al. 2008,
"Maximum Entropy Inverse Reinforcement Learning"; Ziebart et al. 2010, "Modeling Interaction via
the Principle of Maximum Causal Entropy").

The expert is modelled as the maximum causal entropy policy of a reward R = theta . phi: the
soft-optimal policy that :func:`imitlab.rl.tabular.soft_value_iteration` computes exactly from the
env's dynamics (:func:`imitlab.envs.tabular.tabular_mdp`). Each iteration solves it, takes its
exact discounted state-action visitation (:func:`imitlab.rl.tabular.state_visitation`), and moves
theta (by Adam) along the log-likelihood's gradient: the expert's feature counts minus the
policy's (:mod:`imitlab.losses.irl`). No sampling anywhere, so it is the ground truth the deep IRL
methods approximate; the env is used only to evaluate the learned reward's policy.

The reward (``reward_form``) is r(s') of the state entered (the default: FrozenLake's goal and
holes are entered, never acted in, so only this form can tell them apart), r(s) of the state acted
in, or r(s, a); a table (one weight per state or pair) or linear over the map's cell kinds
(``features="kinds"``: one weight per kind, the gridworld's true reward being one of those).

What a run reports, besides the env's return of the learned reward's policy:

- ``agreement``: on the states the expert acts in (in the demos), the share where the expert's
  action is an optimal action of the learned reward (value iteration on it, same discount or
  horizon). Ties count as agreement only when the expert's action is among the tied optimal
  actions (within a relative 1e-6 of the best, ``tie_rtol``); a state where the expert took
  several actions is judged by its most frequent one. ``agreement_strict`` asks the policy's
  single deterministic action (the first optimal one) to be the expert's; ``agreement_steps``
  weighs states by the expert's visits;
- ``reward_correlation``: Pearson and Spearman correlation of the learned R(s, a) with the env's
  true expected reward, weighted by the expert's state-action visits (``expert``) and by a
  uniform-random policy's exact discounted visitation (``random``), and of the learned table with
  the true one over the reachable states (``table``, where the true reward has the learned form).
  An IRL reward is known only up to scale, shift and shaping, so these are a guide, not a score;
  a correlation is None where either side is constant (CliffWalking's expert sees -1 everywhere).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from imitlab.data.demos import Demonstrations, Transitions
from imitlab.envs.tabular import RewardForm, TabularMDP, tabular_mdp
from imitlab.errors import UserError, positive
from imitlab.losses.irl import demo_log_likelihood, expert_visitation, maxent_gradient, step_times
from imitlab.rl.tabular import (
    Solution,
    absorbing_probability,
    optimal_actions,
    soft_value_iteration,
    state_visitation,
    value_iteration,
)
from imitlab.training import TrainingRun, TrainResult

Features = Literal["table", "kinds"]
PolicyChoice = Literal["greedy", "soft"]


@dataclass(frozen=True)
class MaxEntIRLConfig:
    """Maximum-entropy IRL's settings: the reward's form, the horizon, and the gradient steps."""

    iterations: int = 300
    """Most gradient steps on the reward; it stops earlier once the learner's feature counts match
    the expert's to within ``tol``."""
    lr: float = 0.05
    """Adam's step size on the reward's weights."""
    reward_form: RewardForm = "next_state"
    """What the reward reads: next_state, r(s') of the state entered (tells a goal from a hole);
    state, r(s) of the state acted in; state_action, r(s, a)."""
    features: Features = "table"
    """table: one weight per state (or state and action); kinds: one weight per kind of cell of the
    env's map (FrozenLake's S F H G, the gridworld's cells, CliffWalking's start, cliff, goal)."""
    gamma: float = 0.99
    """Discount of the soft values and of the feature counts (with a finite horizon, 1 is allowed)."""
    horizon: int = 0
    """A finite horizon for the soft values and the counts, e.g. the env's time limit (0: discounted,
    infinite horizon). The policy kept is the first step's."""
    l2: float = 0.0
    """Weight of an L2 penalty on the reward's weights (keeps the reward of states the expert
    never visits finite)."""
    tol: float = 1e-3
    """Stop once every feature count of the learner is within this of the expert's."""
    policy: PolicyChoice = "greedy"
    """The policy written to policy.pt: greedy, the optimal policy of the learned reward (value
    iteration; ties split evenly), or soft, the maximum-entropy policy that models the expert."""
    tie_rtol: float = 1e-6
    """Actions whose optimal values are within this (relative) of the best are tied: each is optimal."""


@dataclass
class ExpertSteps:
    """The demonstrations as tabular steps: the state acted in, the action, its time in its episode."""

    states: np.ndarray
    actions: np.ndarray
    times: np.ndarray
    n_episodes: int

    @classmethod
    def of(cls, mdp: TabularMDP, demos: Demonstrations) -> ExpertSteps:
        obs = np.concatenate([t.obs[:-1] for t in demos.trajectories])
        acts = np.concatenate([t.acts for t in demos.trajectories]).astype(np.int64).reshape(-1)
        return cls(mdp.states_of(obs), acts, step_times(demos.lengths()), demos.n_episodes)


class LinearTabularReward:
    """R = theta . phi on a tabular MDP, for each reward form, without building phi [S, A, K]:
    :meth:`reward` maps weights to R [S, A] and :meth:`counts` a visitation D [S, A] to its
    feature counts (linear in D, so the gradient is ``counts(D_expert - D_policy)``)."""

    def __init__(self, mdp: TabularMDP, form: str, features: np.ndarray | None = None) -> None:
        if form not in ("state", "next_state", "state_action"):
            raise UserError(f"unknown reward form {form!r}; use next_state, state or state_action")
        if features is not None and form == "state_action":
            raise UserError("features describe states: use them with reward form next_state or state, or use table features")
        self.form = form
        self.S, self.A = mdp.n_states, mdp.n_actions
        self.transitions = mdp.transitions
        self.features = None if features is None else np.asarray(features, dtype=np.float64)
        if self.features is not None and (self.features.ndim != 2 or len(self.features) != self.S):
            raise UserError(f"state features must be [n_states={self.S}, K], got {self.features.shape}")

    @property
    def n_weights(self) -> int:
        if self.features is not None:
            return int(self.features.shape[1])
        return self.S * self.A if self.form == "state_action" else self.S

    def weight_shape(self) -> tuple[int, ...]:
        """The shape of the weights as :class:`~imitlab.rewards.tabular.TabularReward` keeps them."""
        if self.form == "state_action" and self.features is None:
            return (self.S, self.A)
        return (self.n_weights,)

    def state_table(self, theta: np.ndarray) -> np.ndarray:
        return theta if self.features is None else self.features @ theta

    def reward(self, theta: np.ndarray) -> np.ndarray:
        """R[s, a] [S, A] of the weights ``theta``."""
        if self.form == "state_action":
            return theta.reshape(self.S, self.A)
        r = self.state_table(theta)
        if self.form == "state":
            return np.repeat(r[:, None], self.A, 1)
        return (self.transitions.reshape(self.S * self.A, self.S) @ r).reshape(self.S, self.A)

    def counts(self, visitation: np.ndarray) -> np.ndarray:
        """Feature counts [K] of a state-action visitation D [S, A]."""
        if self.form == "state_action":
            return visitation.reshape(-1)
        if self.form == "state":
            per_state = visitation.sum(1)
        else:
            per_state = visitation.reshape(-1) @ self.transitions.reshape(self.S * self.A, self.S)
        return per_state if self.features is None else self.features.T @ per_state


@dataclass
class MaxEntIRL:
    """The optimisation, one gradient step per :meth:`step` (the training loop and the benchmark drive it)."""

    mdp: TabularMDP
    model: LinearTabularReward
    expert: ExpertSteps
    config: MaxEntIRLConfig
    theta: np.ndarray = field(init=False)
    solution: Solution | None = field(init=False, default=None)
    gap: float = field(init=False, default=math.inf)
    iteration: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        c = self.config
        self.continuation = self.mdp.continuation
        self.expert_d = expert_visitation(self.expert.states, self.expert.actions, self.expert.times,
                                          n_states=self.mdp.n_states, n_actions=self.mdp.n_actions,
                                          n_episodes=self.expert.n_episodes, gamma=c.gamma, horizon=c.horizon)
        self.expert_counts = self.model.counts(self.expert_d)
        self.theta = np.zeros(self.model.n_weights)
        self._m = np.zeros_like(self.theta)
        self._v = np.zeros_like(self.theta)

    def solve(self, theta: np.ndarray | None = None) -> Solution:
        """The soft-optimal solution of the reward of ``theta`` (default: the current weights)."""
        c = self.config
        warm = self.solution.v if self.solution is not None and c.horizon == 0 else None
        reward = self.model.reward(self.theta if theta is None else theta)
        return soft_value_iteration(reward, self.continuation, gamma=c.gamma, horizon=c.horizon, v0=warm)

    def step(self) -> dict[str, float]:
        """Solve the current reward, measure the feature-count gap, take one Adam step; the step's stats."""
        c = self.config
        self.solution = self.solve()
        policy = np.exp(self.solution.log_pi)
        _, learner_d = state_visitation(policy, self.continuation, self.mdp.initial, gamma=c.gamma, horizon=c.horizon)
        learner_counts = self.model.counts(learner_d)
        self.gap = float(np.abs(self.expert_counts - learner_counts).max())
        grad = maxent_gradient(self.expert_counts, learner_counts, self.theta, l2=c.l2)
        self.iteration += 1
        stats = {"feature_gap": self.gap, "log_likelihood": self.log_likelihood(), "soft_sweeps": float(self.solution.iterations)}
        if self.gap >= c.tol:
            b1, b2, eps = 0.9, 0.999, 1e-8
            self._m = b1 * self._m + (1 - b1) * grad
            self._v = b2 * self._v + (1 - b2) * grad**2
            m_hat = self._m / (1 - b1**self.iteration)
            v_hat = self._v / (1 - b2**self.iteration)
            self.theta = self.theta + c.lr * m_hat / (np.sqrt(v_hat) + eps)
        return stats

    def refresh(self) -> None:
        """Solve for the current weights and measure their gap, without a step (after the last one)."""
        c = self.config
        self.solution = self.solve()
        _, learner_d = state_visitation(np.exp(self.solution.log_pi), self.continuation, self.mdp.initial,
                                        gamma=c.gamma, horizon=c.horizon)
        self.gap = float(np.abs(self.expert_counts - self.model.counts(learner_d)).max())

    @property
    def converged(self) -> bool:
        return self.gap < self.config.tol

    def log_likelihood(self) -> float:
        """The demonstrations' discounted log-likelihood per episode under the current soft policy."""
        assert self.solution is not None, "step() first"
        c = self.config
        return demo_log_likelihood(self.solution.log_pi, self.expert.states, self.expert.actions, self.expert.times,
                                   n_episodes=self.expert.n_episodes, gamma=c.gamma, horizon=c.horizon)

    def reward_table(self) -> np.ndarray:
        """The learned R[s, a] [S, A]."""
        return self.model.reward(self.theta)

    def optimal_solution(self) -> Solution:
        """Value iteration on the learned reward (its optimal policy; same discount or horizon)."""
        c = self.config
        return value_iteration(self.reward_table(), self.continuation, gamma=c.gamma, horizon=c.horizon, tie_rtol=c.tie_rtol)


def agreement(q: np.ndarray, states: np.ndarray, actions: np.ndarray, *, tie_rtol: float = 1e-6) -> dict[str, float | int]:
    """How often the optimal policy of Q (values [S, A] of the learned reward) takes the expert's action.

    Returns:
        ``agreement``: the share of the distinct states the expert acts in where its action (its
        most frequent one there) is among the optimal actions of Q (ties within ``tie_rtol``: see
        :func:`imitlab.rl.tabular.optimal_actions`); ``agreement_strict``: where it is the single
        action a deterministic policy takes (the first optimal one); ``agreement_steps``: the share
        of the expert's steps whose action is optimal; ``expert_states``: the distinct states.
    """
    S, A = q.shape
    best = optimal_actions(q, rtol=tie_rtol)
    first = best.argmax(1)
    counts = np.zeros((S, A), dtype=np.int64)
    np.add.at(counts, (states, actions), 1)
    visited = np.flatnonzero(counts.sum(1))
    top = counts[visited] == counts[visited].max(1, keepdims=True)  # the expert's most frequent action(s)
    agree = (top & best[visited]).any(1)
    strict = top[np.arange(len(visited)), first[visited]]
    return {
        "agreement": float(agree.mean()) if len(visited) else math.nan,
        "agreement_strict": float(strict.mean()) if len(visited) else math.nan,
        "agreement_steps": float(best[states, actions].mean()) if len(states) else math.nan,
        "expert_states": int(len(visited)),
    }


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float | None:
    w = w / w.sum()
    dx, dy = x - w @ x, y - w @ y
    vx, vy = w @ (dx * dx), w @ (dy * dy)
    scale = max(np.abs(x).max(), np.abs(y).max(), 1e-300)
    if vx <= (1e-12 * scale) ** 2 or vy <= (1e-12 * scale) ** 2:
        return None  # a constant side: no correlation to speak of
    return float(np.clip(w @ (dx * dy) / math.sqrt(vx * vy), -1.0, 1.0))


def _weighted_ranks(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mid-ranks of ``x`` counting each entry ``w`` times (ties share their mean rank)."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    _, start, counts = np.unique(xs, return_index=True, return_counts=True)
    cum = np.concatenate([[0.0], np.cumsum(ws)])
    group_w = np.add.reduceat(ws, start)
    mid = cum[start] + group_w / 2
    ranks = np.empty_like(x, dtype=np.float64)
    ranks[order] = np.repeat(mid, counts)
    return ranks


def weighted_correlations(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, float | None]:
    """Pearson and Spearman correlation of ``x`` and ``y`` with each entry weighted by ``w``
    (entries of weight 0 left out); None where either side is constant."""
    x, y, w = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (x, y, w))
    keep = (w > 0) & np.isfinite(x) & np.isfinite(y)
    x, y, w = x[keep], y[keep], w[keep]
    if len(x) < 2:
        return {"pearson": None, "spearman": None}
    return {"pearson": _weighted_pearson(x, y, w),
            "spearman": _weighted_pearson(_weighted_ranks(x, w), _weighted_ranks(y, w), w)}


def reward_correlation(mdp: TabularMDP, learned_sa: np.ndarray, learned_table: np.ndarray, form: str,
                       expert: ExpertSteps, *, gamma: float, horizon: int) -> dict[str, dict[str, float | None]]:
    """The learned reward's correlation with the env's true one (see the module docstring)."""
    true_sa = mdp.expected_reward()
    expert_w = np.zeros_like(true_sa)
    np.add.at(expert_w, (expert.states, expert.actions), 1.0)
    uniform = np.full(true_sa.shape, 1.0 / mdp.n_actions)
    policy = uniform if horizon == 0 else np.broadcast_to(uniform, (horizon, *uniform.shape))
    _, random_w = state_visitation(policy, mdp.continuation, mdp.initial, gamma=gamma, horizon=horizon)
    result = {"expert": weighted_correlations(learned_sa, true_sa, expert_w),
              "random": weighted_correlations(learned_sa, true_sa, random_w)}
    true_table = mdp.true_table(form)  # type: ignore[arg-type]
    if true_table is not None:
        mask = mdp.reachable if true_table.ndim == 1 else np.broadcast_to(mdp.reachable[:, None], true_table.shape)
        if form == "state":
            mask = mask & ~mdp.terminal
        result["table"] = weighted_correlations(learned_table, true_table, mask.astype(np.float64))
    return result


def _check_config(config: MaxEntIRLConfig) -> None:
    positive("iterations", config.iterations)
    positive("lr", config.lr)
    if config.horizon < 0:
        raise UserError(f"horizon must be >= 0 (0: discounted, infinite horizon), got {config.horizon}")
    if not 0 < config.gamma <= 1 or (config.horizon == 0 and config.gamma == 1):
        raise UserError(f"gamma must be in (0, 1) with an infinite horizon, (0, 1] with a finite one; got {config.gamma}")
    if config.l2 < 0 or config.tol < 0 or config.tie_rtol < 0:
        raise UserError(f"l2, tol and tie_rtol must be >= 0, got {config.l2}, {config.tol}, {config.tie_rtol}")
    if config.reward_form not in ("next_state", "state", "state_action"):
        raise UserError(f"unknown reward_form {config.reward_form!r}; use next_state, state or state_action")
    if config.features not in ("table", "kinds"):
        raise UserError(f"unknown features {config.features!r}; use table or kinds")
    if config.policy not in ("greedy", "soft"):
        raise UserError(f"unknown policy {config.policy!r}; use greedy or soft")


def _state_features(mdp: TabularMDP, config: MaxEntIRLConfig, given: np.ndarray | None) -> tuple[np.ndarray | None, list[str] | None]:
    if given is not None:
        from imitlab.rewards.tabular import MAX_FEATURES

        given = np.asarray(given, dtype=np.float64)
        if given.ndim != 2 or len(given) != mdp.n_states or not 1 <= given.shape[1] <= MAX_FEATURES:
            raise UserError(f"state features must be [n_states={mdp.n_states}, K] with 1 <= K <= {MAX_FEATURES}, "
                            f"got {given.shape}")
        if config.reward_form == "state_action":
            raise UserError("state features describe states: use them with reward_form next_state or state")
        return given, None
    if config.features == "kinds":
        if config.reward_form == "state_action":
            raise UserError("features kinds describe cells (states): use them with reward_form next_state or state")
        return mdp.kind_features()
    return None, None


def _can_evaluate(mdp: TabularMDP, log_pi: np.ndarray) -> bool:
    """An evaluation episode of the policy ``log_pi`` [S, A], acting by its mode as evaluations do,
    ends: the env has a time limit, or the policy reaches a termination with probability 1
    (CliffWalking-v1 has no limit, so a policy that walks into the edge forever would hang it)."""
    if mdp.max_episode_steps is not None:
        return True
    policy = np.eye(mdp.n_actions)[log_pi.argmax(1)]
    return absorbing_probability(policy, mdp.continuation, mdp.initial) > 1 - 1e-9


def train_maxent_irl(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    config: MaxEntIRLConfig = MaxEntIRLConfig(),
    seed: int = 0,
    out: str | os.PathLike | None = None,
    eval_every: int = 0,
    eval_episodes: int = 50,
    progress: bool = False,
    state_features: np.ndarray | None = None,
) -> TrainResult:
    """Learn the reward of a tabular env's demonstrations by maximum causal entropy IRL, and the
    policy that is optimal for it.

    The run directory gets ``reward.pt`` (a :class:`~imitlab.rewards.tabular.TabularReward`: its
    ``table()`` is the learned reward, ``sa_table()`` what it gives each state and action) and
    ``policy.pt`` (the greedy or soft policy of the learned reward, exactly, as a
    :class:`~imitlab.policies.CategoricalPolicy` without hidden layers); progress.csv logs the
    feature-count gap and the demos' log-likelihood per iteration, summary.json the agreement
    with the expert and the correlation with the true reward (see the module docstring).

    Args:
        env_id: an env with tabular dynamics (FrozenLake-v1, CliffWalking-v1, GridWorld-v0, ...),
            made with the env kwargs active for it.
        demos: whole demonstration episodes (discounted counts need each step's time: subsampled
            transitions are refused).
        config: the settings; ``config.iterations`` is the budget.
        seed: seeds the evaluation episodes (the learning itself is exact and deterministic).
        out: a run directory to write, or None.
        eval_every: evaluate the learned reward's policy in the env every this many iterations
            (0: only at the end).
        eval_episodes: episodes per evaluation.
        progress: show a progress bar.
        state_features: a linear reward over these state features [n_states, K] instead of
            ``config.features`` (Python only).

    Raises:
        UserError: an env without tabular dynamics (before anything is written), demos from
            another env or subsampled, bad settings.
    """
    from imitlab.algorithms._inputs import expert_transitions
    from imitlab.envs.vector import active_env_kwargs
    from imitlab.experts.tabular import tabular_policy
    from imitlab.rewards import save_reward
    from imitlab.rewards.tabular import TabularReward
    from imitlab.utils import seed_everything

    mdp = tabular_mdp(env_id)  # first: an env without tabular dynamics is refused before anything else
    _check_config(config)
    if not isinstance(demos, Demonstrations):
        raise UserError("maxent-irl needs whole demonstration episodes (its discounted feature counts need each step's "
                        "time in its episode); drop --subsample-every and --pairs")
    _, obs_space, act_space = expert_transitions(env_id, demos)
    features, feature_names = _state_features(mdp, config, state_features)
    model = LinearTabularReward(mdp, config.reward_form, features)
    expert = ExpertSteps.of(mdp, demos)
    seed_everything(seed)
    irl = MaxEntIRL(mdp, model, expert, config)

    run = TrainingRun(
        env_id=env_id, seed=seed, total=config.iterations, unit="iteration", out=out,
        config={"algo": "maxent-irl", "env_id": env_id, "seed": seed, "n_episodes": demos.n_episodes,
                "n_transitions": demos.n_transitions, "feature_names": feature_names, **asdict(config)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
    )

    def policy_now() -> tuple[Any, np.ndarray, np.ndarray]:
        """The policy to keep, its log-probabilities, and the optimal Q of the learned reward."""
        optimal = irl.optimal_solution()
        assert irl.solution is not None, "step() first"
        log_pi = optimal.first_log_pi if config.policy == "greedy" else irl.solution.first_log_pi
        return tabular_policy(log_pi, obs_space, act_space), log_pi, optimal.first_q

    final = None
    evaluated_at = None
    skipped = False

    def evaluate(iteration: int) -> tuple[Any, np.ndarray]:
        nonlocal final, evaluated_at, skipped
        policy, log_pi, q = policy_now()
        if _can_evaluate(mdp, log_pi):
            final = run.evaluate(policy, env_steps=0, epoch=iteration)
            evaluated_at = iteration
        elif not skipped:
            skipped = True
            warnings.warn(f"the {config.policy} policy of the learned reward can loop forever in {env_id}, which has "
                          "no time limit: its evaluation is skipped", stacklevel=3)
        return policy, q

    for iteration in range(1, config.iterations + 1):
        with run.timed():
            stats = irl.step()
        run.advance(1, stats, step=iteration)
        if iteration == config.iterations or irl.converged:
            break
        if run.evaluation_due(iteration):
            evaluate(iteration)
    with run.timed():
        irl.refresh()  # the last step moved the weights: solve for them, as kept
    final = None
    policy, q = evaluate(irl.iteration)
    scores = agreement(q, expert.states, expert.actions, tie_rtol=config.tie_rtol)
    reward = TabularReward(obs_space, act_space, form=config.reward_form, n_features=0 if features is None else features.shape[1])
    reward.set_weights(irl.theta.reshape(model.weight_shape()), features=features, transitions=mdp.transitions)
    correlation = reward_correlation(mdp, reward.sa_table(), reward.table(), config.reward_form, expert,
                                     gamma=config.gamma, horizon=config.horizon)
    extra = {"algo": "maxent-irl", "iterations": irl.iteration, "converged": irl.converged, "feature_gap": irl.gap,
             "log_likelihood": irl.log_likelihood(), **scores, "reward_correlation": correlation,
             "evaluated_at": evaluated_at}
    if run.log is not None:
        save_reward(reward, run.log.dir / "reward.pt", env_id=env_id, obs_space=obs_space, act_space=act_space,
                    env_kwargs=active_env_kwargs(env_id), gamma=config.gamma if config.horizon == 0 else None,
                    extra={k: extra[k] for k in ("algo", "agreement", "reward_correlation")} | {"seed": seed})
    result = run.result(policy, final=final, extra=extra)
    result.reward, result.reward_correlation = reward, correlation
    return result

"""AggreVaTeD, differentiable imitation of the expert's cost-to-go (Sun et al. 2017,
arXiv:1703.01030), after AggreVaTe (Ross & Bagnell 2014, arXiv:1406.5979).

DAgger copies the expert's action; AggreVaTe(D) learns which actions cost little under the
expert's cost-to-go Q*(s, a), so it is told how bad a mistake is, not only that it is one. Each
iteration rolls in ``num_envs`` (K) envs for ``horizon`` (H) steps with a mixture (per env and
step the expert acts with probability alpha, which decays by a schedule; the envs carry on across
iterations, like the other samplers), gets Q* at every visited state, and takes ``epochs`` passes
of gradient steps on that iteration's states:

- discrete actions: minimise ``E_{a~pi}[-Q*(s, a)] = -sum_a pi(a|s) Q*(s, a)`` exactly over the
  action set (``losses.aggrevated_discrete_loss``);
- continuous actions: the likelihood-ratio loss ``-log pi(a|s) A*(s, a)``
  (``losses.aggrevated_continuous_loss``) on ``action_samples`` actions drawn from the policy at each
  state, with ``A* = Q*(s, a) - V*(s)``. ``V*(s)`` is the mean of Q* over those sampled actions
  (``baseline="mean"``, the default: each state's advantages then sum to 0) or Q*(s, expert's
  action) (``baseline="expert"``), on every path below (``continuous_advantages``).

With ``aggregate=True`` the visited states are aggregated over iterations (AggreVaTe's data
aggregation; Q* does not depend on the policy, so old states stay valid). For discrete actions the
loss over them stays exact. For continuous actions with a critic, fresh actions are drawn from the
current policy at every minibatch and valued by the critic, since the likelihood-ratio estimate is
only unbiased for actions drawn from the policy it moves; this is what makes Pendulum-v1 work (the
earlier scheme, actions drawn once per iteration and several passes over them, stalled at a
normalized score of ~0.15). Without aggregation (or with Monte-Carlo Q*, where fresh actions would
cost roll-outs) each iteration's states and action samples are used for ``epochs`` passes, as in
AggreVaTeD's online gradient steps. ``mean_q`` in progress.csv is the mean Q* of the learner's
sampled actions valued in the iteration (on the fresh-sample path, over all its minibatches).

Advantages are divided by their standard deviation over the iteration, so the learning rate does
not depend on the reward scale. Q* comes from the expert's critic (a DQN's Q-network, a SAC's twin
critic, an SB3 DQN/SAC/TD3) or, for an expert without one, from Monte-Carlo roll-outs of the expert
from the restored env state (:mod:`imitlab.experts.montecarlo`; imitlab's batched classic-control
envs only). Those roll-outs take env steps of their own: they are counted apart (``mc_env_steps``
in progress.csv and summary.json), the budget ``total_steps`` counts roll-in steps.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal, Protocol, cast, get_args

import gymnasium as gym
import numpy as np
import torch

from imitlab.algorithms._inputs import obs_stats
from imitlab.algorithms._interactive import (
    MixtureActor,
    Schedule,
    check_schedule,
    checked_expert,
    mixture_weight,
    space_shape,
)
from imitlab.envs.vector import env_spaces, make_vec_env
from imitlab.errors import UserError, positive
from imitlab.experts import Expert, QExpert, has_q, has_q_values
from imitlab.experts.montecarlo import monte_carlo_q, no_q_error, restorable
from imitlab.losses import (
    aggrevated_continuous_loss,
    aggrevated_discrete_loss,
    normalize_advantages,
)
from imitlab.policies import CategoricalPolicy, Policy, make_policy
from imitlab.sampling import RolloutSampler
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything

Baseline = Literal["mean", "expert"]
"""Continuous actions' V*(s): the mean Q* of the sampled actions, or Q* of the expert's action."""
BASELINES: tuple[str, ...] = get_args(Baseline)


class _QValuesExpert(Protocol):
    """An expert with Q* over a discrete action set: ``q_values(obs)`` is [B, n] (what
    :func:`~imitlab.experts.has_q_values` checks for)."""

    def q_values(self, obs: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class AggreVaTeDConfig:
    """AggreVaTeD hyperparameters. An iteration is ``num_envs`` (K) roll-ins of ``horizon`` (H) steps."""

    num_envs: int = 8
    """K: parallel roll-ins per iteration."""
    horizon: int = 125
    """H: steps of each roll-in per iteration."""
    alpha_schedule: Schedule = "linear"
    """How alpha (the expert's share of the roll-in) changes by iteration (see ``_interactive.mixture_weight``)."""
    alpha_decay_rounds: int = 4
    """linear: iterations for alpha to fall from 1 to 0."""
    alpha_p: float = 0.5
    """exponential: alpha = p ** iteration; constant: alpha = p."""
    learner_deterministic: bool = False
    """Roll in with the learner's most likely action, not a sample."""
    epochs: int = 4
    """Passes over an iteration's states (all states so far, with ``aggregate``)."""
    batch_size: int = 128
    """States per gradient step."""
    lr: float = 3e-3
    """Adam's learning rate."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the policy."""
    aggregate: bool = True
    """Train on all states visited so far, not only this iteration's."""
    squash: bool = True
    """Continuous actions: a tanh-squashed Gaussian, so sampled actions stay in bounds."""
    init_log_std: float = -0.5
    """Continuous actions: the learner's initial log-std (unit action space)."""
    per_state_scale: bool = False
    """Continuous actions: scale each state's advantages to unit std."""
    action_samples: int = 8
    """Continuous actions: actions drawn per state for the likelihood-ratio loss."""
    baseline: Baseline = "mean"
    """Continuous actions: V*(s) is the mean Q* of the sampled actions (mean) or Q* of the expert's action (expert)."""
    mc_horizon: int = 100
    """Monte-Carlo Q* roll-out length (experts without a critic)."""
    mc_gamma: float = 0.99
    """Monte-Carlo Q* discount (experts without a critic)."""


def train_aggrevated(
    *,
    env_id: str,
    expert: Expert | Callable[[np.ndarray], np.ndarray],
    total_steps: int,
    seed: int = 0,
    config: AggreVaTeDConfig = AggreVaTeDConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 2_000,
    eval_episodes: int = 50,
    progress: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a policy by AggreVaTeD for ``total_steps`` env steps of roll-in.

    Args:
        env_id: the gymnasium env.
        expert: an expert with a critic (``q``, and ``q_values`` for discrete actions), or any
            expert / callable when ``env_id`` is one of imitlab's batched envs (Q* by Monte Carlo).
        total_steps: roll-in budget: ``total_steps // (num_envs * horizon)`` iterations (at least 1).
        seed: seeds networks, the mixture's coin flips, action samples and env resets.
        config: hyperparameters.
        out: a run directory to write, or None.
        eval_every: evaluate every this many env steps (0: only at the end).
        eval_episodes: episodes per evaluation.
        progress: show a progress bar.
        checkpoint_every: env steps between checkpoints of a run directory (default: ``eval_every``;
            0: none): the policy, its optimizer, the aggregated states (and their Q* targets) and the RNGs.
        resume: continue the run in ``out`` from its checkpoint (same settings; ``total_steps`` may grow).
    """
    cfg = config
    positive("total_steps", total_steps)
    for name in ("num_envs", "horizon", "epochs", "batch_size", "action_samples", "mc_horizon"):
        positive(name, getattr(cfg, name))
    check_schedule(cfg.alpha_schedule, cfg.alpha_p)
    if cfg.baseline not in BASELINES:
        raise UserError(f"unknown baseline {cfg.baseline!r}; use 'mean' or 'expert'")
    obs_space, act_space = env_spaces(env_id)
    discrete = isinstance(act_space, gym.spaces.Discrete)
    venv = make_vec_env(env_id, cfg.num_envs)
    use_critic = has_q_values(expert) if discrete else has_q(expert)
    if not use_critic and not restorable(venv):
        venv.close()
        raise no_q_error(env_id)
    rng = seed_everything(seed)
    gen = torch.Generator().manual_seed(seed)
    sampler = RolloutSampler(venv, cfg.horizon, seed=seed, record_states=not use_critic)
    expert = checked_expert(expert, sampler.obs, act_space, env_id)
    # Squashed, every sampled action is one the env executes as is; unsquashed, a mean past the
    # bounds gets all its samples clipped to the same action, equal Q*, and no gradient back.
    policy = make_policy(obs_space, act_space, cfg.hidden, **({} if discrete else {"squash": cfg.squash, "init_log_std": cfg.init_log_std}))
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.lr, foreach=True)
    actor = MixtureActor(policy, expert, rng=rng, learner_deterministic=cfg.learner_deterministic)
    n_iters = max(1, total_steps // (cfg.num_envs * cfg.horizon))
    # Continuous actions with a critic: aggregate states and draw fresh actions from the current
    # policy at every minibatch, so each likelihood-ratio step is unbiased for the policy it moves.
    resample = not discrete and use_critic and cfg.aggregate
    if cfg.aggregate and (discrete or resample):  # the aggregated dataset, preallocated for the whole run
        agg_obs = np.zeros((n_iters * cfg.num_envs * cfg.horizon, *space_shape(obs_space)), np.float32)
    if isinstance(act_space, gym.spaces.Discrete) and cfg.aggregate:
        agg_adv = np.zeros((len(agg_obs), int(act_space.n)), np.float32)
    n_agg = 0
    # use_critic: has_q / has_q_values found Q* on the expert, which checked_expert passes through
    critic = cast(QExpert, expert) if use_critic else None

    def q_star(obs: np.ndarray, acts: np.ndarray, states: np.ndarray | None) -> tuple[np.ndarray, int]:
        """Q*(s, a) for a batch of pairs, and the env steps it took."""
        if critic is not None:
            return np.asarray(critic.q(obs, acts), np.float64), 0
        assert states is not None, "without a critic the sampler records the env states"
        return monte_carlo_q(env_id, states, acts, expert, gamma=cfg.mc_gamma, horizon=cfg.mc_horizon,
                             seed=int(rng.integers(2**31)))

    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "aggrevated", "env_id": env_id, "seed": seed, "total_steps": total_steps,
                "q_source": "critic" if use_critic else "monte-carlo", **asdict(cfg)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    final = None
    mc_steps, first_iter = 0, 0
    state = run.restored()
    if state is not None:
        first_iter, n_agg, mc_steps = int(state["iteration"]), int(state["n_agg"]), int(state["mc_steps"])
        if n_agg:
            agg_obs[:n_agg] = state["agg_obs"].numpy()
        if state["agg_adv"] is not None:
            agg_adv[:n_agg] = state["agg_adv"].numpy()
        policy.load_state_dict(state["policy"])
        optimizer.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        gen.set_state(state["torch_gen"])
        sampler = sampler.resumed(seed=seed, step=run.resumed_step, generator_state=state["gen"])
    for it in range(first_iter, n_iters):
        with run.timed():
            actor.p = mixture_weight(cfg.alpha_schedule, it, decay_rounds=cfg.alpha_decay_rounds, p=cfg.alpha_p)
            batch = sampler.collect(actor)
            obs = batch.flat("obs")
            states = None if batch.states is None else batch.flat("states")
            n = len(obs)
            if it == 0:
                policy.set_obs_normalization(*obs_stats(obs))
            obs_t = torch.from_numpy(obs)

            if isinstance(act_space, gym.spaces.Discrete):
                # Q*(s, .) over the whole action set, so the loss is exact.
                if use_critic:
                    q = np.asarray(cast(_QValuesExpert, expert).q_values(obs), np.float64)  # has_q_values said so
                else:
                    k = int(act_space.n)
                    flat_q, steps = q_star(np.repeat(obs, k, 0), np.tile(np.arange(k), n),
                                           None if states is None else np.repeat(states, k, 0))
                    q, mc_steps = flat_q.reshape(n, k), mc_steps + steps
                adv = torch.as_tensor(q - q.mean(1, keepdims=True), dtype=torch.float32)
                targets = normalize_advantages(adv)
                data_obs = obs_t
                if cfg.aggregate:
                    agg_obs[n_agg : n_agg + n], agg_adv[n_agg : n_agg + n] = obs, targets.numpy()
                    n_agg += n
                    data_obs, targets = torch.from_numpy(agg_obs[:n_agg]), torch.from_numpy(agg_adv[:n_agg])
            elif resample:
                agg_obs[n_agg : n_agg + n] = obs
                n_agg += n
                data_obs = torch.from_numpy(agg_obs[:n_agg])
                q_sum, q_count = 0.0, 0  # Q* of the fresh samples, for the logged mean_q
            else:
                assert isinstance(act_space, gym.spaces.Box), "make_policy took only Discrete and Box actions"
                # Actions sampled from the policy at each visited state, valued by Q*.
                m = cfg.action_samples
                rep_obs = np.repeat(obs, m, 0)
                with torch.no_grad():
                    acts = policy.sample(torch.from_numpy(rep_obs), gen)[0].numpy()
                acts = np.clip(acts, act_space.low, act_space.high)  # what the env would execute
                flat_q, steps = q_star(rep_obs, acts, None if states is None else np.repeat(states, m, 0))
                mc_steps += steps
                q = flat_q.reshape(n, m)
                v = None
                if cfg.baseline == "expert":
                    v, steps = q_star(obs, _expert_actions(expert, obs, act_space), states)
                    mc_steps += steps
                targets = continuous_advantages(q, v, per_state_scale=cfg.per_state_scale)
                data_obs, data_acts = torch.from_numpy(rep_obs), torch.from_numpy(acts)

            total_loss = torch.zeros(())
            rows = len(data_obs)
            for _ in range(cfg.epochs):
                perm = torch.from_numpy(rng.permutation(rows))
                for start in range(0, rows, cfg.batch_size):
                    idx = perm[start : start + cfg.batch_size]
                    if discrete:
                        assert isinstance(policy, CategoricalPolicy), "make_policy's policy for Discrete actions"
                        loss = aggrevated_discrete_loss(policy.logits(data_obs[idx]), targets[idx])
                    elif resample:
                        assert isinstance(act_space, gym.spaces.Box) and critic is not None, "resample: a critic's Q*"
                        mb_obs, mb_acts, mb_targets, mb_q = _fresh_samples(policy, critic, data_obs[idx], cfg, act_space, gen)
                        loss = aggrevated_continuous_loss(policy.log_prob(mb_obs, mb_acts), mb_targets)
                        q_sum, q_count = q_sum + float(mb_q.sum()), q_count + mb_q.size
                    else:
                        loss = aggrevated_continuous_loss(policy.log_prob(data_obs[idx], data_acts[idx]), targets[idx])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total_loss += loss.detach() * len(idx)

        mean_q = q_sum / q_count if resample else float(q.mean())
        stats = {"mixture_alpha": actor.p, "loss": float(total_loss) / (rows * cfg.epochs), "mean_q": mean_q,
                 "mc_env_steps": mc_steps,
                 "episode_return": float(batch.episode_returns.mean()) if len(batch.episode_returns) else float("nan")}
        run.advance(batch.num_steps, stats, step=sampler.total_steps)
        last = it == n_iters - 1
        if run.evaluation_due(sampler.total_steps) or last:
            final = run.evaluate(policy, env_steps=sampler.total_steps)
        if run.checkpoint_due(sampler.total_steps, last=last):
            run.save_checkpoint(sampler.total_steps, {
                "iteration": it + 1, "n_agg": n_agg, "mc_steps": mc_steps,
                "agg_obs": torch.from_numpy(agg_obs[:n_agg].copy()) if n_agg else None,
                "agg_adv": torch.from_numpy(agg_adv[:n_agg].copy()) if discrete and cfg.aggregate else None,
                "policy": policy.state_dict(), "optimizer": optimizer.state_dict(), "rng": rng.bit_generator.state,
                "torch_gen": gen.get_state(), "gen": sampler.generator.get_state(),
            })
    venv.close()
    return run.result(policy, final=final, extra={"algo": "aggrevated", "env_steps": sampler.total_steps, "iterations": n_iters,
                                          "mc_env_steps": mc_steps, "q_source": "critic" if use_critic else "monte-carlo"})


def continuous_advantages(q: np.ndarray, v: np.ndarray | None, *, per_state_scale: bool = False) -> torch.Tensor:
    """The likelihood-ratio loss's targets from Q* of ``m`` sampled actions at ``n`` states.

    Args:
        q: [n, m] Q*(s_i, a_ij) of the actions sampled at each state.
        v: [n] the baseline V*(s_i), Q* of the expert's action (``baseline="expert"``), or None for
            the mean of each state's ``q`` (``baseline="mean"``).
        per_state_scale: scale each state's advantages to unit std before the batch normalisation.

    Returns:
        [n * m] A* = Q* - V*, row-major like ``q``, divided by its std over the batch.
    """
    adv = q - (q.mean(1) if v is None else np.asarray(v, np.float64).reshape(-1))[:, None]
    if per_state_scale:
        # Each state's advantages to unit scale: states near a balance point, where Q* varies
        # little across actions, then weigh as much as swing-up states, where it varies a lot.
        adv = adv / (adv.std(1, keepdims=True) + 1e-6)
    return normalize_advantages(torch.as_tensor(adv.reshape(-1), dtype=torch.float32))


def _expert_actions(expert: Expert, obs: np.ndarray, act_space: gym.spaces.Box) -> np.ndarray:
    """The expert's actions at ``obs``, clipped to the bounds as the env would execute them."""
    acts = np.asarray(expert.act(obs), np.float32).reshape(len(obs), *act_space.shape)
    return np.clip(acts, act_space.low, act_space.high)


def _fresh_samples(
    policy: Policy, expert: QExpert, obs: torch.Tensor, cfg: AggreVaTeDConfig, act_space: gym.spaces.Box,
    gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, np.ndarray]:
    """``action_samples`` actions per state from the current policy, their normalised A* (with the
    configured baseline) and their Q* values [len(obs), action_samples]."""
    m = cfg.action_samples
    rep_obs = obs.repeat_interleave(m, 0)
    with torch.no_grad():
        acts = policy.sample(rep_obs, gen)[0]
    acts_np = np.clip(acts.numpy(), act_space.low, act_space.high)
    q = np.asarray(expert.q(rep_obs.numpy(), acts_np), np.float64).reshape(len(obs), m)
    v = None
    if cfg.baseline == "expert":
        obs_np = obs.numpy()
        v = np.asarray(expert.q(obs_np, _expert_actions(expert, obs_np, act_space)), np.float64)
    targets = continuous_advantages(q, v, per_state_scale=cfg.per_state_scale)
    return rep_obs, torch.from_numpy(acts_np), targets, q

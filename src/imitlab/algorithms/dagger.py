"""DAgger, dataset aggregation (Ross, Gordon & Bagnell 2011, arXiv:1011.0686).

Behavioral cloning trains on the expert's states only, so its errors take it to states it never
learned about. DAgger asks the expert about the states the learner itself visits: each round rolls
in with a mixture (per env and step, the expert acts with probability beta, the learner otherwise;
beta decays by a schedule), labels every visited state with the expert's action, adds them to one
aggregated dataset, and retrains the policy on all of it with the BC loss. It may start from
demonstrations or from nothing (round 0 then rolls in with the expert alone, beta = 1).

Any expert works, stochastic or not: a loaded policy, an SB3 model, or a plain callable
``obs_batch -> action_batch``; no critic is needed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from imitlab.algorithms._inputs import expert_transitions, obs_stats
from imitlab.algorithms._interactive import (
    MixtureActor,
    Schedule,
    check_schedule,
    checked_expert,
    mixture_weight,
    space_shape,
)
from imitlab.algorithms.bc import CONTINUOUS_LOSSES, ContinuousLoss, bc_epoch
from imitlab.data.collect import executed_actions
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.envs.spaces import is_discrete
from imitlab.envs.vector import env_spaces, make_vec_env
from imitlab.errors import UserError, positive
from imitlab.experts import Expert
from imitlab.policies import make_policy
from imitlab.sampling import RolloutSampler
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything


@dataclass(frozen=True)
class DAggerConfig:
    """DAgger hyperparameters. A round is ``steps_per_round`` env steps over ``num_envs`` envs."""

    num_envs: int = 8
    """Envs rolled in side by side."""
    steps_per_round: int = 1_000
    """Env steps rolled in per round (rounded down to a multiple of ``num_envs``)."""
    beta_schedule: Schedule = "linear"
    """How beta (the expert's share of the roll-in) changes by round (see ``_interactive.mixture_weight``)."""
    beta_decay_rounds: int = 4
    """linear: rounds for beta to fall from 1 to 0."""
    beta_p: float = 0.5
    """exponential: beta = p ** round; constant: beta = p."""
    learner_deterministic: bool = False
    """Roll in with the learner's most likely action, not a sample."""
    epochs: int = 4
    """BC passes over the aggregated data per round."""
    batch_size: int = 128
    """Transitions per gradient step."""
    lr: float = 3e-3
    """Adam's learning rate."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the policy."""
    continuous_loss: ContinuousLoss = "nll"
    """Loss for continuous actions: nll (Gaussian log-likelihood) or mse (squared error of the mean), as in BC."""


def train_dagger(
    *,
    env_id: str,
    expert: Expert | Callable[[np.ndarray], np.ndarray],
    total_steps: int,
    demos: Demonstrations | Transitions | None = None,
    seed: int = 0,
    config: DAggerConfig = DAggerConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 2_048,
    eval_episodes: int = 50,
    progress: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a policy by DAgger for ``total_steps`` environment steps of roll-in.

    Args:
        env_id: the gymnasium env.
        expert: an Expert (anything with ``act(obs)``) or a callable ``obs_batch -> action_batch``.
        total_steps: the env-step budget: ``total_steps // round`` whole rounds (at least one),
            a round being ``steps_per_round`` rounded down to a multiple of ``num_envs``.
        demos: optional demonstrations to start the aggregated dataset with.
        seed: seeds networks, the mixture's coin flips, minibatches and env resets.
        config: hyperparameters.
        out: a run directory to write, or None.
        eval_every: evaluate every this many env steps (0: only at the end).
        eval_episodes: episodes per evaluation.
        progress: show a progress bar.
        checkpoint_every: env steps between checkpoints of a run directory (default: ``eval_every``;
            0: none). A checkpoint holds the policy, its optimizer, the aggregated dataset and the RNGs.
        resume: continue the run in ``out`` from its checkpoint (same settings; ``total_steps`` may grow).
    """
    cfg = config
    positive("total_steps", total_steps)
    positive("steps_per_round", cfg.steps_per_round)
    positive("epochs", cfg.epochs)
    positive("batch_size", cfg.batch_size)
    check_schedule(cfg.beta_schedule, cfg.beta_p)
    if cfg.continuous_loss not in CONTINUOUS_LOSSES:
        raise UserError(f"unknown continuous_loss {cfg.continuous_loss!r}; use 'nll' or 'mse'")
    trans = expert_transitions(env_id, demos)[0] if demos is not None else None
    obs_space, act_space = env_spaces(env_id)
    rng = seed_everything(seed)
    venv = make_vec_env(env_id, cfg.num_envs)
    sampler = RolloutSampler(venv, max(1, cfg.steps_per_round // cfg.num_envs), seed=seed)
    expert = checked_expert(expert, sampler.obs, act_space, env_id)
    policy = make_policy(obs_space, act_space, cfg.hidden)
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.lr, foreach=True)
    actor = MixtureActor(policy, expert, rng=rng, learner_deterministic=cfg.learner_deterministic)
    label = executed_actions(expert.act, act_space)  # a label the env could execute: within the bounds

    # The aggregated dataset, preallocated for the whole run.
    per_round = sampler.num_steps * cfg.num_envs
    n_rounds = max(1, total_steps // per_round)
    n_demo = 0 if trans is None else len(trans)
    data_obs = np.zeros((n_demo + n_rounds * per_round, *space_shape(obs_space)), np.float32)
    data_acts = np.zeros((len(data_obs), *space_shape(act_space)), np.int64 if is_discrete(act_space) else np.float32)
    if trans is not None:
        data_obs[:n_demo] = trans.obs
        data_acts[:n_demo] = trans.acts.reshape(data_acts[:n_demo].shape)
        policy.set_obs_normalization(*obs_stats(trans.obs))
    n = n_demo

    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "dagger", "env_id": env_id, "seed": seed, "total_steps": total_steps,
                "n_demo_transitions": n_demo, **asdict(cfg)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    first_round = 0
    state = run.restored()
    if state is not None:
        first_round, n = int(state["round"]), int(state["n"])
        data_obs[:n], data_acts[:n] = state["data_obs"].numpy(), state["data_acts"].numpy()
        policy.load_state_dict(state["policy"])
        optimizer.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        sampler = sampler.resumed(seed=seed, step=run.resumed_step, generator_state=state["gen"])
    final = None
    for round_idx in range(first_round, n_rounds):
        with run.timed():
            actor.p = mixture_weight(cfg.beta_schedule, round_idx, decay_rounds=cfg.beta_decay_rounds, p=cfg.beta_p)
            batch = sampler.collect(actor)
            obs = batch.flat("obs")
            # The expert labels every state the mixture visited, whoever acted there.
            data_obs[n : n + len(obs)] = obs
            data_acts[n : n + len(obs)] = np.asarray(label(obs)).reshape(data_acts[n : n + len(obs)].shape)
            n += len(obs)
            if n_demo == 0 and round_idx == 0:
                policy.set_obs_normalization(*obs_stats(data_obs[:n]))

            obs_t, acts_t = torch.from_numpy(data_obs[:n]), torch.from_numpy(data_acts[:n])
            total_loss = torch.zeros(())
            for _ in range(cfg.epochs):
                bc_epoch(policy, optimizer, obs_t, acts_t, rng, batch_size=cfg.batch_size,
                         continuous_loss=cfg.continuous_loss, total_loss=total_loss)

        stats = {"mixture_beta": actor.p, "dataset_size": n, "bc_loss": float(total_loss) / (n * cfg.epochs),
                 "episode_return": float(batch.episode_returns.mean()) if len(batch.episode_returns) else float("nan")}
        run.advance(batch.num_steps, stats, step=sampler.total_steps)
        last = round_idx == n_rounds - 1
        if run.evaluation_due(sampler.total_steps) or last:
            final = run.evaluate(policy, env_steps=sampler.total_steps)
        if run.checkpoint_due(sampler.total_steps, last=last):
            run.save_checkpoint(sampler.total_steps, {
                "round": round_idx + 1, "n": n, "policy": policy.state_dict(), "optimizer": optimizer.state_dict(),
                "data_obs": torch.from_numpy(data_obs[:n].copy()), "data_acts": torch.from_numpy(data_acts[:n].copy()),
                "rng": rng.bit_generator.state, "gen": sampler.generator.get_state(),
            })
    venv.close()
    return run.result(policy, final=final, extra={"algo": "dagger", "env_steps": sampler.total_steps, "rounds": n_rounds})

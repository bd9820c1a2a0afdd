"""Train an expert on the environment's own reward (the one place imitlab uses it): PPO for any
action space, DQN for discrete and SAC for continuous actions (those two keep their critic, Q*)."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np

from imitlab.envs.spaces import observation_box
from imitlab.errors import UserError, positive
from imitlab.policies import make_policy
from imitlab.rewards.env import learner_env, reward_record
from imitlab.rl.normalization import ReturnScaler, RunningMeanStd
from imitlab.rl.ppo import PPO, PPOConfig
from imitlab.sampling import RolloutSampler
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything

if TYPE_CHECKING:
    from imitlab.rewards import LoadedReward

EXPERT_ALGOS = ("ppo", "dqn", "sac")


def train_expert(
    *,
    env_id: str,
    algo: str = "ppo",
    total_steps: int,
    seed: int = 0,
    config=None,
    out: str | os.PathLike | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 50,
    progress: bool = False,
    keep_best: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
    reward: LoadedReward | None = None,
) -> TrainResult:
    """Train an expert with ``algo`` (ppo, dqn or sac) on ``env_id``'s reward for ``total_steps`` env steps.

    With ``keep_best`` the expert returned (and saved) is the best of the periodic evaluations
    rather than the last weights. A run with ``out`` (a directory) writes ``checkpoint.pt`` every
    ``checkpoint_every`` env steps (default: at each evaluation); ``resume`` continues from it.

    ``config`` is the algorithm's config dataclass (``PPOConfig``, ``DQNConfig``, ``SACConfig``);
    None takes the per-task default of :mod:`imitlab.defaults`.

    With ``reward`` (a learned reward, :func:`imitlab.rewards.load_reward`) the learner is trained
    on that reward alone (``imitlab train rl``): the env's reward is never shown to it, and
    evaluations still report the env's true return.
    """
    if algo not in EXPERT_ALGOS:
        raise UserError(f"unknown expert algorithm {algo!r}; choose one of {', '.join(EXPERT_ALGOS)}")
    if config is None:
        from imitlab.defaults import expert_config

        config = expert_config(env_id, algo)
    common = dict(env_id=env_id, total_steps=total_steps, seed=seed, config=config, out=out,
                  eval_every=eval_every, eval_episodes=eval_episodes, progress=progress, keep_best=keep_best,
                  checkpoint_every=checkpoint_every, resume=resume, reward=reward)
    if algo == "dqn":
        from imitlab.rl.dqn import train_dqn

        return train_dqn(**common)
    if algo == "sac":
        from imitlab.rl.sac import train_sac

        return train_sac(**common)
    return _train_ppo_expert(**common)


def _train_ppo_expert(
    *, env_id: str, total_steps: int, seed: int, config, out, eval_every: int, eval_episodes: int, progress: bool,
    keep_best: bool, checkpoint_every: int | None, resume: bool, reward: LoadedReward | None = None,
) -> TrainResult:
    if not isinstance(config, PPOConfig):
        raise UserError(f"expert algorithm ppo needs a PPOConfig, got {type(config).__name__}")
    positive("total_steps", total_steps)
    if config.obs_norm_from_bounds and config.normalize_obs:
        raise UserError("choose one of obs_norm_from_bounds and normalize_obs, not both")
    venv = learner_env(env_id, config.num_envs, reward, gamma=config.gamma)
    seed_everything(seed)
    policy = make_policy(venv.single_observation_space, venv.single_action_space, config.hidden)
    if config.obs_norm_from_bounds:
        # Features on very different scales (MountainCar's velocity is ~0.07) stall PPO.
        space = observation_box(venv.single_observation_space)
        if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
            raise UserError(f"obs_norm_from_bounds needs finite observation bounds; {env_id} has {space}")
        policy.set_obs_normalization((space.high + space.low) / 2, (space.high - space.low) / 2)
    obs_rms = RunningMeanStd((policy.obs_dim,)) if config.normalize_obs else None
    scaler = ReturnScaler(config.num_envs, gamma=config.gamma) if config.normalize_reward else None
    learner = PPO(policy, config, seed=seed)
    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "expert-ppo", "env_id": env_id, "seed": seed, "total_steps": total_steps, **asdict(config),
                **reward_record(reward)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress, keep_best=keep_best,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    state = run.restored()
    sampler = RolloutSampler(venv, config.num_steps, seed=seed)
    if state is not None:
        policy.load_state_dict(state["policy"])
        learner.load_state_dict(state["learner"])
        sampler = sampler.resumed(seed=seed, step=run.resumed_step, generator_state=state["gen"])
        if obs_rms is not None:
            obs_rms.load_state_dict(state["obs_rms"])
        if scaler is not None:
            scaler.load_state_dict(state["scaler"])

    final = None
    while sampler.total_steps < total_steps:
        with run.timed():
            learner.set_progress(sampler.total_steps / total_steps)
            batch = sampler.collect(policy)
            rewards = batch.rews if scaler is None else scaler(batch.rews, batch.terminated | batch.truncated)
            stats = learner.update(batch, rewards)
            if obs_rms is not None:
                # Updated after the PPO step, so each batch is collected and learned from under the
                # same statistics (the ratio to the behaviour policy starts at 1).
                obs_rms.update(batch.flat("obs"))
                policy.set_obs_normalization(obs_rms.mean, obs_rms.std)
        if len(batch.episode_returns):
            stats["episode_return"] = float(batch.episode_returns.mean())
        run.advance(batch.num_steps, stats, step=sampler.total_steps)
        if run.evaluation_due(sampler.total_steps) or sampler.total_steps >= total_steps:
            final = run.evaluate(policy, env_steps=sampler.total_steps)
        if run.checkpoint_due(sampler.total_steps, last=sampler.total_steps >= total_steps):
            run.save_checkpoint(sampler.total_steps, {
                "policy": policy.state_dict(), "learner": learner.state_dict(), "gen": sampler.generator.get_state(),
                "obs_rms": None if obs_rms is None else obs_rms.state_dict(),
                "scaler": None if scaler is None else scaler.state_dict(),
            })
    venv.close()
    return run.result(policy, final=final, extra={"algo": "expert-ppo", "env_steps": sampler.total_steps})

"""Train an expert on the environment's own reward (the one place imitlab uses it): PPO for any
action space, DQN for discrete and SAC for continuous actions (those two keep their critic, Q*)."""

from __future__ import annotations

import os
from dataclasses import asdict

import numpy as np

from imitlab.algorithms._inputs import positive
from imitlab.envs.vector import make_vec_env
from imitlab.errors import UserError
from imitlab.policies import make_policy
from imitlab.rl.ppo import PPO, PPOConfig
from imitlab.sampling import RolloutSampler
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything

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
) -> TrainResult:
    """Train an expert with ``algo`` (ppo, dqn or sac) on ``env_id``'s reward for ``total_steps`` env steps.

    With ``keep_best`` the expert returned (and saved) is the best of the periodic evaluations
    rather than the last weights.

    ``config`` is the algorithm's config dataclass (``PPOConfig``, ``DQNConfig``, ``SACConfig``);
    None takes the per-task default of :mod:`imitlab.defaults`.
    """
    if algo not in EXPERT_ALGOS:
        raise UserError(f"unknown expert algorithm {algo!r}; choose one of {', '.join(EXPERT_ALGOS)}")
    if config is None:
        from imitlab.defaults import expert_config

        config = expert_config(env_id, algo)
    common = dict(env_id=env_id, total_steps=total_steps, seed=seed, config=config, out=out,
                  eval_every=eval_every, eval_episodes=eval_episodes, progress=progress, keep_best=keep_best)
    if algo == "dqn":
        from imitlab.rl.dqn import train_dqn

        return train_dqn(**common)
    if algo == "sac":
        from imitlab.rl.sac import train_sac

        return train_sac(**common)
    if not isinstance(config, PPOConfig):
        raise UserError(f"expert algorithm ppo needs a PPOConfig, got {type(config).__name__}")
    positive("total_steps", total_steps)
    venv = make_vec_env(env_id, config.num_envs)
    seed_everything(seed)
    policy = make_policy(venv.single_observation_space, venv.single_action_space, config.hidden)
    if config.obs_norm_from_bounds:
        # Features on very different scales (MountainCar's velocity is ~0.07) stall PPO.
        space = venv.single_observation_space
        if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
            raise UserError(f"obs_norm_from_bounds needs finite observation bounds; {env_id} has {space}")
        policy.set_obs_normalization((space.high + space.low) / 2, (space.high - space.low) / 2)
    learner = PPO(policy, config, seed=seed)
    sampler = RolloutSampler(venv, config.num_steps, seed=seed)
    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": f"expert-{algo}", "env_id": env_id, "seed": seed, "total_steps": total_steps, **asdict(config)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress, keep_best=keep_best,
    )
    final = None
    while sampler.total_steps < total_steps:
        run.start_clock()
        learner.set_progress(sampler.total_steps / total_steps)
        batch = sampler.collect(policy)
        stats = learner.update(batch, batch.rews)
        run.stop_clock()
        if len(batch.episode_returns):
            stats["episode_return"] = float(batch.episode_returns.mean())
        run.advance(batch.num_steps, stats, step=sampler.total_steps)
        if run.evaluation_due(sampler.total_steps) or sampler.total_steps >= total_steps:
            final = run.evaluate(policy, env_steps=sampler.total_steps)
    venv.close()
    final = run.finish(policy, final=final, extra={"algo": f"expert-{algo}", "env_steps": sampler.total_steps})
    return TrainResult(policy, final, run.history, run.train_seconds)

"""Generative Adversarial Imitation Learning (Ho & Ermon 2016, arXiv:1606.03476).

Each round: roll out the policy in vectorized envs; train the discriminator to tell expert
(s, a) pairs from the policy's; turn its logits into a reward (see ``losses.gail_reward`` for the
forms and their bias); take a PPO step on that reward. The environment's own reward is never used.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from imitlab.algorithms._inputs import expert_transitions, obs_stats, positive
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.discriminator import Discriminator
from imitlab.envs.vector import make_vec_env
from imitlab.errors import UserError
from imitlab.losses import REWARD_FORMS, discriminator_loss, gail_reward
from imitlab.policies import make_policy
from imitlab.rl.ppo import PPO, PPOConfig
from imitlab.sampling import RolloutSampler
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything


@dataclass(frozen=True)
class GAILConfig:
    ppo: PPOConfig = field(default_factory=PPOConfig)
    reward: str = "positive"
    disc_lr: float = 3e-4
    disc_epochs: int = 1
    disc_minibatch_size: int = 256
    disc_hidden: tuple[int, ...] = (64, 64)
    hidden: tuple[int, ...] = (64, 64)


def train_gail(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    total_steps: int,
    seed: int = 0,
    config: GAILConfig = GAILConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 50,
    progress: bool = False,
) -> TrainResult:
    """Train a policy by GAIL for ``total_steps`` environment steps.

    Args:
        env_id: the gymnasium env (checked against the demos).
        demos: expert demonstrations, or transitions subsampled from them.
        total_steps: the environment-step budget.
        seed: seeds networks, sampling and env resets.
        config: hyperparameters (generator, discriminator, reward form).
        out: a run directory to write, or None.
        eval_every: evaluate every this many env steps (0: only at the end).
        eval_episodes: episodes per evaluation.
        progress: show a progress bar.
    """
    positive("total_steps", total_steps)
    if config.reward not in REWARD_FORMS:
        raise UserError(f"unknown reward form {config.reward!r}; choose one of {', '.join(REWARD_FORMS)}")
    trans, obs_space, act_space = expert_transitions(env_id, demos)
    rng = seed_everything(seed)
    cfg = config
    venv = make_vec_env(env_id, cfg.ppo.num_envs)
    policy = make_policy(obs_space, act_space, cfg.hidden)
    mean, std = obs_stats(trans.obs)
    policy.set_obs_normalization(mean, std)
    generator = PPO(policy, cfg.ppo, seed=seed)
    disc = Discriminator(obs_space, act_space, obs_mean=mean, obs_std=std, hidden=cfg.disc_hidden)
    disc_opt = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
    expert_obs = torch.as_tensor(trans.obs, dtype=torch.float32)
    expert_acts = torch.as_tensor(trans.acts)
    sampler = RolloutSampler(venv, cfg.ppo.num_steps, seed=seed)

    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "gail", "env_id": env_id, "seed": seed, "total_steps": total_steps,
                "n_transitions": len(trans), **asdict(cfg)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
    )
    final = None
    while sampler.total_steps < total_steps:
        run.start_clock()
        batch = sampler.collect(policy)
        obs = torch.from_numpy(batch.flat("obs"))
        acts = torch.from_numpy(batch.flat("acts"))

        # Discriminator: passes over the policy batch, each minibatch against as many expert pairs.
        n, mb = len(obs), cfg.disc_minibatch_size
        for _ in range(cfg.disc_epochs):
            perm = torch.from_numpy(rng.permutation(n))
            for start in range(0, n, mb):
                idx = perm[start : start + mb]
                e_idx = torch.from_numpy(rng.integers(len(expert_obs), size=len(idx)))
                e_logits = disc(expert_obs[e_idx], expert_acts[e_idx])
                p_logits = disc(obs[idx], acts[idx])
                d_loss = discriminator_loss(e_logits, p_logits)
                disc_opt.zero_grad(set_to_none=True)
                d_loss.backward()
                disc_opt.step()

        with torch.no_grad():
            p_logits = disc(obs, acts)
            e_logits = disc(expert_obs, expert_acts)
            rewards = gail_reward(p_logits, cfg.reward).numpy().reshape(batch.rews.shape)
        stats = generator.update(batch, rewards)
        run.stop_clock()

        stats.update(
            disc_loss=float(d_loss.detach()),
            disc_expert_acc=float((e_logits > 0).float().mean()),
            disc_policy_acc=float((p_logits < 0).float().mean()),
            disc_expert_logit=float(e_logits.mean()),
            disc_policy_logit=float(p_logits.mean()),
            mean_reward=float(rewards.mean()),
        )
        if len(batch.episode_lengths):
            stats["episode_length"] = float(batch.episode_lengths.mean())
        run.advance(batch.num_steps, stats, step=sampler.total_steps)
        done = sampler.total_steps >= total_steps
        if run.evaluation_due(sampler.total_steps) or done:
            final = run.evaluate(policy, env_steps=sampler.total_steps)
    venv.close()
    run.finish(policy, final=final, extra={"algo": "gail", "env_steps": sampler.total_steps})
    return TrainResult(policy, final, run.history, run.train_seconds)

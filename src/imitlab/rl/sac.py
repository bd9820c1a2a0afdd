"""Soft Actor-Critic (Haarnoja et al. 2018, arXiv:1801.01290 and arXiv:1812.05905) for continuous
actions: twin critics with target copies, a tanh-squashed Gaussian actor with a state-dependent
std, and automatic entropy tuning. It trains experts whose critic is kept as their Q*, the
cost-to-go AggreVaTeD learns from.

One loop, top to bottom: act (uniformly at random until ``learning_starts``), store, and every
vector step take ``gradient_steps`` updates of the critics, and of the actor and temperature every
``policy_frequency`` of them, as in CleanRL's sac_continuous_action.py.
"""

from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F

from imitlab.critics import TwinQ, space_obs_stats
from imitlab.envs.vector import make_vec_env
from imitlab.errors import UserError, positive
from imitlab.losses import sac_actor_loss, sac_alpha_loss, sac_q_target
from imitlab.policies import GaussianPolicy
from imitlab.rl.replay import ReplayBuffer
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything


@dataclass(frozen=True)
class SACConfig:
    """SAC hyperparameters. Each vector step adds ``num_envs`` transitions and takes
    ``gradient_steps`` critic updates."""

    num_envs: int = 1
    buffer_size: int = 100_000
    learning_starts: int = 1_000  # env steps of uniform random actions before learning
    batch_size: int = 256
    gamma: float = 0.99
    tau: float = 0.005  # Polyak rate of the target critics
    actor_lr: float = 3e-4
    critic_lr: float = 1e-3
    alpha_lr: float = 1e-3
    gradient_steps: int = 1
    policy_frequency: int = 2  # actor and temperature updates every this many critic updates
    init_alpha: float = 0.2
    autotune: bool = True
    hidden: tuple[int, ...] = (64, 64)
    critic_hidden: tuple[int, ...] = (64, 64)


def train_sac(
    *,
    env_id: str,
    total_steps: int,
    seed: int = 0,
    config: SACConfig = SACConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 50,
    progress: bool = False,
    keep_best: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a SAC agent on ``env_id``'s reward for ``total_steps`` env steps.

    Returns the actor as ``policy`` and the twin critic as ``critic`` (both saved in the run's
    ``policy.pt`` when ``out`` is given). A run with ``out`` writes a checkpoint (networks,
    optimizers, replay buffer, RNGs) every ``checkpoint_every`` steps; ``resume`` continues it.
    """
    cfg = config
    positive("total_steps", total_steps)
    positive("batch_size", cfg.batch_size)
    positive("gradient_steps", cfg.gradient_steps)
    venv = make_vec_env(env_id, cfg.num_envs)
    obs_space, act_space = venv.single_observation_space, venv.single_action_space
    if not isinstance(act_space, gym.spaces.Box):
        venv.close()
        raise UserError(f"SAC needs continuous (Box) actions; {env_id} has {act_space}: use --algo dqn or ppo")
    rng = seed_everything(seed)
    gen = torch.Generator().manual_seed(seed)
    actor = GaussianPolicy(obs_space, act_space, cfg.hidden, squash=True, state_dependent_std=True)
    critic = TwinQ(obs_space, act_space, cfg.critic_hidden)
    stats = space_obs_stats(obs_space)
    actor.set_obs_normalization(*stats)
    critic.set_obs_normalization(*stats)
    target = copy.deepcopy(critic).requires_grad_(False)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=cfg.actor_lr)
    critic_opt = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr)
    log_alpha = torch.tensor(float(np.log(cfg.init_alpha)), requires_grad=cfg.autotune)
    alpha_opt = torch.optim.Adam([log_alpha], lr=cfg.alpha_lr)
    target_entropy = -float(actor.act_dim)  # of the unit-space action (Haarnoja et al.'s -dim(A))
    buffer = ReplayBuffer(cfg.buffer_size, obs_space.shape, act_space.shape, np.float32, seed=seed)
    low, high = act_space.low, act_space.high

    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "expert-sac", "env_id": env_id, "seed": seed, "total_steps": total_steps, **asdict(cfg)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress, keep_best=keep_best,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    modules = {"actor": actor, "critic": critic, "target": target,
               "actor_opt": actor_opt, "critic_opt": critic_opt, "alpha_opt": alpha_opt}

    def learner_state() -> dict:
        return {**{k: m.state_dict() for k, m in modules.items()}, "log_alpha": log_alpha.detach().clone(),
                "buffer": buffer.state_dict(), "rng": rng.bit_generator.state, "gen": gen.get_state(),
                "updates": updates}

    env_steps, updates, final = 0, 0, None
    state = run.restored()
    if state is not None:
        for k, m in modules.items():
            m.load_state_dict(state[k])
        with torch.no_grad():
            log_alpha.copy_(state["log_alpha"])
        buffer.load_state_dict(state["buffer"])
        rng.bit_generator.state = state["rng"]
        gen.set_state(state["gen"])
        env_steps, updates = run.resumed_step, int(state["updates"])
    obs = venv.reset(seed=seed + env_steps)  # a resumed run starts new episodes
    ep_ret = np.zeros(cfg.num_envs)
    q_loss = actor_loss = torch.zeros(())
    while env_steps < total_steps:
        with run.timed():
            if env_steps < cfg.learning_starts:
                act = rng.uniform(low, high, size=(cfg.num_envs, *act_space.shape)).astype(np.float32)
            else:
                with torch.inference_mode():
                    act = actor.sample(torch.from_numpy(obs), gen)[0].numpy()
            next_obs_env, rew, term, trunc, next_obs = venv.step(act)
            buffer.add(obs, act, rew, next_obs, term)
            obs = next_obs_env
            env_steps += cfg.num_envs
            ep_ret += rew
            done = term | trunc
            finished = ep_ret[done].copy()
            ep_ret[done] = 0.0

            if env_steps >= cfg.learning_starts:
                for _ in range(cfg.gradient_steps):
                    b_obs, b_act, b_rew, b_next, b_term = buffer.sample(cfg.batch_size)
                    alpha = log_alpha.detach().exp()
                    with torch.no_grad():
                        next_act, next_logp = actor.rsample(b_next, gen)
                        q_target = sac_q_target(b_rew, b_term, target.q(b_next, next_act), next_logp, alpha, cfg.gamma)
                    q1, q2 = critic.both(b_obs, b_act)
                    q_loss = F.mse_loss(q1, q_target) + F.mse_loss(q2, q_target)
                    critic_opt.zero_grad(set_to_none=True)
                    q_loss.backward()
                    critic_opt.step()
                    updates += 1

                    if updates % cfg.policy_frequency == 0:
                        # As in the paper's code, several actor steps make up for the skipped ones.
                        for _ in range(cfg.policy_frequency):
                            new_act, logp = actor.rsample(b_obs, gen)
                            actor_loss = sac_actor_loss(critic.q(b_obs, new_act), logp, alpha)
                            actor_opt.zero_grad(set_to_none=True)
                            actor_loss.backward()
                            actor_opt.step()
                            if cfg.autotune:
                                alpha_loss = sac_alpha_loss(log_alpha, logp, target_entropy)
                                alpha_opt.zero_grad(set_to_none=True)
                                alpha_loss.backward()
                                alpha_opt.step()
                                alpha = log_alpha.detach().exp()

                    with torch.no_grad():
                        for p, tp in zip(critic.parameters(), target.parameters()):
                            tp.lerp_(p, cfg.tau)

        if len(finished):
            run.advance(cfg.num_envs, {
                "episode_return": float(finished.mean()),
                "q_loss": float(q_loss.detach()),
                "actor_loss": float(actor_loss.detach()),
                "alpha": float(log_alpha.detach().exp()),
            }, step=env_steps)
        else:
            run.advance(cfg.num_envs, step=env_steps)
        if run.evaluation_due(env_steps) or env_steps >= total_steps:
            final = run.evaluate(actor, env_steps=env_steps, critic=critic)
        if run.checkpoint_due(env_steps, last=env_steps >= total_steps):
            run.save_checkpoint(env_steps, learner_state())
    venv.close()
    actor.eval()
    critic.eval()
    return run.result(actor, final=final, extra={"algo": "expert-sac", "env_steps": env_steps}, critic=critic)

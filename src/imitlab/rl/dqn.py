"""Deep Q-Networks (Mnih et al. 2015) with double-Q targets (van Hasselt et al. 2016) for discrete
actions: a replay buffer, a target network copied every ``target_update_every`` updates, the Huber
TD loss and a linearly decaying epsilon-greedy exploration. It trains experts whose Q-network is
kept as their Q*, the cost-to-go AggreVaTeD learns from.

One loop, top to bottom: act epsilon-greedily in ``num_envs`` envs, store, and every
``train_every`` vector steps take ``gradient_steps`` updates (SB3's train_freq/gradient_steps).
"""

from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np
import torch

from imitlab.envs.vector import make_vec_env
from imitlab.errors import UserError, positive
from imitlab.losses import double_q_target, huber_td_loss
from imitlab.policies import QPolicy
from imitlab.rl.replay import ReplayBuffer
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything


@dataclass(frozen=True)
class DQNConfig:
    """DQN hyperparameters (defaults: RL-Zoo's tuned CartPole-v1 values for SB3's DQN, with
    double-Q targets). Epsilon decays linearly from ``eps_start`` to ``eps_end`` over the first
    ``eps_fraction`` of the run's env steps."""

    num_envs: int = 1
    buffer_size: int = 100_000
    learning_starts: int = 1_000
    batch_size: int = 64
    gamma: float = 0.99
    lr: float = 2.3e-3
    train_every: int = 256  # vector steps between training phases
    gradient_steps: int = 128  # updates per training phase
    target_update_every: int = 128  # updates between hard copies to the target network
    eps_start: float = 1.0
    eps_end: float = 0.04
    eps_fraction: float = 0.16
    max_grad_norm: float = 10.0
    double_q: bool = True
    hidden: tuple[int, ...] = (256, 256)


def epsilon_at(env_steps: int, total_steps: int, cfg: DQNConfig) -> float:
    """The exploration rate after ``env_steps`` of ``total_steps``: linear decay, then constant."""
    frac = min(env_steps / max(cfg.eps_fraction * total_steps, 1.0), 1.0)
    return cfg.eps_start + frac * (cfg.eps_end - cfg.eps_start)


def train_dqn(
    *,
    env_id: str,
    total_steps: int,
    seed: int = 0,
    config: DQNConfig = DQNConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 50,
    progress: bool = False,
    keep_best: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a DQN agent on ``env_id``'s reward for ``total_steps`` env steps.

    The returned policy is a :class:`~imitlab.policies.QPolicy` (greedy in its Q-values), which is
    also the critic: ``policy.q_values(obs)`` is the learned Q. A run with ``out`` writes a
    checkpoint every ``checkpoint_every`` steps; ``resume`` continues it.
    """
    cfg = config
    positive("total_steps", total_steps)
    positive("batch_size", cfg.batch_size)
    positive("train_every", cfg.train_every)
    venv = make_vec_env(env_id, cfg.num_envs)
    obs_space, act_space = venv.single_observation_space, venv.single_action_space
    if not isinstance(act_space, gym.spaces.Discrete):
        venv.close()
        raise UserError(f"DQN needs discrete actions; {env_id} has {act_space}: use --algo sac or ppo")
    seed_everything(seed)
    gen = torch.Generator().manual_seed(seed)
    qnet = QPolicy(obs_space, act_space, cfg.hidden)
    target = copy.deepcopy(qnet).requires_grad_(False)
    optimizer = torch.optim.Adam(qnet.parameters(), lr=cfg.lr)
    buffer = ReplayBuffer(cfg.buffer_size, obs_space.shape, (), np.int64, seed=seed)

    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "expert-dqn", "env_id": env_id, "seed": seed, "total_steps": total_steps, **asdict(cfg)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress, keep_best=keep_best,
        checkpoint_every=checkpoint_every, resume=resume,
    )

    def learner_state() -> dict:
        return {"qnet": qnet.state_dict(), "target": target.state_dict(), "optimizer": optimizer.state_dict(),
                "buffer": buffer.state_dict(), "gen": gen.get_state(), "vec_steps": vec_steps, "updates": updates}

    env_steps, vec_steps, updates, final = 0, 0, 0, None
    state = run.restored()
    if state is not None:
        qnet.load_state_dict(state["qnet"])
        target.load_state_dict(state["target"])
        optimizer.load_state_dict(state["optimizer"])
        buffer.load_state_dict(state["buffer"])
        gen.set_state(state["gen"])
        env_steps, vec_steps, updates = run.resumed_step, int(state["vec_steps"]), int(state["updates"])
    obs = venv.reset(seed=seed + env_steps)  # a resumed run starts new episodes
    ep_ret = np.zeros(cfg.num_envs)
    loss = torch.zeros(())
    while env_steps < total_steps:
        with run.timed():
            qnet.epsilon = epsilon_at(env_steps, total_steps, cfg)
            with torch.inference_mode():
                act = qnet.sample(torch.from_numpy(obs), gen)[0].numpy()
            next_obs_env, rew, term, trunc, next_obs = venv.step(act)
            buffer.add(obs, act, rew, next_obs, term)
            obs = next_obs_env
            env_steps += cfg.num_envs
            vec_steps += 1
            ep_ret += rew
            done = term | trunc
            finished = ep_ret[done].copy()
            ep_ret[done] = 0.0

            if env_steps >= cfg.learning_starts and vec_steps % cfg.train_every == 0:
                for _ in range(cfg.gradient_steps):
                    b_obs, b_act, b_rew, b_next, b_term = buffer.sample(cfg.batch_size)
                    with torch.no_grad():
                        next_target = target.q_values(b_next)
                        next_online = qnet.q_values(b_next) if cfg.double_q else next_target
                        q_target = double_q_target(b_rew, b_term, next_online, next_target, cfg.gamma)
                    loss = huber_td_loss(qnet.q(b_obs, b_act), q_target)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(qnet.parameters(), cfg.max_grad_norm)
                    optimizer.step()
                    updates += 1
                    if updates % cfg.target_update_every == 0:
                        target.load_state_dict(qnet.state_dict())

        stats = None
        if len(finished):
            stats = {"episode_return": float(finished.mean()), "td_loss": float(loss.detach()), "epsilon": qnet.epsilon}
        run.advance(cfg.num_envs, stats, step=env_steps)
        if run.evaluation_due(env_steps) or env_steps >= total_steps:
            qnet.epsilon = 0.0
            final = run.evaluate(qnet, env_steps=env_steps)
        if run.checkpoint_due(env_steps, last=env_steps >= total_steps):
            run.save_checkpoint(env_steps, learner_state())
    venv.close()
    qnet.epsilon = 0.0
    qnet.eval()
    return run.result(qnet, final=final, extra={"algo": "expert-dqn", "env_steps": env_steps}, critic_is_policy=True)

"""Deep Q-Networks (Mnih et al. 2015) with double-Q targets (van Hasselt et al. 2016) for discrete
actions: a replay buffer, a target network copied every ``target_update_every`` updates, the Huber
TD loss and a linearly decaying epsilon-greedy exploration. It trains experts whose Q-network is
kept as their Q*, the cost-to-go AggreVaTeD learns from.

:class:`DQN` only optimises: ``update(batch)`` is one TD step on the batch it is given (with its
rewards, stored or computed at sampling time) and the target copy when due. :func:`train_dqn` is
the expert-training loop around it: act epsilon-greedily in ``num_envs`` envs, store, and every
``train_every`` vector steps take ``gradient_steps`` updates (SB3's train_freq/gradient_steps).
"""

from __future__ import annotations

import copy
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import gymnasium as gym
import numpy as np
import torch

from imitlab.envs.spaces import observation_box
from imitlab.errors import UserError, positive
from imitlab.losses import double_q_target, huber_td_loss
from imitlab.policies import QPolicy
from imitlab.rewards.env import learner_env, reward_record
from imitlab.rl.replay import ProgressRows, ReplayBatch, ReplayBuffer
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything

if TYPE_CHECKING:
    from imitlab.rewards import LoadedReward


@dataclass(frozen=True)
class DQNConfig:
    """DQN hyperparameters (defaults: RL-Zoo's tuned CartPole-v1 values for SB3's DQN, with
    double-Q targets). Epsilon decays linearly from ``eps_start`` to ``eps_end`` over the first
    ``eps_fraction`` of the run's env steps."""

    num_envs: int = 1
    """Environments stepped together; each vector step adds this many transitions."""
    buffer_size: int = 100_000
    """Transitions the replay buffer holds (the oldest are overwritten)."""
    learning_starts: int = 1_000
    """Env steps before learning starts (exploration follows epsilon throughout)."""
    batch_size: int = 64
    """Transitions per gradient step."""
    gamma: float = 0.99
    """Discount factor."""
    lr: float = 2.3e-3
    """Adam learning rate of the Q-network."""
    train_every: int = 256
    """Vector steps between training phases."""
    gradient_steps: int = 128
    """Gradient steps per training phase."""
    target_update_every: int = 128
    """Gradient steps between hard copies of the Q-network to its target."""
    eps_start: float = 1.0
    """Exploration rate (epsilon-greedy) at the start of the run."""
    eps_end: float = 0.04
    """Exploration rate after the decay."""
    eps_fraction: float = 0.16
    """Fraction of the run's env steps over which epsilon decays linearly."""
    max_grad_norm: float = 10.0
    """Gradients are clipped to this global norm."""
    double_q: bool = True
    """Double-Q targets: the online network picks the next action, the target values it."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the Q-network."""


def epsilon_at(env_steps: int, total_steps: int, cfg: DQNConfig) -> float:
    """The exploration rate after ``env_steps`` of ``total_steps``: linear decay, then constant."""
    frac = min(env_steps / max(cfg.eps_fraction * total_steps, 1.0), 1.0)
    return cfg.eps_start + frac * (cfg.eps_end - cfg.eps_start)


class DQN:
    """The DQN learner: a Q-network (which is also the greedy policy), its target copy, the
    optimizer, and the random generator that draws its exploratory actions."""

    def __init__(self, qnet: QPolicy, config: DQNConfig, *, seed: int) -> None:
        self.config = config
        self.qnet = qnet
        self.target = copy.deepcopy(qnet).requires_grad_(False)
        self.optimizer = torch.optim.Adam(qnet.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(seed)
        self.updates = 0  # gradient steps taken

    @torch.inference_mode()
    def act(self, obs: np.ndarray, epsilon: float) -> np.ndarray:
        """Epsilon-greedy actions for a batch of observations (``epsilon`` stays set on the Q-network)."""
        self.qnet.epsilon = epsilon
        return self.qnet.sample(torch.from_numpy(obs), self.generator)[0].numpy()

    @torch.no_grad()
    def q_target(self, batch: ReplayBatch) -> torch.Tensor:
        """The (double-)Q target of ``batch``'s transitions, [B]."""
        next_target = self.target.q_values(batch.next_obs)
        next_online = self.qnet.q_values(batch.next_obs) if self.config.double_q else next_target
        return double_q_target(batch.require_rewards(), batch.terminated, next_online, next_target, self.config.gamma)

    def update(self, batch: ReplayBatch) -> dict[str, float]:
        """One Huber TD step with a clipped gradient; every ``target_update_every`` of them, the
        target network becomes a copy of the Q-network."""
        q_target = self.q_target(batch)
        loss = huber_td_loss(self.qnet.q(batch.obs, batch.acts), q_target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.qnet.parameters(), self.config.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.config.target_update_every == 0:
            self.sync_target()
        return {"td_loss": float(loss.detach())}

    def sync_target(self) -> None:
        """Copy the Q-network's weights into the target network."""
        self.target.load_state_dict(self.qnet.state_dict())

    def state_dict(self) -> dict:
        """Everything the learner holds: both networks, the optimizer, the generator, the update count."""
        return {"qnet": self.qnet.state_dict(), "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(), "generator": self.generator.get_state(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        for name in ("qnet", "target", "optimizer"):
            getattr(self, name).load_state_dict(state[name])
        self.generator.set_state(state["generator"])
        self.updates = int(state["updates"])


def _dqn_state(saved: dict) -> dict:
    """The DQN learner's part of a checkpoint's learner section. Checkpoints written before DQN was
    a learner object held its fields at the top of that section, the generator as ``gen``."""
    if "dqn" in saved:
        return saved["dqn"]
    return {**{k: saved[k] for k in ("qnet", "target", "optimizer", "updates")}, "generator": saved["gen"]}


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
    log_every: int = 1_000,
    reward: LoadedReward | None = None,
) -> TrainResult:
    """Train a DQN agent on ``env_id``'s reward for ``total_steps`` env steps.

    The returned policy is a :class:`~imitlab.policies.QPolicy` (greedy in its Q-values), which is
    also the critic: ``policy.q_values(obs)`` is the learned Q. A run with ``out`` writes a
    progress row every ``log_every`` env steps and a checkpoint every ``checkpoint_every`` steps;
    ``resume`` continues it.
    """
    cfg = config
    positive("total_steps", total_steps)
    positive("batch_size", cfg.batch_size)
    positive("train_every", cfg.train_every)
    positive("log_every", log_every)
    venv = learner_env(env_id, cfg.num_envs, reward, gamma=cfg.gamma)
    obs_space, act_space = venv.single_observation_space, venv.single_action_space
    if not isinstance(act_space, gym.spaces.Discrete):
        venv.close()
        raise UserError(f"DQN needs discrete actions; {env_id} has {act_space}: use --algo sac or ppo")
    seed_everything(seed)
    learner = DQN(QPolicy(obs_space, act_space, cfg.hidden), cfg, seed=seed)
    buffer = ReplayBuffer(cfg.buffer_size, observation_box(obs_space).shape, (), np.int64, seed=seed)
    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "expert-dqn", "env_id": env_id, "seed": seed, "total_steps": total_steps, **asdict(cfg),
                **reward_record(reward)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress, keep_best=keep_best,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    env_steps, vec_steps, final = 0, 0, None
    state = run.restored()
    if state is not None:
        learner.load_state_dict(_dqn_state(state))
        buffer.load_state_dict(state["buffer"])
        env_steps, vec_steps = run.resumed_step, int(state["vec_steps"])
    obs = venv.reset(seed=seed + env_steps)  # a resumed run starts new episodes
    rows = ProgressRows(cfg.num_envs, log_every)
    stats: dict[str, float] = {}
    while env_steps < total_steps:
        with run.timed():
            epsilon = epsilon_at(env_steps, total_steps, cfg)
            act = learner.act(obs, epsilon)
            next_obs_env, rew, term, trunc, next_obs = venv.step(act)
            buffer.add(obs, act, next_obs, term, rews=rew)
            rows.record(rew, term | trunc)
            obs = next_obs_env
            env_steps += cfg.num_envs
            vec_steps += 1

            if env_steps >= cfg.learning_starts and vec_steps % cfg.train_every == 0:
                for _ in range(cfg.gradient_steps):
                    stats.update(learner.update(buffer.sample(cfg.batch_size)))

        due = rows.due(env_steps, cfg.num_envs, last=env_steps >= total_steps)
        row = {**stats, "epsilon": epsilon, "updates": learner.updates}
        run.advance(cfg.num_envs, rows.row(row) if due else None, step=env_steps)
        if run.evaluation_due(env_steps) or env_steps >= total_steps:
            learner.qnet.epsilon = 0.0
            final = run.evaluate(learner.qnet, env_steps=env_steps)
        if run.checkpoint_due(env_steps, last=env_steps >= total_steps):
            run.save_checkpoint(env_steps, {"dqn": learner.state_dict(), "buffer": buffer.state_dict(),
                                            "vec_steps": vec_steps})
    venv.close()
    learner.qnet.epsilon = 0.0
    learner.qnet.eval()
    return run.result(learner.qnet, final=final, extra={"algo": "expert-dqn", "env_steps": env_steps},
                      critic_is_policy=True)

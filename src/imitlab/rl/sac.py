"""Soft Actor-Critic (Haarnoja et al. 2018, arXiv:1801.01290 and arXiv:1812.05905) for continuous
actions: twin critics with target copies, a tanh-squashed Gaussian actor with a state-dependent
std, and automatic entropy tuning. It trains experts whose critic is kept as their Q*, the
cost-to-go AggreVaTeD learns from.

:class:`SAC` only optimises, on the batches it is given: ``critic_step`` (soft Bellman regression
of the twin critic), ``actor_step`` (the actor and the temperature) and ``update``, which composes
them as in CleanRL's sac_continuous_action.py (the actor every ``policy_frequency`` critic steps,
Polyak-averaged targets). Learners whose reward is not the env's (DAC relabels it at sampling
time) or whose critic loss differs (IQ-Learn) reuse these steps. :func:`train_sac` is the
expert-training loop around it: act (uniformly at random until ``learning_starts``), store, and
every vector step take ``gradient_steps`` updates.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F

from imitlab.critics import TwinQ, space_obs_stats
from imitlab.envs.spaces import observation_box
from imitlab.errors import UserError, positive
from imitlab.losses import sac_actor_loss, sac_alpha_loss, sac_q_target
from imitlab.policies import GaussianPolicy
from imitlab.rewards.env import learner_env, reward_record
from imitlab.rl.replay import ProgressRows, ReplayBatch, ReplayBuffer
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything

if TYPE_CHECKING:
    from imitlab.rewards import LoadedReward


@dataclass(frozen=True)
class SACConfig:
    """SAC hyperparameters. Each vector step adds ``num_envs`` transitions and takes
    ``gradient_steps`` critic updates."""

    num_envs: int = 1
    """Environments stepped together; each vector step adds this many transitions."""
    buffer_size: int = 100_000
    """Transitions the replay buffer holds (the oldest are overwritten)."""
    learning_starts: int = 1_000
    """Env steps of uniformly random actions before learning starts."""
    batch_size: int = 256
    """Transitions per gradient step."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak rate of the target critics (the fraction of the critics blended in per update)."""
    actor_lr: float = 3e-4
    """Adam learning rate of the actor."""
    critic_lr: float = 1e-3
    """Adam learning rate of the twin critic."""
    alpha_lr: float = 1e-3
    """Adam learning rate of the temperature (log alpha)."""
    gradient_steps: int = 1
    """Critic updates per vector step."""
    policy_frequency: int = 2
    """Actor and temperature updates every this many critic updates (that many at once)."""
    init_alpha: float = 0.2
    """Initial entropy temperature alpha."""
    autotune: bool = True
    """Tune alpha towards a target entropy of -dim(A); if off, alpha stays at init_alpha."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the actor."""
    critic_hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of each of the two critics."""


CriticLoss = Callable[["SAC"], tuple[torch.Tensor, dict[str, float]]]
"""A critic loss of the learner's networks (with gradients) and its statistics."""


class SAC:
    """The SAC learner: an actor, a twin critic and its target, the temperature, their optimizers,
    and the random generator that draws its actions (when acting and inside the losses).

    Build one with :meth:`for_spaces` (networks normalised by the spaces' bounds) or from networks
    of your own. ``update(batch)`` is one full SAC update; ``critic_step`` and ``actor_step`` are
    its parts, for learners that take them apart.
    """

    def __init__(self, actor: GaussianPolicy, critic: TwinQ, config: SACConfig, *, seed: int) -> None:
        cfg = config
        self.config = cfg
        self.actor = actor
        self.critic = critic
        self.target = copy.deepcopy(critic).requires_grad_(False)
        self.actor_opt = adam(actor.parameters(), lr=cfg.actor_lr)
        self.critic_opt = adam(critic.parameters(), lr=cfg.critic_lr)
        self.log_alpha = torch.tensor(float(np.log(cfg.init_alpha)), requires_grad=cfg.autotune)
        self.alpha_opt = adam([self.log_alpha], lr=cfg.alpha_lr)
        self._critic_params: list[torch.Tensor] = list(critic.parameters())
        self._target_params: list[torch.Tensor] = list(self.target.parameters())
        self.target_entropy = -float(actor.act_dim)  # of the unit-space action (Haarnoja et al.'s -dim(A))
        self.generator = torch.Generator().manual_seed(seed)
        self.updates = 0  # critic steps taken by update()

    @classmethod
    def for_spaces(cls, observation_space: gym.Space, action_space: gym.spaces.Box, config: SACConfig, *, seed: int) -> SAC:
        """A fresh learner for these spaces, observations normalised by the space's bounds (an RL
        learner has no data to take statistics from). Draws the initial weights from torch's
        global RNG: seed it first."""
        actor = GaussianPolicy(observation_space, action_space, config.hidden, squash=True, state_dependent_std=True)
        critic = TwinQ(observation_space, action_space, config.critic_hidden)
        stats = space_obs_stats(observation_space)
        actor.set_obs_normalization(*stats)
        critic.set_obs_normalization(*stats)
        return cls(actor, critic, config, seed=seed)

    @property
    def alpha(self) -> torch.Tensor:
        """The current temperature, detached."""
        return self.log_alpha.detach().exp()

    @torch.inference_mode()
    def act(self, obs: np.ndarray) -> np.ndarray:
        """Exploratory actions (sampled from the actor) for a batch of observations."""
        return self.actor.sample(torch.from_numpy(obs), self.generator)[0].numpy()

    @torch.no_grad()
    def q_target(self, batch: ReplayBatch) -> torch.Tensor:
        """The soft Bellman target of ``batch``'s transitions, [B], with a' drawn from the actor."""
        next_act, next_logp = self.actor.rsample(batch.next_obs, self.generator)
        next_q = self.target.q(batch.next_obs, next_act)
        return sac_q_target(batch.require_rewards(), batch.terminated, next_q, next_logp, self.alpha, self.config.gamma)

    def bellman_loss(self, batch: ReplayBatch) -> tuple[torch.Tensor, dict[str, float]]:
        """Both critics' squared error to the soft Bellman target, and its statistics."""
        q_target = self.q_target(batch)
        q1, q2 = self.critic.both(batch.obs, batch.acts)
        q_loss = F.mse_loss(q1, q_target) + F.mse_loss(q2, q_target)
        return q_loss, {"q_loss": float(q_loss.detach()), "q": float(q1.detach().mean())}

    def critic_step(self, batch: ReplayBatch, critic_loss: CriticLoss | None = None) -> dict[str, float]:
        """One gradient step of both critics on ``critic_loss(self)`` (default: the soft Bellman
        error of ``batch``); the actor, the temperature and the target critics do not move."""
        loss, stats = self.bellman_loss(batch) if critic_loss is None else critic_loss(self)
        self.critic_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_opt.step()
        return stats

    def actor_step(self, batch: ReplayBatch) -> dict[str, float]:
        """One gradient step of the actor on ``batch``'s observations, then of the temperature
        (when ``autotune``); the critics do not move."""
        alpha = self.alpha
        new_act, logp = self.actor.rsample(batch.obs, self.generator)
        # The critic's weights need no gradient here: the actor's flows through its input.
        self.critic.requires_grad_(False)
        try:
            actor_loss = sac_actor_loss(self.critic.q(batch.obs, new_act), logp, alpha)
        finally:
            self.critic.requires_grad_(True)
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        stats = {"actor_loss": float(actor_loss.detach()), "entropy": float(-logp.detach().mean())}
        if self.config.autotune:
            alpha_loss = sac_alpha_loss(self.log_alpha, logp, self.target_entropy)
            self.alpha_opt.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_opt.step()
            stats["alpha_loss"] = float(alpha_loss.detach())
        stats["alpha"] = float(self.alpha)
        return stats

    @torch.no_grad()
    def update_target(self) -> None:
        """Move the target critics a fraction ``tau`` towards the critics (Polyak averaging)."""
        torch._foreach_lerp_(self._target_params, self._critic_params, self.config.tau)  # one call, not one per tensor

    def update(self, batch: ReplayBatch, *, critic_loss: CriticLoss | None = None) -> dict[str, float]:
        """One SAC update: a critic step; every ``policy_frequency`` of them, that many actor steps
        on ``batch``'s states (as in the paper's code, several make up for the skipped ones); then
        the target update. Returns the statistics of the steps taken (the actor's only when it
        stepped).

        ``critic_loss(sac)`` replaces the soft Bellman error in the critic step, for learners
        that train the critics on a loss of their own (IQ-Learn) within SAC's cadence."""
        stats = self.critic_step(batch, critic_loss)
        self.updates += 1
        if self.updates % self.config.policy_frequency == 0:
            for _ in range(self.config.policy_frequency):
                stats.update(self.actor_step(batch))
        self.update_target()
        return stats

    def state_dict(self) -> dict:
        """Everything the learner holds: networks, optimizers, temperature, generator, update count."""
        return {
            "actor": self.actor.state_dict(), "critic": self.critic.state_dict(), "target": self.target.state_dict(),
            "actor_opt": self.actor_opt.state_dict(), "critic_opt": self.critic_opt.state_dict(),
            "alpha_opt": self.alpha_opt.state_dict(), "log_alpha": self.log_alpha.detach().clone(),
            "generator": self.generator.get_state(), "updates": self.updates,
        }

    def load_state_dict(self, state: dict) -> None:
        for name in ("actor", "critic", "target"):
            getattr(self, name).load_state_dict(state[name])
        for name in ("actor_opt", "critic_opt", "alpha_opt"):
            load_optimizer_state(getattr(self, name), state[name])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.generator.set_state(state["generator"])
        self.updates = int(state["updates"])


def adam(params, *, lr: float) -> torch.optim.Adam:
    """Adam with its fused kernel where this torch has one for the CPU (one pass over all the
    parameters instead of a dozen small ops per tensor: a fifth of a 256x256 SAC update), else the
    usual one. Both give the same numbers up to float rounding."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """``optimizer.load_state_dict(state)`` keeping this optimizer's own kernel choice: a saved state
    carries the ``fused`` flag of the torch that wrote it, which this one may lack (or have)."""
    fused = [group.get("fused") for group in optimizer.param_groups]
    optimizer.load_state_dict(state)
    for group, flag in zip(optimizer.param_groups, fused):
        group["fused"] = flag


def _sac_state(saved: dict) -> dict:
    """The SAC learner's part of a checkpoint's learner section. Checkpoints written before SAC was
    a learner object held its fields at the top of that section, the generator as ``gen``."""
    if "sac" in saved:
        return saved["sac"]
    names = ("actor", "critic", "target", "actor_opt", "critic_opt", "alpha_opt", "log_alpha", "updates")
    return {**{k: saved[k] for k in names}, "generator": saved["gen"]}


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
    log_every: int = 1_000,
    reward: LoadedReward | None = None,
) -> TrainResult:
    """Train a SAC agent on ``env_id``'s reward for ``total_steps`` env steps.

    Returns the actor as ``policy`` and the twin critic as ``critic`` (both saved in the run's
    ``policy.pt`` when ``out`` is given). A run with ``out`` writes a progress row every
    ``log_every`` env steps and a checkpoint (learner, replay buffer, RNGs) every
    ``checkpoint_every`` steps; ``resume`` continues it.
    """
    cfg = config
    positive("total_steps", total_steps)
    positive("batch_size", cfg.batch_size)
    positive("gradient_steps", cfg.gradient_steps)
    positive("log_every", log_every)
    venv = learner_env(env_id, cfg.num_envs, reward, gamma=cfg.gamma)
    obs_space, act_space = venv.single_observation_space, venv.single_action_space
    if not isinstance(act_space, gym.spaces.Box):
        venv.close()
        raise UserError(f"SAC needs continuous (Box) actions; {env_id} has {act_space}: use --algo dqn or ppo")
    rng = seed_everything(seed)
    learner = SAC.for_spaces(obs_space, act_space, cfg, seed=seed)
    buffer = ReplayBuffer(cfg.buffer_size, observation_box(obs_space).shape, act_space.shape, np.float32, seed=seed)
    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "expert-sac", "env_id": env_id, "seed": seed, "total_steps": total_steps, **asdict(cfg),
                **reward_record(reward)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress, keep_best=keep_best,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    env_steps, final = 0, None
    state = run.restored()
    if state is not None:
        learner.load_state_dict(_sac_state(state))
        buffer.load_state_dict(state["buffer"])
        rng.bit_generator.state = state["rng"]
        env_steps = run.resumed_step
    obs = venv.reset(seed=seed + env_steps)  # a resumed run starts new episodes
    rows = ProgressRows(cfg.num_envs, log_every)
    stats: dict[str, float] = {}
    while env_steps < total_steps:
        with run.timed():
            if env_steps < cfg.learning_starts:
                act = rng.uniform(act_space.low, act_space.high, size=(cfg.num_envs, *act_space.shape)).astype(np.float32)
            else:
                act = learner.act(obs)
            next_obs_env, rew, term, trunc, next_obs = venv.step(act)
            buffer.add(obs, act, next_obs, term, rews=rew)
            rows.record(rew, term | trunc)
            obs = next_obs_env
            env_steps += cfg.num_envs

            if env_steps >= cfg.learning_starts:
                for _ in range(cfg.gradient_steps):
                    stats.update(learner.update(buffer.sample(cfg.batch_size)))

        due = rows.due(env_steps, cfg.num_envs, last=env_steps >= total_steps)
        run.advance(cfg.num_envs, rows.row({**stats, "updates": learner.updates}) if due else None, step=env_steps)
        if run.evaluation_due(env_steps) or env_steps >= total_steps:
            final = run.evaluate(learner.actor, env_steps=env_steps, critic=learner.critic)
        if run.checkpoint_due(env_steps, last=env_steps >= total_steps):
            run.save_checkpoint(env_steps, {"sac": learner.state_dict(), "buffer": buffer.state_dict(),
                                            "rng": rng.bit_generator.state})
    venv.close()
    learner.actor.eval()
    learner.critic.eval()
    return run.result(learner.actor, final=final, extra={"algo": "expert-sac", "env_steps": env_steps},
                      critic=learner.critic)

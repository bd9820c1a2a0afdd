"""Soft Q Imitation Learning (Reddy, Dragan and Levine 2019, arXiv:1905.11108).

Off-policy RL with a constant reward: 1 on every demonstrated transition, 0 on every transition
of the agent's own. Each update reads a balanced batch, half demonstrations and half the agent's
replay, and takes a soft Q-learning step (discrete actions: :class:`~imitlab.rl.soft_q.SoftQ`) or a
SAC update (continuous: :class:`~imitlab.rl.sac.SAC`). The agent is drawn back to demonstrated
states, where reward lives, and away from states it wanders into alone, where it does not; no
discriminator is learned.

Episodes that end by a true termination: with ``absorbing`` (the default) the step into the
terminal state is followed by an absorbing state whose reward is the transition's own (1 for the
expert, 0 for the agent) forever, so the target is ``r / (1 - gamma)`` there. Without it the
expert's last step would be worth 1 where continuing is worth up to ``1 / (1 - gamma)``, and the
agent would learn to avoid the expert's way of ending (landing, reaching a goal).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from imitlab.algorithms.offpolicy.common import (
    OffPolicyConfig,
    agent_buffer,
    critic_of,
    off_policy_loop,
    off_policy_run,
    off_policy_setup,
    policy_of,
)
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.errors import positive
from imitlab.losses import absorbing_tail
from imitlab.rl.replay import ReplayBatch
from imitlab.rl.soft_q import SoftQ
from imitlab.training import TrainResult


@dataclass(frozen=True)
class SQILConfig(OffPolicyConfig):
    """SQIL's settings: the off-policy learner's, and how terminations count."""

    absorbing: bool = True
    """A true termination leads to an absorbing state that keeps the transition's reward (1 expert, 0 agent)."""


def sqil_rewards(batch: ReplayBatch, reward: float, *, absorbing: bool, gamma: float) -> torch.Tensor:
    """SQIL's constant ``reward`` for every transition of ``batch`` [B], with the absorbing state's
    discounted tail ``gamma * reward / (1 - gamma)`` added at true terminations where ``absorbing``."""
    rews = torch.full((len(batch),), float(reward))
    if absorbing and reward:
        rews = rews + batch.terminated * absorbing_tail(reward, gamma)
    return rews


def train_sqil(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    total_steps: int,
    seed: int = 0,
    config: SQILConfig = SQILConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 50,
    progress: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Imitate ``demos`` by SQIL for ``total_steps`` environment steps.

    Discrete actions give a soft Q-network (saved as a greedy :class:`~imitlab.policies.QPolicy`,
    its own critic); continuous ones a SAC actor with its twin critic beside it.
    """
    cfg = config
    positive("total_steps", total_steps)
    setup = off_policy_setup(cfg, env_id=env_id, demos=demos, seed=seed)
    learner, demo_buf = setup.learner, setup.demos
    buffer = agent_buffer(setup, cfg, seed=seed)
    run = off_policy_run("sqil", cfg, setup, env_id=env_id, seed=seed, total_steps=total_steps, out=out,
                         eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
                         checkpoint_every=checkpoint_every, resume=resume)

    def update() -> dict[str, float]:
        expert, agent = demo_buf.sample(cfg.batch_size), buffer.sample(cfg.batch_size)
        batch = ReplayBatch.cat([
            expert.with_rewards(sqil_rewards(expert, 1.0, absorbing=cfg.absorbing, gamma=cfg.gamma)),
            agent.with_rewards(sqil_rewards(agent, 0.0, absorbing=cfg.absorbing, gamma=cfg.gamma)),
        ])
        return learner.td_step(batch) if isinstance(learner, SoftQ) else learner.update(batch)

    final, steps = off_policy_loop(run, env_id=env_id, learner=learner, buffer=buffer, demos=demo_buf, update=update,
                                   total_steps=total_steps, config=cfg, seed=seed, rng=setup.rng)
    policy, critic = policy_of(learner), critic_of(learner)
    return run.result(policy, final=final, extra={"algo": "sqil", "env_steps": steps}, critic=critic,
                      critic_is_policy=critic is None)

"""Discriminator-Actor-Critic, DAC (Kostrikov, Agrawal, Dwibedi, Levine and Tompson 2019,
arXiv:1809.02925): adversarial imitation with an off-policy generator.

The agent's transitions go to a replay buffer; every ``disc_every`` SAC updates the discriminator
takes a step on a replay minibatch against as many expert pairs, with a gradient penalty; every
SAC update relabels its minibatch with the current discriminator's reward at sampling time
(``common.replay_reward_fn``). With ``absorbing`` (the paper's fix for the reward forms' bias at
episode ends) a true termination leads to an absorbing state whose reward the discriminator
learns too: the expert side carries one absorbing pair per terminated expert episode, the agent
side one per termination in its minibatch. The default reward is the logit ``log D - log(1 - D)``
(AIRL's form), unbiased in sign.

Continuous actions only (a SAC generator): for discrete ones use gail, sqil or iq-learn.
Reusing every transition many times is what makes it need about a tenth of GAIL's env steps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import torch

from imitlab.algorithms.adversarial.common import (
    RewardForm,
    check_reward_form,
    discriminator_health,
    discriminator_step,
    draw_expert,
    expert_inputs,
    replay_pairs,
    replay_reward_fn,
    with_absorbing_rows,
)
from imitlab.algorithms.offpolicy.common import (
    OffPolicyConfig,
    agent_buffer,
    off_policy_loop,
    off_policy_run,
    off_policy_setup,
)
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.discriminator import Discriminator
from imitlab.errors import UserError, positive
from imitlab.rl.sac import SAC
from imitlab.training import TrainResult


@dataclass(frozen=True)
class DACConfig(OffPolicyConfig):
    """DAC's settings: the SAC generator's (the off-policy learner's) and the discriminator's."""

    reward: RewardForm = "logit"
    """Reward read from the discriminator: "logit" (log D - log(1 - D), unbiased in sign), "positive"
    (-log(1 - D)) or "negative" (log D)."""
    absorbing: bool = True
    """Absorbing states after true terminations, their reward learned by the discriminator."""
    disc_hidden: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the discriminator."""
    disc_lr: float = 3e-4
    """Adam learning rate of the discriminator."""
    disc_grad_penalty: float = 10.0
    """Weight of the gradient penalty on interpolates of expert and agent inputs (WGAN-GP's, as in the paper)."""
    disc_every: int = 1
    """SAC updates between discriminator steps (one update per env step unless ``updates_per_step`` says more)."""
    disc_entropy_bonus: float = 0.0
    """Reward for uncertain discriminator logits (over both sides)."""


def train_dac(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    total_steps: int,
    seed: int = 0,
    config: DACConfig = DACConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 50,
    progress: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Imitate ``demos`` by DAC for ``total_steps`` environment steps; returns the SAC actor as the
    policy and its twin critic as the critic."""
    cfg = config
    positive("total_steps", total_steps)
    positive("disc_every", cfg.disc_every)
    check_reward_form(cfg.reward)
    if cfg.disc_grad_penalty < 0 or cfg.disc_entropy_bonus < 0:
        raise UserError("disc_grad_penalty and disc_entropy_bonus must be >= 0")
    from imitlab.envs.vector import env_spaces

    if not isinstance(env_spaces(env_id)[1], gym.spaces.Box):
        raise UserError(f"dac trains a SAC generator, for continuous (Box) actions; {env_id} has discrete actions: "
                        "use gail, sqil or iq-learn")
    setup = off_policy_setup(cfg, env_id=env_id, demos=demos, seed=seed)
    learner = setup.learner
    assert isinstance(learner, SAC)
    disc = Discriminator(setup.obs_space, setup.act_space, obs_mean=setup.obs_mean, obs_std=setup.obs_std,
                         hidden=cfg.disc_hidden, absorbing=cfg.absorbing)
    disc_opt = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
    expert = expert_inputs(disc, setup.trans, cfg.absorbing)
    buffer = agent_buffer(setup, cfg, seed=seed)
    reward_fn = replay_reward_fn(disc, cfg.reward, absorbing=cfg.absorbing, gamma=cfg.gamma)
    torch_gen = torch.Generator().manual_seed(seed + 2)
    run = off_policy_run("dac", cfg, setup, env_id=env_id, seed=seed, total_steps=total_steps, out=out,
                         eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
                         checkpoint_every=checkpoint_every, resume=resume)
    calls = disc_steps = 0

    def update() -> dict[str, float]:
        nonlocal calls, disc_steps
        stats: dict[str, float] = {}
        if calls % cfg.disc_every == 0:
            agent = buffer.sample(cfg.batch_size)
            n_absorbing = int(agent.terminated.sum()) if cfg.absorbing else 0
            policy_x = with_absorbing_rows(disc, disc.inputs(replay_pairs(agent)), n_absorbing)
            expert_x = draw_expert(expert, len(policy_x), setup.rng)
            loss = discriminator_step(disc, disc_opt, expert_x, policy_x, entropy_bonus=cfg.disc_entropy_bonus,
                                      grad_penalty=cfg.disc_grad_penalty, generator=torch_gen)
            if disc_steps % 1000 == 0:  # health on the step's own rows, not every step: it costs a forward pass
                with torch.no_grad():
                    stats.update(discriminator_health(disc.logits(expert_x), disc.logits(policy_x)))
            disc_steps += 1
            stats["disc_loss"] = float(loss)
        calls += 1
        batch = buffer.sample(cfg.batch_size, reward_fn=reward_fn)
        stats.update(learner.update(batch), mean_reward=float(batch.require_rewards().mean()))
        return stats

    def state() -> dict[str, Any]:
        return {"disc": disc.state_dict(), "disc_opt": disc_opt.state_dict(), "torch_gen": torch_gen.get_state(),
                "calls": calls, "disc_steps": disc_steps}

    def load_state(saved: dict[str, Any]) -> None:
        nonlocal calls, disc_steps
        disc.load_state_dict(saved["disc"])
        disc_opt.load_state_dict(saved["disc_opt"])
        torch_gen.set_state(saved["torch_gen"])
        calls, disc_steps = int(saved["calls"]), int(saved["disc_steps"])

    final, steps = off_policy_loop(run, env_id=env_id, learner=learner, buffer=buffer, demos=setup.demos, update=update,
                                   total_steps=total_steps, config=cfg, seed=seed, rng=setup.rng, state=state,
                                   load_state=load_state)
    learner.critic.eval()
    return run.result(learner.actor, final=final, extra={"algo": "dac", "env_steps": steps}, critic=learner.critic)

"""Inverse soft-Q learning, IQ-Learn (Garg, Chakraborty, Cundy, Song and Ermon 2021, arXiv:2106.12142).

One soft Q-function stands for both the reward and the policy: the policy is its soft-optimal one
(softmax(Q / alpha) for discrete actions; for continuous ones a SAC actor trained on Q), and the
reward it implies is the inverse Bellman operator ``r(s, a) = Q(s, a) - gamma E[V(s')]``. Q is
learned by minimising ``losses.iq_learn_loss`` (the chi-squared form of the paper's eq. 10): raise
the implied reward of the expert's pairs, lower the soft value of the states visited, keep the
implied rewards small. No discriminator, no adversary.

- **Online** (the default): the states of the loss are the expert's and the agent's own replay,
  half each, as in the paper's online experiments.
- **Offline** (``offline``): no environment interaction at all (the env only evaluates); the loss
  reads the expert's transitions alone, and each budget step is ``updates_per_step`` updates (1).

After training the implied reward is fitted, by least squares on the transitions seen, with a
network r(s, a) (kind ``"mlp"`` of :mod:`imitlab.rewards`): the regression's conditional mean is
``Q(s, a) - gamma E[V(s') | s, a]``, the recovered reward, written as ``reward.pt`` so that
``imitlab reward show`` and ``imitlab train rl --reward`` take it like the IRL algorithms' rewards.

Written from the paper; the authors' reference code (research-only licence) was not used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np
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
from imitlab.envs.vector import active_env_kwargs
from imitlab.errors import UserError, positive
from imitlab.losses import iq_learn_loss, soft_value
from imitlab.rewards import save_reward
from imitlab.rewards.analysis import reward_correlation
from imitlab.rewards.nets import RewardNet
from imitlab.rl.replay import ReplayBatch, ReplayBuffer
from imitlab.rl.sac import SAC
from imitlab.rl.soft_q import SoftQ
from imitlab.training import TrainResult


@dataclass(frozen=True)
class IQLearnConfig(OffPolicyConfig):
    """IQ-Learn's settings: the off-policy learner's, the divergence and the mode."""

    autotune: bool = False
    """Continuous actions: tune SAC's alpha towards -dim(A) (off: alpha stays fixed, the paper's way). The
    implied reward carries -alpha log pi, so a moving alpha moves the reward: online on Pendulum-v1 (10
    demos, seed 0) tuned alpha rose to 1.05 and the score fell from 0.92 at 5,000 env steps to 0.00 at
    20,000; fixed at 0.01 it held 0.94 / 0.98 / 0.98 / 0.98 every 5,000 steps."""
    offline: bool = False
    """Learn from the demonstrations alone, without acting in the env (each step is ``updates_per_step`` updates)."""
    chi2_alpha: float = 0.5
    """The chi-squared divergence's alpha: the implied rewards' squares weigh 1 / (4 alpha)."""
    target_value: bool = True
    """Read V(s') from the Polyak-averaged target network (off: from the Q-network itself, with its
    gradient). Online on CartPole-v1 (10 demos, seed 0) the target held 1.0 from 2,500 env steps on
    where the network's own V(s') stayed below 0.65 at every alpha tried."""
    reward_fit_steps: int = 2_000
    """Gradient steps that fit the recovered reward r(s, a) after training (0: no reward.pt)."""
    reward_hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the recovered reward's network."""


def implied_rewards_discrete(learner: SoftQ, batch: ReplayBatch, gamma: float, *, target_value: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The implied rewards ``Q(s, a) - gamma (1 - terminated) V(s')`` [B] of a soft Q-network, and
    the value gaps ``V(s) - gamma (1 - terminated) V(s')`` [B], with gradients."""
    q_all = learner.qnet.q_values(batch.obs)
    q = q_all.gather(1, batch.acts.long().reshape(-1, 1)).squeeze(1)
    if target_value:
        with torch.no_grad():
            next_v = learner.value(batch.next_obs, target=True)
    else:
        next_v = learner.value(batch.next_obs)
    next_term = gamma * (1.0 - batch.terminated) * next_v
    return q - next_term, soft_value(q_all, learner.alpha) - next_term


def _discrete_loss(learner: SoftQ, expert: ReplayBatch, rows: ReplayBatch, cfg: IQLearnConfig) -> tuple[torch.Tensor, dict[str, float]]:
    implied, gap = implied_rewards_discrete(learner, rows, cfg.gamma, target_value=cfg.target_value)
    n = len(expert)
    loss = iq_learn_loss(implied[:n], gap, implied, cfg.chi2_alpha)
    return loss, {"expert_reward": float(implied[:n].detach().mean()), "value_gap": float(gap.detach().mean())}


def _continuous_loss(sac: SAC, expert: ReplayBatch, rows: ReplayBatch, cfg: IQLearnConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """The IQ-Learn loss of the twin critics (each with V from its own head), SAC's critic step's
    loss in its place (``SAC.update(critic_loss=...)``: the actor and target steps stay SAC's)."""
    alpha = sac.alpha
    with torch.no_grad():
        act, logp = sac.actor.rsample(rows.obs, sac.generator)
        next_act, next_logp = sac.actor.rsample(rows.next_obs, sac.generator)
    q1, q2 = sac.critic.both(rows.obs, rows.acts)
    v1, v2 = sac.critic.both(rows.obs, act)
    if cfg.target_value:
        with torch.no_grad():
            nv1, nv2 = sac.target.both(rows.next_obs, next_act)
    else:
        nv1, nv2 = sac.critic.both(rows.next_obs, next_act)
    n, cont = len(expert), cfg.gamma * (1.0 - rows.terminated)
    loss = torch.zeros(())
    for q, v, nv in ((q1, v1, nv1), (q2, v2, nv2)):
        next_term = cont * (nv - alpha * next_logp)
        implied = q - next_term
        loss = loss + iq_learn_loss(implied[:n], v - alpha * logp - next_term, implied, cfg.chi2_alpha)
    expert_reward = (q1 - cont * (nv1 - alpha * next_logp))[:n].detach().mean()
    return loss, {"loss": float(loss.detach()), "expert_reward": float(expert_reward)}


@torch.no_grad()
def _implied_targets(learner: SoftQ | SAC, batch: ReplayBatch, gamma: float) -> torch.Tensor:
    """The implied reward of each transition of ``batch``, one sample of V(s') for continuous actions."""
    if isinstance(learner, SoftQ):
        return implied_rewards_discrete(learner, batch, gamma, target_value=False)[0]
    next_act, next_logp = learner.actor.rsample(batch.next_obs, learner.generator)
    next_v = learner.critic.q(batch.next_obs, next_act) - learner.alpha * next_logp
    return learner.critic.q(batch.obs, batch.acts) - gamma * (1.0 - batch.terminated) * next_v


def fit_reward(learner: SoftQ | SAC, sources: list[ReplayBuffer], cfg: IQLearnConfig, obs_space, act_space,
               obs_mean: np.ndarray, obs_std: np.ndarray) -> RewardNet:
    """A network r(s, a) fitted by least squares to the implied rewards of transitions drawn from
    ``sources`` (equally from each): its conditional mean is ``Q(s, a) - gamma E[V(s')]``."""
    reward = RewardNet(obs_space, act_space, hidden=cfg.reward_hidden, state_only=False, obs_mean=obs_mean, obs_std=obs_std)
    opt = torch.optim.Adam(reward.parameters(), lr=1e-3)
    per_source = max(cfg.batch_size // len(sources), 1)
    for _ in range(cfg.reward_fit_steps):
        batch = ReplayBatch.cat([src.sample(per_source) for src in sources])
        loss = torch.nn.functional.mse_loss(reward(batch.obs, batch.acts), _implied_targets(learner, batch, cfg.gamma))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return reward.eval()


def train_iq_learn(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    total_steps: int,
    seed: int = 0,
    config: IQLearnConfig = IQLearnConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 50,
    progress: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
    offline: bool | None = None,
) -> TrainResult:
    """Imitate ``demos`` by IQ-Learn for ``total_steps`` steps: env steps online, updates offline.

    ``offline``, where given, overrides ``config.offline`` (the registry's ``iq-learn-offline``).

    A run directory gets ``reward.pt`` (the recovered reward) beside ``policy.pt``; the result's
    ``reward`` holds it and ``reward_correlation`` its agreement with the env's reward.
    """
    cfg = config if offline is None else replace(config, offline=offline)
    positive("total_steps", total_steps)
    if cfg.chi2_alpha <= 0:
        raise UserError(f"chi2_alpha must be positive, got {cfg.chi2_alpha}")
    if cfg.reward_fit_steps < 0:
        raise UserError(f"reward_fit_steps must be >= 0, got {cfg.reward_fit_steps}")
    setup = off_policy_setup(cfg, env_id=env_id, demos=demos, seed=seed)
    learner, demo_buf = setup.learner, setup.demos
    buffer = None if cfg.offline else agent_buffer(setup, cfg, seed=seed)
    run = off_policy_run("iq-learn", cfg, setup, env_id=env_id, seed=seed, total_steps=total_steps, offline=cfg.offline, out=out,
                         eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
                         checkpoint_every=checkpoint_every, resume=resume)

    def update() -> dict[str, float]:
        expert = demo_buf.sample(cfg.batch_size)
        rows = expert if buffer is None else ReplayBatch.cat([expert, buffer.sample(cfg.batch_size)])
        if isinstance(learner, SoftQ):
            return learner.loss_step(lambda lrn: _discrete_loss(lrn, expert, rows, cfg))
        return learner.update(rows, critic_loss=lambda sac: _continuous_loss(sac, expert, rows, cfg))

    final, steps = off_policy_loop(run, env_id=env_id, learner=learner, buffer=buffer, demos=demo_buf, update=update,
                                   total_steps=total_steps, config=cfg, seed=seed, rng=setup.rng)
    policy, critic = policy_of(learner), critic_of(learner)
    reward = corr = None
    if cfg.reward_fit_steps:
        with run.timed():
            reward = fit_reward(learner, [demo_buf] if buffer is None else [demo_buf, buffer], cfg, setup.obs_space,
                                setup.act_space, setup.obs_mean, setup.obs_std)
        corr = reward_correlation(reward, env_id, demos if isinstance(demos, Demonstrations) else None, seed=seed)
        if run.log is not None:
            save_reward(reward, run.log.dir / "reward.pt", env_id=env_id, obs_space=setup.obs_space,
                        act_space=setup.act_space, env_kwargs=active_env_kwargs(env_id), gamma=cfg.gamma,
                        extra={"algo": "iq-learn", "seed": seed, "offline": cfg.offline})
    extra = {"algo": "iq-learn", "offline": cfg.offline, ("updates" if cfg.offline else "env_steps"): steps,
             **({"reward_correlation": corr} if corr is not None else {})}
    result = run.result(policy, final=final, extra=extra, critic=critic, critic_is_policy=critic is None)
    result.reward, result.reward_correlation = reward, corr
    return result

"""Adversarial Inverse Reinforcement Learning (Fu et al. 2018, arXiv:1710.11248).

GAIL's round (:func:`common.on_policy_loop`) with AIRL's discriminator: its logit is
``f(s, a, s') - log pi(a|s)``, ``f = g(s[, a]) + gamma h(s') - h(s)`` (``losses.airl_logit``), so
D = exp(f) / (exp(f) + pi(a|s)). The generator's reward is that logit (``log D - log(1 - D)``),
and what the run keeps besides the policy is g: the learned reward, written as ``reward.pt``.
With ``state_only`` (the default) g reads the state alone; that is the reward Fu et al. show to be
disentangled from the dynamics (h absorbs the shaping), the one to re-optimise under changed
dynamics (``imitlab train rl --reward``). Because the logit subtracts log pi(a|s), the expert's
inputs are made afresh every round with the current policy's log-probabilities of the expert's actions.

Terminations are treated as in GAIL: without absorbing states h(s') does not count after a true
termination; with them (``absorbing``) the episode goes on in an absorbing state whose g and h
are learned too, and whose reward ``g(absorbing)`` is saved with the reward.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import torch

from imitlab.algorithms.adversarial.common import (
    OnPolicySettings,
    RewardForm,
    check_reward_form,
    expert_inputs,
    on_policy_loop,
    on_policy_setup,
)
from imitlab.algorithms.adversarial.gail import GAILConfig
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.discriminator import AIRLDiscriminator
from imitlab.envs.vector import active_env_kwargs
from imitlab.errors import positive
from imitlab.losses import absorbing_tail
from imitlab.policies import Policy
from imitlab.rewards import save_reward
from imitlab.rewards.analysis import reward_correlation
from imitlab.training import TrainingRun, TrainResult


@dataclass(frozen=True)
class AIRLConfig(GAILConfig):
    """AIRL's hyperparameters: GAIL's (generator, discriminator, absorbing states) and the reward's form."""

    reward: RewardForm = "logit"
    """Reward read from the discriminator: "logit" (AIRL's, f - log pi: the entropy-regularised
    reward whose optimum is the expert), or GAIL's "positive" / "negative" forms of the same D."""
    state_only: bool = True
    """Learn a state-only reward g(s), the one that transfers to changed dynamics; else g(s, a)."""
    entropy_reward: bool = True
    """Train the generator on the whole logit f - log pi (the paper's entropy-regularised reward);
    off: on f alone, the generator's own entropy bonus (PPO's ent_coef) being the only one."""


@torch.no_grad()
def _log_probs(policy: Policy, trans: Transitions, chunk: int = 65_536) -> torch.Tensor:
    """The policy's log pi(a|s) at the expert's pairs, in chunks (no graph)."""
    obs = torch.as_tensor(trans.obs, dtype=torch.float32)
    acts = torch.as_tensor(trans.acts)
    return torch.cat([policy.log_prob(obs[i : i + chunk], acts[i : i + chunk]) for i in range(0, len(obs), chunk)])


def train_airl(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    total_steps: int,
    seed: int = 0,
    config: AIRLConfig = AIRLConfig(),
    init_policy: Policy | None = None,
    out: str | os.PathLike | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 50,
    progress: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a policy and learn a reward by AIRL for ``total_steps`` environment steps.

    Args are :func:`~imitlab.algorithms.adversarial.gail.train_gail`'s. A run directory gets
    ``reward.pt`` (the reward g, with the absorbing state's reward where ``config.absorbing``)
    beside ``policy.pt``; the result's ``reward`` attribute holds g.
    """
    cfg = config
    positive("total_steps", total_steps)
    check_reward_form(cfg.reward)
    setup = on_policy_setup(cfg, algo="AIRL", env_id=env_id, demos=demos, seed=seed, init_policy=init_policy)
    trans, obs_space, act_space, rng, mean, std = setup.expert
    gamma = setup.generator_config.gamma
    disc = AIRLDiscriminator(
        obs_space, act_space, gamma=gamma, hidden=cfg.disc_hidden, state_only=cfg.state_only, absorbing=cfg.absorbing,
        obs_mean=mean if cfg.disc_obs_norm else None, obs_std=std if cfg.disc_obs_norm else None,
    )
    disc_opt = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
    policy = setup.policy

    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "airl", "env_id": env_id, "seed": seed, "total_steps": total_steps,
                "n_transitions": len(trans), "init_policy": init_policy is not None, **asdict(cfg)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    final, env_steps = on_policy_loop(
        run, venv=setup.venv, policy=policy, generator=setup.generator, disc=disc, disc_opt=disc_opt,
        expert=lambda: expert_inputs(disc, trans, cfg.absorbing, logp=_log_probs(policy, trans)),
        settings=OnPolicySettings.of(cfg, setup.generator_config), total_steps=total_steps, seed=seed, rng=rng,
        reward_offset=None if cfg.entropy_reward else lambda batch: torch.from_numpy(batch.logp).float(),
    )
    setup.venv.close()
    absorbing_reward = disc.absorbing_reward() if cfg.absorbing else None
    disc.eval()
    corr = reward_correlation(disc.g, env_id, demos if isinstance(demos, Demonstrations) else None, seed=seed,
                              terminal_bonus=0.0 if absorbing_reward is None else absorbing_tail(absorbing_reward, gamma))
    extra = {"algo": "airl", "generator": cfg.generator, "env_steps": env_steps, "reward_correlation": corr}
    if run.log is not None:
        save_reward(disc.g, run.log.dir / "reward.pt", env_id=env_id, obs_space=obs_space, act_space=act_space,
                    env_kwargs=active_env_kwargs(env_id), absorbing_reward=absorbing_reward, gamma=gamma,
                    extra={"algo": "airl", "seed": seed, "state_only": cfg.state_only})
    result = run.result(policy, final=final, extra=extra)
    result.reward, result.reward_correlation = disc.g, corr
    return result

"""Generative Adversarial Imitation Learning (Ho & Ermon 2016, arXiv:1606.03476).

Each round: roll out the policy in vectorized envs; train the discriminator to tell expert
(s, a) pairs from the policy's; turn its logits into a reward (``losses.gail_reward`` documents
the forms and their bias); take a generator step (REINFORCE, PPO or TRPO) on that reward.
The environment's own reward is never used. The round is :func:`common.on_policy_loop`.

Absorbing states (Kostrikov et al. 2019, DAC), for tasks whose episodes end at a goal: after a
true termination the agent is taken to sit in an absorbing state forever, whose reward the
discriminator also learns (it sees the absorbing state after each terminated expert episode and
after each policy termination). The infinite tail ``gamma / (1 - gamma) * r_absorbing`` is added
to the terminal transition's reward, which is exactly the return of that tail
(``losses.absorbing_tail``). Subsampled demonstrations keep one absorbing pair per terminated
expert episode, weighted by the subsampling rate (:func:`common.expert_inputs` says why).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch

from imitlab.algorithms.adversarial.common import (
    OnPolicySettings,
    RewardForm,
    check_reward_form,
    expert_inputs,
    on_policy_loop,
    on_policy_setup,
)
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.discriminator import Discriminator
from imitlab.errors import positive
from imitlab.policies import Policy, PolicySpec
from imitlab.rl import PPOConfig, ReinforceConfig, TRPOConfig
from imitlab.training import TrainingRun, TrainResult


@dataclass(frozen=True)
class GAILConfig:
    """GAIL's hyperparameters: the generator, the discriminator, and the reward read from it."""

    generator: Literal["reinforce", "ppo", "trpo"] = "ppo"
    """Policy optimiser that learns from the discriminator's reward: REINFORCE with a baseline, PPO or TRPO."""
    ppo: PPOConfig = field(default_factory=PPOConfig)
    """PPO's settings (with generator "ppo"); its num_envs x num_steps is the rollout per round."""
    trpo: TRPOConfig = field(default_factory=TRPOConfig)
    """TRPO's settings (with generator "trpo")."""
    reinforce: ReinforceConfig = field(default_factory=ReinforceConfig)
    """REINFORCE's settings (with generator "reinforce")."""
    policy: PolicySpec = field(default_factory=PolicySpec)
    """The policy network (unused when training starts from an initial policy)."""
    reward: RewardForm = "positive"
    """Reward read from the discriminator: "positive" -log(1 - D), a survival bonus (agents prolong
    episodes); "negative" log D, a per-step cost (agents end them early); "logit", unbiased in sign."""
    normalize_reward: bool = False
    """Divide rewards by their running root-mean-square (keeps their sign)."""
    absorbing: bool = False
    """Absorbing-state rewards after true terminations (DAC), for tasks whose episodes end at a goal."""
    disc_lr: float = 3e-4
    """Adam learning rate of the discriminator."""
    disc_epochs: int = 1
    """Discriminator passes over each policy batch per round."""
    disc_minibatch_size: int = 256
    """Policy pairs per discriminator step, each step against as many expert pairs."""
    disc_hidden: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the discriminator."""
    disc_grad_penalty: float = 0.0
    """Weight of the discriminator's gradient penalty at expert-policy interpolates (0: none)."""
    disc_entropy_bonus: float = 0.0
    """Weight of the discriminator's entropy bonus, against over-confidence (0: none)."""
    disc_obs_norm: bool = True
    """Normalise the discriminator's observations with the expert data's statistics."""

    def generator_config(self) -> PPOConfig | TRPOConfig | ReinforceConfig:
        """The settings of the chosen generator."""
        configs: dict[str, PPOConfig | TRPOConfig | ReinforceConfig] = {
            "ppo": self.ppo, "trpo": self.trpo, "reinforce": self.reinforce,
        }
        return configs[self.generator]


def train_gail(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    total_steps: int,
    seed: int = 0,
    config: GAILConfig = GAILConfig(),
    init_policy: Policy | None = None,
    out: str | os.PathLike | None = None,
    eval_every: int = 10_000,
    eval_episodes: int = 50,
    progress: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a policy by GAIL for ``total_steps`` environment steps.

    Args:
        env_id: the gymnasium env (checked against the demos).
        demos: expert demonstrations, or transitions subsampled from them.
        total_steps: the environment-step budget.
        seed: seeds networks, sampling and env resets.
        config: hyperparameters (generator, discriminator, reward form).
        init_policy: start the generator from this policy (e.g. a BC run's) instead of a random one.
        out: a run directory to write, or None.
        eval_every: evaluate every this many env steps (0: only at the end).
        eval_episodes: episodes per evaluation.
        progress: show a progress bar.
        checkpoint_every: env steps between checkpoints of a run directory (default: ``eval_every``;
            0: none): the policy and generator, the discriminator and its optimizer, the reward
            normaliser and the RNGs.
        resume: continue the run in ``out`` from its checkpoint (same settings; ``total_steps`` may grow).
    """
    cfg = config
    positive("total_steps", total_steps)
    check_reward_form(cfg.reward)
    setup = on_policy_setup(cfg, algo="GAIL", env_id=env_id, demos=demos, seed=seed, init_policy=init_policy)
    trans, obs_space, act_space, rng, mean, std = setup.expert
    disc = Discriminator(
        obs_space, act_space, hidden=cfg.disc_hidden, absorbing=cfg.absorbing,
        obs_mean=mean if cfg.disc_obs_norm else None, obs_std=std if cfg.disc_obs_norm else None,
    )
    disc_opt = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
    expert = expert_inputs(disc, trans, cfg.absorbing)

    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "gail", "env_id": env_id, "seed": seed, "total_steps": total_steps,
                "n_transitions": len(trans), "init_policy": init_policy is not None, **asdict(cfg)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    final, env_steps = on_policy_loop(
        run, venv=setup.venv, policy=setup.policy, generator=setup.generator, disc=disc, disc_opt=disc_opt,
        expert=lambda: expert, settings=OnPolicySettings.of(cfg, setup.generator_config), total_steps=total_steps,
        seed=seed, rng=rng,
    )
    setup.venv.close()
    return run.result(setup.policy, final=final,
                      extra={"algo": "gail", "generator": cfg.generator, "env_steps": env_steps})

"""Offline GAIL: adversarial imitation without environment interaction.

The policy proposes actions for *expert states*, the discriminator learns to tell them from the
expert's actions there, and the policy follows the discriminator's score by policy gradient:
exactly, as the expectation over every action, for discrete actions; by the pathwise
(reparameterised) gradient through the score for continuous ones.

What it can and cannot do: it only ever sees the states in the demonstrations, so it learns the
same state -> action map as behavioral cloning, through a learned loss instead of a likelihood.
It cannot learn to recover from states the expert never visited (online GAIL and DAgger can), so
its ceiling is BC's, and it takes longer to get there; ``benchmarks/gail_family.py`` shows both.
On continuous actions the adversarial signal is weak: on Pendulum-v1 it halves BC-free action
error in 2,000 iterations but does not reach a working swing-up where BC does.
Its use is where BC's likelihood is the wrong loss (multi-modal experts) or as a study of the
adversarial signal alone.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import torch

from imitlab.algorithms.adversarial.common import (
    RewardForm,
    check_reward_form,
    discriminator_step,
    expert_setup,
)
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.discriminator import Discriminator, DiscriminatorBatch
from imitlab.errors import positive
from imitlab.losses import gail_reward
from imitlab.policies import CategoricalPolicy, GaussianPolicy, PolicySpec
from imitlab.training import TrainingRun, TrainResult


@dataclass(frozen=True)
class OfflineGAILConfig:
    """Offline GAIL's hyperparameters."""

    iterations: int = 1000
    """Policy updates: the training budget."""
    batch_size: int = 256
    """Expert states per iteration."""
    policy_lr: float = 3e-4
    """Adam learning rate of the policy."""
    disc_lr: float = 3e-4
    """Adam learning rate of the discriminator."""
    disc_steps: int = 1
    """Discriminator steps per policy step."""
    reward: RewardForm = "logit"
    """Score read from the discriminator ("positive", "negative" or "logit", as GAIL's reward);
    there are no episodes here, so no survival bias: the logit is the natural score."""
    ent_coef: float = 0.0
    """Weight of the policy's entropy bonus."""
    policy: PolicySpec = field(default_factory=PolicySpec)
    """The policy network."""
    disc_hidden: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the discriminator."""


# PolicySpec.build gives one of the two kinds; the policy gradients below need to know which.
_KINDS = "offline GAIL trains a CategoricalPolicy (discrete actions) or a GaussianPolicy (continuous ones)"


def train_gail_offline(
    *,
    env_id: str,
    demos: Demonstrations | Transitions,
    seed: int = 0,
    config: OfflineGAILConfig = OfflineGAILConfig(),
    out: str | os.PathLike | None = None,
    eval_every: int = 250,
    eval_episodes: int = 50,
    progress: bool = False,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a policy by offline GAIL on ``demos``; the env is used only for evaluation.

    Args:
        eval_every: iterations between evaluations (0: only at the end).
        checkpoint_every: iterations between checkpoints of a run directory (default:
            ``eval_every``; 0: none): the policy, the discriminator, both optimizers and the RNGs.
        resume: continue the run in ``out`` from its checkpoint (same settings; ``iterations`` may grow).
    """
    cfg = config
    positive("iterations", cfg.iterations)
    positive("batch_size", cfg.batch_size)
    check_reward_form(cfg.reward)
    trans, obs_space, act_space, rng, mean, std = expert_setup(env_id, demos, seed)
    policy = cfg.policy.build(obs_space, act_space)
    policy.set_obs_normalization(mean, std)
    disc = Discriminator(obs_space, act_space, obs_mean=mean, obs_std=std, hidden=cfg.disc_hidden)
    pol_opt = torch.optim.Adam(policy.parameters(), lr=cfg.policy_lr)
    disc_opt = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
    obs_all = torch.as_tensor(trans.obs, dtype=torch.float32)
    acts_all = torch.as_tensor(trans.acts)
    gen = torch.Generator().manual_seed(seed)

    def logits(obs: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
        return disc.logits(disc.inputs(DiscriminatorBatch(obs, acts)))

    run = TrainingRun(
        env_id=env_id, seed=seed, total=cfg.iterations, unit="iter", out=out,
        config={"algo": "gail-offline", "env_id": env_id, "seed": seed, "n_transitions": len(trans), **asdict(cfg)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
        checkpoint_every=checkpoint_every, resume=resume, budget_key="iterations",
    )
    state = run.restored()
    if state is not None:
        for module, key in ((policy, "policy"), (disc, "disc"), (pol_opt, "pol_opt"), (disc_opt, "disc_opt")):
            module.load_state_dict(state[key])
        rng.bit_generator.state = state["rng"]
        gen.set_state(state["torch_gen"])
    final = None
    for it in range(run.resumed_step + 1, cfg.iterations + 1):
        with run.timed():
            idx = torch.from_numpy(rng.integers(len(trans), size=cfg.batch_size))
            obs, expert_acts = obs_all[idx], acts_all[idx]
            expert_x = disc.inputs(DiscriminatorBatch(obs, expert_acts))
            for _ in range(cfg.disc_steps):
                policy_acts, _ = policy.sample(obs, gen)
                d_loss = discriminator_step(disc, disc_opt, expert_x, disc.inputs(DiscriminatorBatch(obs, policy_acts)))

            if policy.discrete:
                assert isinstance(policy, CategoricalPolicy), _KINDS
                # Exact policy gradient: E_{a~pi}[r(s, a)] summed over the whole action set.
                with torch.no_grad():
                    all_acts = torch.arange(policy.n).repeat(len(obs))
                    r = gail_reward(logits(obs.repeat_interleave(policy.n, 0), all_acts), cfg.reward).reshape(len(obs), policy.n)
                logp_all = torch.log_softmax(policy.logits(obs), -1)
                probs = logp_all.exp()
                entropy = -(probs * logp_all).sum(-1)
                loss = -(probs * r).sum(-1).mean() - cfg.ent_coef * entropy.mean()
            else:
                assert isinstance(policy, GaussianPolicy), _KINDS
                # Pathwise (reparameterised) policy gradient through the discriminator's score: far
                # lower variance than the likelihood ratio, which barely moves a continuous policy here.
                policy_acts, logp = policy.rsample(obs, gen)
                r = gail_reward(logits(obs, policy_acts), cfg.reward)
                entropy = -logp
                loss = -r.mean() - cfg.ent_coef * entropy.mean()
            pol_opt.zero_grad(set_to_none=True)
            loss.backward()
            pol_opt.step()
        # Log every 50 iterations: reading the tensors back each step would cost more than the step.
        if it % 50 == 0 or it == cfg.iterations:
            stats = {"disc_loss": float(d_loss), "policy_loss": float(loss.detach()), "mean_reward": float(r.detach().mean())}
            run.advance(it - run.bar.n, stats, step=it)
        if run.evaluation_due(it) or it == cfg.iterations:
            final = run.evaluate(policy, env_steps=0, epoch=it)
        if run.checkpoint_due(it, last=it == cfg.iterations):
            run.save_checkpoint(it, {"policy": policy.state_dict(), "disc": disc.state_dict(), "pol_opt": pol_opt.state_dict(),
                                     "disc_opt": disc_opt.state_dict(), "rng": rng.bit_generator.state,
                                     "torch_gen": gen.get_state()})
    return run.result(policy, final=final, extra={"algo": "gail-offline", "iterations": cfg.iterations})

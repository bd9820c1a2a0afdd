"""Generative Adversarial Imitation Learning (Ho & Ermon 2016, arXiv:1606.03476).

Each round: roll out the policy in vectorized envs; train the discriminator to tell expert
(s, a) pairs from the policy's; turn its logits into a reward (``losses.gail_reward`` documents
the forms and their bias); take a generator step (REINFORCE, PPO or TRPO) on that reward.
The environment's own reward is never used.

Absorbing states (Kostrikov et al. 2019, DAC), for tasks whose episodes end at a goal: after a
true termination the agent is taken to sit in an absorbing state forever, whose reward the
discriminator also learns (it sees the absorbing state after each terminated expert episode and
after each policy termination). The infinite tail ``gamma / (1 - gamma) * r_absorbing`` is added
to the terminal transition's reward, which is exactly the return of that tail
(``losses.absorbing_tail``). Subsampled demonstrations keep one absorbing pair per terminated
expert episode, weighted by the subsampling rate (:func:`expert_inputs` says why).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from imitlab.algorithms._inputs import check_init_policy, expert_transitions, obs_stats
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.discriminator import Discriminator
from imitlab.envs.vector import make_vec_env
from imitlab.errors import UserError, positive
from imitlab.losses import (
    REWARD_FORMS,
    absorbing_tail,
    bernoulli_entropy,
    discriminator_loss,
    gail_reward,
    gradient_penalty,
)
from imitlab.policies import Policy, PolicySpec
from imitlab.rl import (
    GENERATORS,
    PPOConfig,
    ReinforceConfig,
    TRPOConfig,
    make_generator,
)
from imitlab.sampling import RolloutSampler
from imitlab.training import TrainingRun, TrainResult
from imitlab.utils import seed_everything


@dataclass(frozen=True)
class GAILConfig:
    generator: str = "ppo"
    ppo: PPOConfig = field(default_factory=PPOConfig)
    trpo: TRPOConfig = field(default_factory=TRPOConfig)
    reinforce: ReinforceConfig = field(default_factory=ReinforceConfig)
    policy: PolicySpec = field(default_factory=PolicySpec)
    reward: str = "positive"
    normalize_reward: bool = False  # divide rewards by their running std (keeps their sign)
    absorbing: bool = False
    disc_lr: float = 3e-4
    disc_epochs: int = 1  # passes over each policy batch per round
    disc_minibatch_size: int = 256
    disc_hidden: tuple[int, ...] = (64, 64)
    disc_grad_penalty: float = 0.0
    disc_entropy_bonus: float = 0.0
    disc_obs_norm: bool = True  # normalise the discriminator's observations with expert statistics

    def generator_config(self):
        return {"ppo": self.ppo, "trpo": self.trpo, "reinforce": self.reinforce}[self.generator]


def terminal_weights(trans: Transitions) -> np.ndarray:
    """One weight per terminated expert episode behind ``trans``: the probability that subsampling
    kept its last step (1 each when nothing was subsampled, where ``dones`` marks them all)."""
    if trans.terminated_episode_weights is not None:
        return np.asarray(trans.terminated_episode_weights, np.float64)
    return np.ones(int(trans.dones.sum()))


def expert_inputs(disc: Discriminator, trans: Transitions, absorbing: bool) -> tuple[torch.Tensor, np.ndarray | None]:
    """The discriminator's expert inputs, and the probability of drawing each (None: uniform).

    With ``absorbing``, one absorbing pair per terminated expert episode is appended, as DAC adds
    one absorbing transition per terminated expert trajectory, whether or not subsampling kept the
    episode's last step (keeping it only then left no absorbing pair at all in ~60% of draws of 10
    Acrobot demos subsampled every 20: D then saw absorbing pairs only from the policy and the
    goal was punished). Each is weighted by the probability that its last step would have been
    kept (1/every, or pairs / transitions), not kept whole: the policy's batch is never
    subsampled, so its absorbing pairs are 1 in ~T of its pairs, and a whole absorbing pair among
    expert pairs kept 1 in 20 would make the absorbing state 20 times likelier on the expert side
    than in the expert's own data; D would then rate it too expert-like and, through the
    ``gamma / (1 - gamma)`` tail, pay for any termination (a crash too). Weighted, its expected
    share is what keeping it with its last step gave, without that all-or-nothing variance.
    """
    x = disc.encode(torch.as_tensor(trans.obs, dtype=torch.float32), torch.as_tensor(trans.acts))
    weights = terminal_weights(trans) if absorbing else np.zeros(0)
    if not len(weights):
        return x, None
    x = torch.cat([x, disc.absorbing_input(len(weights))])
    if (weights == 1.0).all():
        return x, None
    p = np.concatenate([np.ones(len(trans)), weights])
    return x, p / p.sum()


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
    if cfg.reward not in REWARD_FORMS:
        raise UserError(f"unknown reward form {cfg.reward!r}; choose one of {', '.join(REWARD_FORMS)}")
    if cfg.generator not in GENERATORS:
        raise UserError(f"unknown generator {cfg.generator!r}; choose one of {', '.join(GENERATORS)}")
    gen_cfg = cfg.generator_config()
    if getattr(gen_cfg, "normalize_obs", False) or getattr(gen_cfg, "normalize_reward", False):
        raise UserError("the generator's normalize_obs / normalize_reward are for expert training; GAIL normalises "
                        "observations from the demonstrations and has its own GAILConfig.normalize_reward")
    trans, obs_space, act_space = expert_transitions(env_id, demos)
    rng = seed_everything(seed)
    venv = make_vec_env(env_id, gen_cfg.num_envs)
    mean, std = obs_stats(trans.obs)
    if init_policy is not None:
        check_init_policy(init_policy, env_id, obs_space, act_space)
        policy = init_policy
    else:
        policy = cfg.policy.build(obs_space, act_space)
        policy.set_obs_normalization(mean, std)
    generator = make_generator(cfg.generator, policy, gen_cfg, seed=seed)
    disc = Discriminator(
        obs_space, act_space, hidden=cfg.disc_hidden, absorbing=cfg.absorbing,
        obs_mean=mean if cfg.disc_obs_norm else None, obs_std=std if cfg.disc_obs_norm else None,
    )
    disc_opt = torch.optim.Adam(disc.parameters(), lr=cfg.disc_lr)
    expert_x, expert_p = expert_inputs(disc, trans, cfg.absorbing)
    sampler = RolloutSampler(venv, gen_cfg.num_steps, seed=seed)
    torch_gen = torch.Generator().manual_seed(seed)
    reward_sq_mean, reward_count = 0.0, 0

    run = TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="step", out=out,
        config={"algo": "gail", "env_id": env_id, "seed": seed, "total_steps": total_steps,
                "n_transitions": len(trans), "init_policy": init_policy is not None, **asdict(cfg)},
        eval_every=eval_every, eval_episodes=eval_episodes, progress=progress,
        checkpoint_every=checkpoint_every, resume=resume,
    )
    state = run.restored()
    if state is not None:
        policy.load_state_dict(state["policy"])
        generator.load_state_dict(state["generator"])
        disc.load_state_dict(state["disc"])
        disc_opt.load_state_dict(state["disc_opt"])
        rng.bit_generator.state = state["rng"]
        torch_gen.set_state(state["torch_gen"])
        reward_sq_mean, reward_count = float(state["reward_sq_mean"]), int(state["reward_count"])
        # A resumed run starts new episodes (the envs are not saved), seeded from the run's step.
        sampler = RolloutSampler(venv, gen_cfg.num_steps, seed=seed + run.resumed_step)
        sampler.generator.set_state(state["gen"])
        sampler.total_steps = run.resumed_step
    final = None
    while sampler.total_steps < total_steps:
        with run.timed():
            generator.set_progress(sampler.total_steps / total_steps)
            batch = sampler.collect(policy)
            policy_x = disc.encode(torch.from_numpy(batch.flat("obs")), torch.from_numpy(batch.flat("acts")))
            n_terminal = int(batch.terminated.sum())
            if cfg.absorbing and n_terminal:
                policy_x_d = torch.cat([policy_x, disc.absorbing_input(n_terminal)])
            else:
                policy_x_d = policy_x

            # Discriminator: passes over the policy batch, each minibatch against as many expert pairs.
            n, mb = len(policy_x_d), cfg.disc_minibatch_size
            for _ in range(cfg.disc_epochs):
                perm = torch.from_numpy(rng.permutation(n))
                for start in range(0, n, mb):
                    p_x = policy_x_d[perm[start : start + mb]]
                    if expert_p is None:
                        e_idx = rng.integers(len(expert_x), size=len(p_x))
                    else:
                        e_idx = rng.choice(len(expert_x), size=len(p_x), p=expert_p)
                    e_x = expert_x[torch.from_numpy(e_idx)]
                    e_logits, p_logits = disc.logits(e_x), disc.logits(p_x)
                    d_loss = discriminator_loss(e_logits, p_logits)
                    if cfg.disc_entropy_bonus:
                        d_loss = d_loss - cfg.disc_entropy_bonus * bernoulli_entropy(torch.cat([e_logits, p_logits]))
                    if cfg.disc_grad_penalty:
                        d_loss = d_loss + cfg.disc_grad_penalty * gradient_penalty(disc.logits, e_x, p_x, torch_gen)
                    disc_opt.zero_grad(set_to_none=True)
                    d_loss.backward()
                    disc_opt.step()

            with torch.no_grad():
                p_logits = disc.logits(policy_x)
                e_logits = disc.logits(expert_x)
                rewards = gail_reward(p_logits, cfg.reward).numpy().reshape(batch.rews.shape).astype(np.float64)
                r_abs = float(gail_reward(disc.logits(disc.absorbing_input(1)), cfg.reward)) if cfg.absorbing else 0.0
            if cfg.normalize_reward:
                # Running root-mean-square of the rewards: scales them without moving their sign.
                reward_count += rewards.size
                reward_sq_mean += (float(np.square(rewards).mean()) - reward_sq_mean) * rewards.size / reward_count
                scale = 1.0 / (np.sqrt(reward_sq_mean) + 1e-8)
                rewards, r_abs = rewards * scale, r_abs * scale
            if cfg.absorbing:
                rewards = rewards + batch.terminated * absorbing_tail(r_abs, gen_cfg.gamma)
            stats = generator.update(batch, rewards.astype(np.float32))

        e_w = None if expert_p is None else torch.from_numpy(expert_p).float()  # as the expert pairs are drawn
        stats.update(
            disc_loss=float(d_loss.detach()),
            disc_expert_acc=_mean((e_logits > 0).float(), e_w),
            disc_policy_acc=float((p_logits < 0).float().mean()),
            disc_expert_logit=_mean(e_logits, e_w),
            disc_policy_logit=float(p_logits.mean()),
            mean_reward=float(rewards.mean()),
        )
        if cfg.absorbing:
            stats["absorbing_reward"] = r_abs
        if len(batch.episode_lengths):
            stats["episode_length"] = float(batch.episode_lengths.mean())
        run.advance(batch.num_steps, stats, step=sampler.total_steps)
        done = sampler.total_steps >= total_steps
        if run.evaluation_due(sampler.total_steps) or done:
            final = run.evaluate(policy, env_steps=sampler.total_steps)
        if run.checkpoint_due(sampler.total_steps, last=done):
            run.save_checkpoint(sampler.total_steps, {
                "policy": policy.state_dict(), "generator": generator.state_dict(), "disc": disc.state_dict(),
                "disc_opt": disc_opt.state_dict(), "rng": rng.bit_generator.state, "torch_gen": torch_gen.get_state(),
                "gen": sampler.generator.get_state(), "reward_sq_mean": reward_sq_mean, "reward_count": reward_count,
            })
    venv.close()
    return run.result(policy, final=final, extra={"algo": "gail", "generator": cfg.generator, "env_steps": sampler.total_steps})


def _mean(x: torch.Tensor, p: torch.Tensor | None) -> float:
    return float(x.mean()) if p is None else float((x * p).sum())

"""The adversarial core that GAIL, offline GAIL, AIRL and DAC share.

- The discriminator's training: :func:`discriminator_step` (one gradient step on expert against
  policy inputs, with the optional entropy bonus and gradient penalty) and
  :func:`discriminator_round` (passes over an on-policy batch in minibatches, each against as
  many expert inputs, drawn with :func:`expert_inputs`' weights where subsampling weighted them).
- The reward read from the logits (``losses.gail_reward`` documents the forms and their bias):
  :func:`imitation_rewards` for an on-policy batch, :func:`replay_reward_fn` for a replay batch
  relabelled at sampling time (DAC); :class:`RewardScaler` (running RMS, sign kept); the
  absorbing state's reward and its discounted tail (:func:`absorbing_reward`, :func:`add_absorbing_tail`).
- :func:`discriminator_health`: expert / policy accuracy and mean logits, logged each round.
- :func:`on_policy_loop`: the on-policy round (roll out, train the discriminator, reward, generator
  step) with its logging, evaluation and checkpoints, which GAIL and AIRL share.

Everything here works through the :class:`~imitlab.discriminator.AdversarialDiscriminator`
interface, on batches of :class:`~imitlab.discriminator.DiscriminatorBatch`, so a discriminator that reads
more than (s, a) (AIRL's f(s, a, s') - log pi(a|s)) takes GAIL's place without changes here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import torch

from imitlab.algorithms._inputs import check_init_policy, expert_transitions, obs_stats
from imitlab.data.demos import Demonstrations, Transitions
from imitlab.discriminator import AdversarialDiscriminator, DiscriminatorBatch
from imitlab.envs.vector import make_vec_env
from imitlab.errors import UserError
from imitlab.losses import REWARD_FORMS, absorbing_tail, bernoulli_entropy, discriminator_loss, gail_reward, gradient_penalty
from imitlab.rl import GENERATORS, make_generator
from imitlab.sampling import Batch, RolloutSampler
from imitlab.utils import seed_everything

if TYPE_CHECKING:
    import gymnasium as gym

    from imitlab.envs.vector import VecEnv
    from imitlab.evaluation import EvalResult
    from imitlab.policies import Policy
    from imitlab.rl.replay import ReplayBatch
    from imitlab.training import TrainingRun

RewardForm = Literal["positive", "negative", "logit"]
"""How a discriminator's logit becomes a reward (``losses.gail_reward``)."""


def check_reward_form(form: str) -> None:
    """A UserError naming the choices where ``form`` is not a reward form."""
    if form not in REWARD_FORMS:
        raise UserError(f"unknown reward form {form!r}; choose one of {', '.join(REWARD_FORMS)}")


class ExpertSetup(NamedTuple):
    """What every adversarial algorithm starts from (:func:`expert_setup`)."""

    trans: Transitions
    obs_space: gym.Space
    act_space: gym.Space
    rng: np.random.Generator
    obs_mean: np.ndarray
    obs_std: np.ndarray


def expert_setup(env_id: str, demos: Demonstrations | Transitions, seed: int) -> ExpertSetup:
    """The demonstrations checked against ``env_id`` as transitions, its spaces, the run's numpy
    Generator (every RNG seeded by ``seed``), and the expert observations' mean and std, which
    normalise the policy's and the discriminator's inputs."""
    trans, obs_space, act_space = expert_transitions(env_id, demos)
    rng = seed_everything(seed)
    return ExpertSetup(trans, obs_space, act_space, rng, *obs_stats(trans.obs))


# --- what the discriminator reads --------------------------------------------------------------


def rollout_pairs(batch: Batch) -> DiscriminatorBatch:
    """An on-policy batch's transitions, flattened over its [T, N] axes (views, not copies)."""
    return DiscriminatorBatch(
        obs=torch.from_numpy(batch.flat("obs")), acts=torch.from_numpy(batch.flat("acts")),
        next_obs=torch.from_numpy(batch.flat("next_obs")), terminated=torch.from_numpy(batch.flat("terminated")),
        logp=torch.from_numpy(batch.flat("logp")),
    )


def transition_pairs(trans: Transitions, logp: torch.Tensor | None = None) -> DiscriminatorBatch:
    """Expert transitions (``logp``: the current policy's log pi(a|s) at them, for AIRL)."""
    return DiscriminatorBatch(
        obs=torch.as_tensor(trans.obs, dtype=torch.float32), acts=torch.as_tensor(trans.acts),
        next_obs=torch.as_tensor(trans.next_obs, dtype=torch.float32), terminated=torch.as_tensor(trans.dones),
        logp=logp,
    )


def replay_pairs(batch: ReplayBatch) -> DiscriminatorBatch:
    """A replay minibatch's transitions (DAC: the discriminator scores them when they are sampled)."""
    return DiscriminatorBatch(obs=batch.obs, acts=batch.acts, next_obs=batch.next_obs, terminated=batch.terminated)


class ExpertInputs(NamedTuple):
    """The discriminator's expert input rows, and the probability of drawing each (None: uniform)."""

    x: torch.Tensor
    p: np.ndarray | None


def terminal_weights(trans: Transitions) -> np.ndarray:
    """One weight per terminated expert episode behind ``trans``: the probability that subsampling
    kept its last step (1 each when nothing was subsampled, where ``dones`` marks them all)."""
    if trans.terminated_episode_weights is not None:
        return np.asarray(trans.terminated_episode_weights, np.float64)
    return np.ones(int(trans.dones.sum()))


def expert_inputs(
    disc: AdversarialDiscriminator, trans: Transitions, absorbing: bool, logp: torch.Tensor | None = None
) -> ExpertInputs:
    """The discriminator's expert inputs, and the probability of drawing each (None: uniform).

    ``logp`` is the current policy's log pi(a|s) at the expert pairs, for a discriminator that
    reads it (AIRL's, whose expert inputs are therefore made afresh each round).

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
    x = disc.inputs(transition_pairs(trans, logp))
    weights = terminal_weights(trans) if absorbing else np.zeros(0)
    if not len(weights):
        return ExpertInputs(x, None)
    x = torch.cat([x, disc.absorbing_input(len(weights))])
    if (weights == 1.0).all():
        return ExpertInputs(x, None)
    p = np.concatenate([np.ones(len(trans)), weights])
    return ExpertInputs(x, p / p.sum())


def with_absorbing_rows(disc: AdversarialDiscriminator, x: torch.Tensor, n: int) -> torch.Tensor:
    """``x`` and ``n`` absorbing rows after it (one per policy termination, for the discriminator to learn)."""
    return torch.cat([x, disc.absorbing_input(n)]) if n else x


def draw_expert(expert: ExpertInputs, size: int, rng: np.random.Generator) -> torch.Tensor:
    """``size`` expert input rows drawn with replacement, with the expert's probabilities."""
    n = len(expert.x)
    idx = rng.integers(n, size=size) if expert.p is None else rng.choice(n, size=size, p=expert.p)
    return expert.x[torch.from_numpy(idx)]


# --- the discriminator's training ----------------------------------------------------------------


def discriminator_step(
    disc: AdversarialDiscriminator,
    optimizer: torch.optim.Optimizer,
    expert_x: torch.Tensor,
    policy_x: torch.Tensor,
    *,
    entropy_bonus: float = 0.0,
    grad_penalty: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One gradient step on the discriminator's loss for expert rows against policy rows; returns
    the loss (detached). ``entropy_bonus`` rewards uncertain logits (over both sides);
    ``grad_penalty`` weighs ``losses.gradient_penalty`` at interpolates drawn with ``generator``."""
    e_logits, p_logits = disc.logits(expert_x), disc.logits(policy_x)
    loss = discriminator_loss(e_logits, p_logits)
    if entropy_bonus:
        loss = loss - entropy_bonus * bernoulli_entropy(torch.cat([e_logits, p_logits]))
    if grad_penalty:
        loss = loss + grad_penalty * gradient_penalty(disc.logits, expert_x, policy_x, generator)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def discriminator_round(
    disc: AdversarialDiscriminator,
    optimizer: torch.optim.Optimizer,
    policy_x: torch.Tensor,
    expert: ExpertInputs,
    rng: np.random.Generator,
    *,
    epochs: int,
    minibatch_size: int,
    entropy_bonus: float = 0.0,
    grad_penalty: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``epochs`` passes over the policy rows in shuffled minibatches, each against as many expert
    rows drawn by :func:`draw_expert`; returns the last step's loss."""
    n = len(policy_x)
    loss = torch.zeros(())
    for _ in range(epochs):
        perm = torch.from_numpy(rng.permutation(n))
        for start in range(0, n, minibatch_size):
            p_x = policy_x[perm[start : start + minibatch_size]]
            e_x = draw_expert(expert, len(p_x), rng)
            loss = discriminator_step(disc, optimizer, e_x, p_x, entropy_bonus=entropy_bonus,
                                      grad_penalty=grad_penalty, generator=generator)
    return loss


def discriminator_health(expert_logits: torch.Tensor, policy_logits: torch.Tensor, expert_p: np.ndarray | None = None) -> dict[str, float]:
    """How well the discriminator tells the two apart: the fraction of each side it classifies
    right, and the mean logits. Expert means are weighted by ``expert_p``, as the expert rows are drawn."""
    w = None if expert_p is None else torch.from_numpy(expert_p).float()
    return {
        "disc_expert_acc": _mean((expert_logits > 0).float(), w),
        "disc_policy_acc": float((policy_logits < 0).float().mean()),
        "disc_expert_logit": _mean(expert_logits, w),
        "disc_policy_logit": float(policy_logits.mean()),
    }


def _mean(x: torch.Tensor, p: torch.Tensor | None) -> float:
    return float(x.mean()) if p is None else float((x * p).sum())


# --- rewards -------------------------------------------------------------------------------------


class RewardScaler:
    """Divides rewards by their running root-mean-square: scales them without moving their sign
    (a running std would centre them, and a centred survival bonus is no longer a bonus)."""

    def __init__(self) -> None:
        self.sq_mean = 0.0
        self.count = 0

    def update(self, rewards: np.ndarray) -> float:
        """Fold ``rewards`` into the running mean square; return the scale to multiply by."""
        self.count += rewards.size
        self.sq_mean += (float(np.square(rewards).mean()) - self.sq_mean) * rewards.size / self.count
        return 1.0 / (np.sqrt(self.sq_mean) + 1e-8)

    def state_dict(self) -> dict[str, Any]:
        """The running statistics (under the keys GAIL's checkpoints have always used)."""
        return {"reward_sq_mean": self.sq_mean, "reward_count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sq_mean, self.count = float(state["reward_sq_mean"]), int(state["reward_count"])


def absorbing_reward(disc: AdversarialDiscriminator, form: str) -> float:
    """The reward of a step in the absorbing state that follows a true termination."""
    with torch.no_grad():
        return float(gail_reward(disc.logits(disc.absorbing_input(1)), form))


def imitation_rewards(
    disc: AdversarialDiscriminator, logits: torch.Tensor, form: str, *, absorbing: bool, scaler: RewardScaler | None = None
) -> tuple[np.ndarray, float]:
    """The rewards (float64, shaped as ``logits``) read from the policy pairs' ``logits``, and the
    absorbing state's reward (0 without ``absorbing``), both scaled by ``scaler`` after it has
    seen these rewards (None: unscaled)."""
    with torch.no_grad():
        rewards = gail_reward(logits, form).numpy().astype(np.float64)
    r_abs = absorbing_reward(disc, form) if absorbing else 0.0
    if scaler is not None:
        scale = scaler.update(rewards)
        rewards, r_abs = rewards * scale, r_abs * scale
    return rewards, r_abs


def add_absorbing_tail(rewards: np.ndarray | torch.Tensor, terminated, r_absorbing: float, gamma: float):
    """``rewards`` plus, at true terminations, the discounted return of the absorbing state forever
    after (``losses.absorbing_tail``), so that a return that stops there counts it."""
    return rewards + terminated * absorbing_tail(r_absorbing, gamma)


def replay_reward_fn(
    disc: AdversarialDiscriminator, form: str, *, absorbing: bool, gamma: float
) -> Callable[[ReplayBatch], torch.Tensor]:
    """The rewards [B] float32 of a replay minibatch, read from the current discriminator when it
    is sampled (DAC; for ``ReplayBuffer.sample(n, reward_fn=...)``), with the absorbing tail at
    true terminations where ``absorbing``."""

    def reward_fn(batch: ReplayBatch) -> torch.Tensor:
        with torch.no_grad():
            rewards = gail_reward(disc.logits(disc.inputs(replay_pairs(batch))), form)
        if absorbing:
            rewards = add_absorbing_tail(rewards, batch.terminated, absorbing_reward(disc, form), gamma)
        return rewards.float()

    return reward_fn


# --- the on-policy round ---------------------------------------------------------------------------


class OnPolicySetup(NamedTuple):
    """An on-policy adversarial run's pieces before its discriminator (:func:`on_policy_setup`)."""

    expert: ExpertSetup
    venv: VecEnv
    policy: Policy
    generator: Any
    """The policy optimiser (``rl.PPO``, ``rl.TRPO`` or ``rl.Reinforce``)."""
    generator_config: Any


def on_policy_setup(
    config: Any, *, algo: str, env_id: str, demos: Demonstrations | Transitions, seed: int, init_policy: Policy | None
) -> OnPolicySetup:
    """Check ``config``'s generator (its ``generator``, ``generator_config()`` and ``policy``, as
    GAILConfig has them), then build: the expert data (:func:`expert_setup`), the vectorized envs,
    the policy (``init_policy`` checked against ``env_id``, or a new one normalised with the
    expert's statistics) and its generator. ``algo`` names the algorithm in errors."""
    if config.generator not in GENERATORS:
        raise UserError(f"unknown generator {config.generator!r}; choose one of {', '.join(GENERATORS)}")
    gen_cfg = config.generator_config()
    if getattr(gen_cfg, "normalize_obs", False) or getattr(gen_cfg, "normalize_reward", False):
        raise UserError(f"the generator's normalize_obs / normalize_reward are for expert training; {algo} normalises "
                        f"observations from the demonstrations and has its own {type(config).__name__}.normalize_reward")
    expert = expert_setup(env_id, demos, seed)
    venv = make_vec_env(env_id, gen_cfg.num_envs)
    if init_policy is not None:
        check_init_policy(init_policy, env_id, expert.obs_space, expert.act_space)
        policy = init_policy
    else:
        policy = config.policy.build(expert.obs_space, expert.act_space)
        policy.set_obs_normalization(expert.obs_mean, expert.obs_std)
    generator = make_generator(config.generator, policy, gen_cfg, seed=seed)
    return OnPolicySetup(expert, venv, policy, generator, gen_cfg)


class OnPolicySettings(NamedTuple):
    """What :func:`on_policy_loop` needs of an algorithm's config (:meth:`of` reads it from one)."""

    reward: str
    absorbing: bool
    normalize_reward: bool
    disc_epochs: int
    disc_minibatch_size: int
    disc_entropy_bonus: float
    disc_grad_penalty: float
    num_steps: int
    """Steps per env in each round's rollout."""
    gamma: float
    """The generator's discount (the absorbing tail's too)."""

    @classmethod
    def of(cls, config: Any, generator_config: Any) -> OnPolicySettings:
        """The settings of an on-policy adversarial config (GAIL's; AIRL's has the same field
        names) and of its generator's config."""
        own = {name: getattr(config, name) for name in cls._fields[:-2]}
        return cls(**own, num_steps=generator_config.num_steps, gamma=generator_config.gamma)


def on_policy_loop(
    run: TrainingRun,
    *,
    venv: VecEnv,
    policy: Policy,
    generator: Any,
    disc: AdversarialDiscriminator,
    disc_opt: torch.optim.Optimizer,
    expert: Callable[[], ExpertInputs],
    settings: OnPolicySettings,
    total_steps: int,
    seed: int,
    rng: np.random.Generator,
    reward_offset: Callable[[Batch], torch.Tensor] | None = None,
) -> tuple[EvalResult | None, int]:
    """Adversarial imitation with an on-policy generator (GAIL, AIRL) until ``total_steps`` env steps.

    Each round: roll out the policy in ``venv``; train the discriminator on the policy's pairs
    (plus one absorbing row per true termination, with ``settings.absorbing``) against
    ``expert()``'s; read the rewards from its logits; take a generator step (its ``update(batch,
    rewards)``) on them. The environment's reward is never used. Logs, evaluates and checkpoints
    through ``run``, and resumes from its checkpoint. Returns the final evaluation and the env steps.
    ``reward_offset(batch)`` [T, N], where given, is added to the logits before the reward is read
    from them (AIRL: + log pi(a|s), to train the generator on f alone).
    """
    s = settings
    sampler = RolloutSampler(venv, s.num_steps, seed=seed)
    torch_gen = torch.Generator().manual_seed(seed)
    scaler = RewardScaler()
    state = run.restored()
    if state is not None:
        policy.load_state_dict(state["policy"])
        generator.load_state_dict(state["generator"])
        disc.load_state_dict(state["disc"])
        disc_opt.load_state_dict(state["disc_opt"])
        rng.bit_generator.state = state["rng"]
        torch_gen.set_state(state["torch_gen"])
        scaler.load_state_dict(state)
        sampler = sampler.resumed(seed=seed, step=run.resumed_step, generator_state=state["gen"])
    final = None
    while sampler.total_steps < total_steps:
        with run.timed():
            generator.set_progress(sampler.total_steps / total_steps)
            batch = sampler.collect(policy)
            expert_in = expert()
            policy_x = disc.inputs(rollout_pairs(batch))
            n_absorbing = int(batch.terminated.sum()) if s.absorbing else 0
            d_loss = discriminator_round(
                disc, disc_opt, with_absorbing_rows(disc, policy_x, n_absorbing), expert_in, rng,
                epochs=s.disc_epochs, minibatch_size=s.disc_minibatch_size, entropy_bonus=s.disc_entropy_bonus,
                grad_penalty=s.disc_grad_penalty, generator=torch_gen,
            )
            with torch.no_grad():
                p_logits, e_logits = disc.logits(policy_x), disc.logits(expert_in.x)
            reward_logits = p_logits.reshape(batch.rews.shape)
            if reward_offset is not None:
                reward_logits = reward_logits + reward_offset(batch)
            rewards, r_abs = imitation_rewards(disc, reward_logits, s.reward, absorbing=s.absorbing,
                                               scaler=scaler if s.normalize_reward else None)
            if s.absorbing:
                rewards = add_absorbing_tail(rewards, batch.terminated, r_abs, s.gamma)
            stats = generator.update(batch, rewards.astype(np.float32))

        stats.update(disc_loss=float(d_loss), **discriminator_health(e_logits, p_logits, expert_in.p),
                     mean_reward=float(rewards.mean()))
        if s.absorbing:
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
                "gen": sampler.generator.get_state(), **scaler.state_dict(),
            })
    return final, sampler.total_steps

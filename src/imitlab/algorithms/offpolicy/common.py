"""The off-policy core that SQIL, IQ-Learn and DAC share: demonstrations as a replay buffer, the
learner for the env's action space, and one loop.

- :class:`OffPolicyConfig`: the learner's settings (networks, rates, temperature, replay).
- :func:`demo_buffer`: the expert's transitions in a :class:`~imitlab.rl.replay.ReplayBuffer`
  (no rewards stored: each algorithm gives them its own when it samples).
- :func:`build_learner`: a :class:`~imitlab.rl.soft_q.SoftQ` (discrete actions: a Q-network whose
  Boltzmann policy acts) or a :class:`~imitlab.rl.sac.SAC` (continuous: a tanh-Gaussian actor and a
  twin critic), their inputs normalised with the expert observations' statistics.
- :func:`off_policy_loop`: online, act in the env (uniformly at random until ``learning_starts``),
  store the step, and take ``updates_per_step`` updates; offline, only the updates. Progress rows,
  evaluations and checkpoints (learner, replay, RNGs and the algorithm's own state) as in the
  expert learners' loops, so a stopped run resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import gymnasium as gym
import numpy as np

from imitlab.algorithms.adversarial.common import expert_setup
from imitlab.envs.spaces import observation_box
from imitlab.envs.vector import make_vec_env
from imitlab.errors import UserError, positive
from imitlab.policies import GaussianPolicy, QPolicy
from imitlab.rl.replay import ProgressRows, ReplayBuffer
from imitlab.rl.sac import SAC, SACConfig
from imitlab.rl.soft_q import SoftQ

if TYPE_CHECKING:
    from imitlab.data.demos import Demonstrations, Transitions
    from imitlab.evaluation import EvalResult
    from imitlab.policies import Policy
    from imitlab.training import TrainingRun


@dataclass(frozen=True)
class OffPolicyConfig:
    """The off-policy learner's settings, shared by SQIL, IQ-Learn and DAC. Discrete actions get a
    soft Q-network acting by softmax(Q / alpha); continuous ones SAC's actor and twin critic."""

    hidden: tuple[int, ...] = (256, 256)
    """Hidden layer sizes of the Q-network (discrete), or of the actor and each critic (continuous)."""
    lr: float = 3e-4
    """Adam learning rate of the Q-network or critics."""
    actor_lr: float = 3e-4
    """Adam learning rate of the actor (continuous actions)."""
    gamma: float = 0.99
    """Discount factor."""
    alpha: float = 0.01
    """Entropy temperature: of the Boltzmann policy softmax(Q / alpha) (discrete), or SAC's initial alpha (continuous)."""
    autotune: bool = True
    """Continuous actions: tune alpha towards SAC's target entropy -dim(A) (off: alpha stays fixed)."""
    tau: float = 0.005
    """Polyak rate of the target networks."""
    batch_size: int = 256
    """Transitions per update from each source that the algorithm reads (expert, agent)."""
    buffer_size: int = 1_000_000
    """Agent transitions the replay buffer holds."""
    learning_starts: int = 1_000
    """Env steps of uniformly random actions before the first update (online)."""
    updates_per_step: int = 1
    """Updates per env step (online), or per budget step (offline)."""
    num_envs: int = 1
    """Environments stepped together (online); each vector step adds this many transitions."""
    max_grad_norm: float = 10.0
    """Gradient clipping of the discrete Q-network."""

    def sac_config(self) -> SACConfig:
        """SAC's settings for continuous actions."""
        return SACConfig(num_envs=self.num_envs, buffer_size=self.buffer_size, learning_starts=self.learning_starts,
                         batch_size=self.batch_size, gamma=self.gamma, tau=self.tau, actor_lr=self.actor_lr,
                         critic_lr=self.lr, init_alpha=self.alpha, autotune=self.autotune, hidden=self.hidden,
                         critic_hidden=self.hidden)

    def check(self) -> None:
        """A UserError naming the first setting out of range."""
        for name in ("batch_size", "buffer_size", "updates_per_step", "num_envs"):
            positive(name, getattr(self, name))
        for name in ("lr", "actor_lr", "alpha", "tau", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise UserError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.gamma < 1:
            raise UserError(f"gamma must be in [0, 1), got {self.gamma}")
        if self.learning_starts < 0:
            raise UserError(f"learning_starts must be >= 0, got {self.learning_starts}")


Learner = SoftQ | SAC


class OffPolicySetup(NamedTuple):
    """An off-policy imitation run's pieces (:func:`off_policy_setup`)."""

    trans: Transitions
    obs_space: gym.Space
    act_space: gym.Space
    rng: np.random.Generator
    learner: Learner
    demos: ReplayBuffer
    """The expert's transitions (no rewards)."""
    obs_mean: np.ndarray
    obs_std: np.ndarray
    """The expert observations' statistics, which normalise every network's inputs."""


def demo_buffer(trans: Transitions, *, seed: int) -> ReplayBuffer:
    """The expert transitions as a replay buffer that stores no rewards (each algorithm gives them
    its own at sampling time); ``terminated`` is the demos' true terminations."""
    acts = np.asarray(trans.acts)
    # The agent's buffer's dtypes: float64 actions (demos from arrays) would promote every mixed batch.
    acts = acts.astype(np.float32) if np.issubdtype(acts.dtype, np.floating) else acts.astype(np.int64)
    buffer = ReplayBuffer(len(trans), trans.obs.shape[1:], acts.shape[1:], acts.dtype, seed=seed, rewards=False)
    buffer.add(trans.obs.astype(np.float32), acts, trans.next_obs.astype(np.float32), trans.dones.astype(np.float32))
    return buffer


def build_learner(config: OffPolicyConfig, obs_space: gym.Space, act_space: gym.Space, obs_mean: np.ndarray,
                  obs_std: np.ndarray, *, seed: int) -> Learner:
    """A soft Q-learner (Discrete actions) or SAC (Box actions), observations normalised by
    ``obs_mean`` and ``obs_std`` (the expert's). Draws initial weights from torch's global RNG."""
    cfg = config
    if isinstance(act_space, gym.spaces.Discrete) and int(act_space.start) != 0:
        raise UserError(f"the off-policy learners index Q(s, .) by action: {act_space} starts at {act_space.start}, not 0")
    if isinstance(act_space, gym.spaces.Discrete):
        qnet = QPolicy(obs_space, act_space, cfg.hidden)
        qnet.set_obs_normalization(obs_mean, obs_std)
        return SoftQ(qnet, alpha=cfg.alpha, lr=cfg.lr, gamma=cfg.gamma, tau=cfg.tau, max_grad_norm=cfg.max_grad_norm,
                     seed=seed)
    if isinstance(act_space, gym.spaces.Box):
        from imitlab.critics import TwinQ

        actor = GaussianPolicy(obs_space, act_space, cfg.hidden, squash=True, state_dependent_std=True)
        critic = TwinQ(obs_space, act_space, cfg.hidden)
        actor.set_obs_normalization(obs_mean, obs_std)
        critic.set_obs_normalization(obs_mean, obs_std)
        return SAC(actor, critic, cfg.sac_config(), seed=seed)
    raise UserError(f"the off-policy learners need Discrete or Box actions, got {act_space}")


def off_policy_setup(config: OffPolicyConfig, *, env_id: str, demos: Demonstrations | Transitions, seed: int) -> OffPolicySetup:
    """Check ``config``, then build the expert data (checked against ``env_id``), the run's numpy
    Generator (every RNG seeded by ``seed``), the learner and the demonstrations' buffer."""
    config.check()
    trans, obs_space, act_space, rng, mean, std = expert_setup(env_id, demos, seed)
    learner = build_learner(config, obs_space, act_space, mean, std, seed=seed)
    return OffPolicySetup(trans, obs_space, act_space, rng, learner, demo_buffer(trans, seed=seed + 1), mean, std)


def agent_buffer(setup: OffPolicySetup, config: OffPolicyConfig, *, seed: int) -> ReplayBuffer:
    """An empty replay buffer for the agent's own transitions (no rewards stored)."""
    acts_shape = setup.act_space.shape if isinstance(setup.act_space, gym.spaces.Box) else ()
    act_dtype = np.float32 if isinstance(setup.act_space, gym.spaces.Box) else np.int64
    return ReplayBuffer(config.buffer_size, observation_box(setup.obs_space).shape, acts_shape, act_dtype, seed=seed,
                        rewards=False)


def off_policy_run(algo: str, config: OffPolicyConfig, setup: OffPolicySetup, *, env_id: str, seed: int,
                   total_steps: int, offline: bool = False, **run: Any) -> TrainingRun:
    """The run's bookkeeping (:class:`~imitlab.training.TrainingRun`), its config.json recording
    ``algo``, the budget, the demonstrations' size and every field of ``config``; ``run`` holds the
    train function's ``out``, ``eval_every``, ``eval_episodes``, ``progress``, ``checkpoint_every``
    and ``resume``."""
    from imitlab.training import TrainingRun

    return TrainingRun(
        env_id=env_id, seed=seed, total=total_steps, unit="update" if offline else "step",
        config={"algo": algo, "env_id": env_id, "seed": seed, "total_steps": total_steps,
                "n_transitions": len(setup.trans), **asdict(config)},
        **run,
    )


def policy_of(learner: Learner) -> Policy:
    """The policy a learner acts with when evaluated and saved."""
    return learner.qnet if isinstance(learner, SoftQ) else learner.actor


def critic_of(learner: Learner) -> Any:
    """The critic saved beside the policy (SAC's twin critic; a soft Q-network is its own)."""
    return None if isinstance(learner, SoftQ) else learner.critic


def off_policy_loop(
    run: TrainingRun,
    *,
    env_id: str,
    learner: Learner,
    buffer: ReplayBuffer | None,
    demos: ReplayBuffer,
    update: Callable[[], dict[str, float]],
    total_steps: int,
    config: OffPolicyConfig,
    seed: int,
    rng: np.random.Generator,
    state: Callable[[], dict[str, Any]] = dict,
    load_state: Callable[[dict[str, Any]], None] = lambda state: None,
    log_every: int = 1_000,
) -> tuple[EvalResult | None, int]:
    """Run ``total_steps`` steps; returns the last evaluation and the steps taken.

    Online (``buffer`` given): each step acts in ``num_envs`` envs, stores the transitions in
    ``buffer``, and from ``learning_starts`` on calls ``update`` ``updates_per_step`` times per env
    step. Offline (``buffer`` None): each step is ``updates_per_step`` updates and nothing else.
    ``demos`` is the demonstrations' buffer, whose sampling RNG a checkpoint keeps.
    ``state`` and ``load_state`` save and restore the algorithm's own part of a checkpoint (a
    discriminator and its optimizer).
    """
    cfg = config
    policy = policy_of(learner)
    steps, final = 0, None
    saved = run.restored()
    if saved is not None:
        learner.load_state_dict(saved["learner"])
        if buffer is not None:
            buffer.load_state_dict(saved["buffer"])
        load_state(saved["algorithm"])
        rng.bit_generator.state = saved["rng"]
        demos.rng.bit_generator.state = saved["demos_rng"]
        steps = run.resumed_step
    actor = _Actor(env_id, cfg.num_envs, buffer, rng, seed=seed + steps) if buffer is not None else None
    per_step = cfg.num_envs if actor is not None else 1
    rows = ProgressRows(per_step, log_every)
    stats: dict[str, float] = {}
    try:
        while steps < total_steps:
            with run.timed():
                if actor is not None:
                    rows.record(*actor.step(learner, random=steps < cfg.learning_starts))
                steps += per_step
                if steps >= cfg.learning_starts or actor is None:
                    for _ in range(cfg.updates_per_step * per_step):
                        stats.update(update())
            due = rows.due(steps, per_step, last=steps >= total_steps)
            run.advance(per_step, rows.row({**stats, "updates": learner.updates}) if due else None, step=steps)
            if run.evaluation_due(steps) or steps >= total_steps:
                # offline, as offline GAIL records it: no env steps, the update count in the epoch column
                final = run.evaluate(policy, env_steps=steps if actor is not None else 0,
                                     epoch=None if actor is not None else steps, critic=critic_of(learner))
            if run.checkpoint_due(steps, last=steps >= total_steps):
                run.save_checkpoint(steps, {
                    "learner": learner.state_dict(), "buffer": None if buffer is None else buffer.state_dict(),
                    "algorithm": state(), "rng": rng.bit_generator.state, "demos_rng": demos.rng.bit_generator.state,
                })
    finally:
        if actor is not None:
            actor.venv.close()
    policy.eval()
    return final, steps


class _Actor:
    """The online half of the loop: envs, their current observations, the agent's replay."""

    def __init__(self, env_id: str, num_envs: int, buffer: ReplayBuffer, rng: np.random.Generator, *, seed: int) -> None:
        self.venv = make_vec_env(env_id, num_envs)
        self.space = self.venv.single_action_space
        self.buffer, self.rng, self.num_envs = buffer, rng, num_envs
        self.obs = self.venv.reset(seed=seed)  # a resumed run starts new episodes

    def step(self, learner: Learner, *, random: bool) -> tuple[np.ndarray, np.ndarray]:
        """Act (uniformly at random, or by the learner), store the transitions; return the env's
        rewards and where episodes ended (what the agent earns, for the progress rows; the
        learner never reads them)."""
        act = _random_actions(self.space, self.num_envs, self.rng) if random else learner.act(self.obs)
        next_obs_env, rew, term, trunc, next_obs = self.venv.step(act)
        self.buffer.add(self.obs, act, next_obs, term)
        self.obs = next_obs_env
        return rew, term | trunc


def _random_actions(space: gym.Space, n: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(space, gym.spaces.Discrete):
        return rng.integers(space.n, size=n)
    assert isinstance(space, gym.spaces.Box)
    return rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(np.float32)

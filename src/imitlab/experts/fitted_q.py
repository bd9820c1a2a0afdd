"""Q* for any expert by fitted Q evaluation (``imitlab expert fit-q``).

AggreVaTeD learns from the expert's cost-to-go Q*(s, a): the value of taking ``a`` in ``s`` and
following the expert after. Experts trained by DQN or SAC carry a critic; most do not (PPO
experts, a user's controller). Fitted Q evaluation (Le et al. 2019, arXiv:1903.08738; Munos &
Szepesvari 2008) learns it from the expert's own roll-outs: TD targets ``r + gamma Q(s',
pi*(s'))`` with the expert's action at the next state, twin critics and slowly moving target
copies (Fujimoto et al. 2018), so the estimate is of the expert's policy, not of a greedy one.

The expert acts with some exploration while the data is collected (a uniform-random action with
probability ``explore`` for discrete actions; Gaussian noise of ``explore`` half-ranges for
continuous ones), so that Q* is learned at actions the expert would not take, which is what
AggreVaTeD compares. Time-limit truncations bootstrap (the task has no horizon; Q* is the
discounted value), true terminations do not.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F

from imitlab.critics import TwinQ, TwinQDiscrete
from imitlab.envs.vector import make_vec_env
from imitlab.errors import UserError, positive
from imitlab.experts import Expert, as_expert
from imitlab.utils import seed_everything


@dataclass(frozen=True)
class FitQConfig:
    """Fitted Q evaluation's settings."""

    gamma: float = 0.99
    """Discount of the Q* it learns (AggreVaTeD's experts' critics use 0.99)."""
    hidden: tuple[int, ...] = (128, 128)
    """Hidden layer widths of each of the two critics."""
    lr: float = 1e-3
    """Adam learning rate."""
    batch_size: int = 256
    """Transitions per gradient step."""
    updates: int = 20_000
    """Gradient steps on the collected transitions."""
    tau: float = 0.02
    """Polyak rate of the target critics."""
    num_envs: int = 8
    """Parallel envs the expert's roll-outs run in."""
    explore: float = 0.5
    """Exploration while collecting: the probability of a uniform-random action (discrete), or the
    std of Gaussian action noise in half-ranges of the action space (continuous)."""


@dataclass
class FitQResult:
    critic: TwinQ | TwinQDiscrete
    env_steps: int
    seconds: float
    td_loss: float
    states: np.ndarray
    """A sample of the states collected (for checking the critic against Monte-Carlo returns)."""


def collect(expert: Expert, env_id: str, steps: int, config: FitQConfig, rng: np.random.Generator, seed: int) -> dict[str, np.ndarray]:
    """About ``steps`` transitions of the expert with exploration: obs, acts, rews, next_obs, terminated."""
    venv = make_vec_env(env_id, config.num_envs)
    space = venv.single_action_space
    obs = venv.reset(seed=seed)
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "acts", "rews", "next_obs", "terminated")}
    for _ in range(-(-steps // config.num_envs)):
        acts = np.asarray(expert.act(obs))
        if isinstance(space, gym.spaces.Discrete):
            flip = rng.random(len(acts)) < config.explore
            acts = np.where(flip, rng.integers(space.start, space.start + space.n, len(acts)), acts)
        else:
            assert isinstance(space, gym.spaces.Box)  # the action spaces imitlab handles are Discrete or Box
            half = (space.high - space.low) / 2
            acts = np.clip(acts + rng.normal(size=acts.shape) * config.explore * half, space.low, space.high).astype(np.float32)
        new_obs, rews, term, _trunc, next_obs = venv.step(acts)
        for key, value in (("obs", obs), ("acts", acts), ("rews", rews), ("next_obs", next_obs), ("terminated", term)):
            rows[key].append(np.array(value, copy=True))
        obs = new_obs
    venv.close()
    return {k: np.concatenate(v) for k, v in rows.items()}


def fit_q(
    expert: Any, env_id: str, *, steps: int, seed: int = 0, config: FitQConfig = FitQConfig(), progress: bool = False,
) -> FitQResult:
    """Fit the expert's Q* on ``steps`` env steps of its roll-outs (with exploration); returns the
    twin critic (a :class:`~imitlab.critics.TwinQDiscrete` for discrete actions, a
    :class:`~imitlab.critics.TwinQ` for continuous ones), with the data's observation statistics."""
    positive("steps", steps)
    positive("updates", config.updates)
    positive("batch_size", config.batch_size)
    if not 0 <= config.explore <= 1:
        raise UserError(f"explore must be in [0, 1], got {config.explore}")
    if not 0 < config.gamma < 1:
        raise UserError(f"gamma must be in (0, 1), got {config.gamma}")
    expert = as_expert(expert)
    rng = seed_everything(seed)
    t0 = time.perf_counter()
    data = collect(expert, env_id, steps, config, rng, seed)
    venv = make_vec_env(env_id, 1)
    obs_space, act_space = venv.single_observation_space, venv.single_action_space
    venv.close()
    discrete = isinstance(act_space, gym.spaces.Discrete)
    critic: TwinQ | TwinQDiscrete = (TwinQDiscrete if discrete else TwinQ)(obs_space, act_space, config.hidden)
    critic.set_obs_normalization(data["obs"].mean(0), data["obs"].std(0))
    target = copy.deepcopy(critic).requires_grad_(False)
    opt = torch.optim.Adam(critic.parameters(), lr=config.lr)

    # The expert's (deterministic) action at every next state, once: the data does not change.
    next_acts = np.concatenate([np.asarray(expert.act(data["next_obs"][i : i + 4096]))
                                for i in range(0, len(data["next_obs"]), 4096)])
    t = {k: torch.as_tensor(v) for k, v in data.items()}
    t["next_acts"] = torch.as_tensor(next_acts)
    if not discrete:
        t["acts"], t["next_acts"] = t["acts"].float(), t["next_acts"].float()
    cont = 1.0 - t["terminated"].float()
    n = len(data["obs"])
    gen = torch.Generator().manual_seed(seed)
    loss = torch.zeros(())
    for _ in range(config.updates):
        idx = torch.randint(n, (config.batch_size,), generator=gen)
        with torch.no_grad():
            y = t["rews"][idx] + config.gamma * cont[idx] * target.q(t["next_obs"][idx], t["next_acts"][idx])
        q1, q2 = critic.both(t["obs"][idx], t["acts"][idx])
        loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            for p, p_t in zip(critic.parameters(), target.parameters()):
                p_t.lerp_(p, config.tau)
    critic.eval()
    sample = data["obs"][rng.choice(n, size=min(n, 256), replace=False)]
    return FitQResult(critic=critic, env_steps=n, seconds=time.perf_counter() - t0, td_loss=float(loss.detach()), states=sample)


def monte_carlo_check(
    critic: TwinQ | TwinQDiscrete, expert: Any, env_id: str, states: np.ndarray, *, gamma: float, horizon: int = 500,
    seed: int = 0, actions_per_state: int = 4,
) -> dict[str, float]:
    """Pearson correlation of the critic's Q*(s, a) with Monte-Carlo returns of the expert from
    restored states (``experts.montecarlo``: imitlab's numpy-batched envs only), over every action
    (discrete) or ``actions_per_state`` uniform ones (continuous); also the mean absolute error."""
    from imitlab.experts.montecarlo import monte_carlo_q

    venv = make_vec_env(env_id, 1)
    act_space = venv.single_action_space
    venv.close()
    rng = np.random.default_rng(seed)
    if isinstance(act_space, gym.spaces.Discrete):
        acts = np.tile(np.arange(act_space.start, act_space.start + act_space.n), len(states))
        reps = int(act_space.n)
    else:
        assert isinstance(act_space, gym.spaces.Box)
        reps = actions_per_state
        acts = rng.uniform(act_space.low, act_space.high, size=(len(states) * reps, *act_space.shape)).astype(np.float32)
    obs = np.repeat(states, reps, axis=0)
    mc_states = _restorable_states(env_id, obs)
    mc, _ = monte_carlo_q(env_id, mc_states, acts, expert, gamma=gamma, horizon=horizon, seed=seed)
    with torch.no_grad():
        a = torch.as_tensor(acts) if isinstance(act_space, gym.spaces.Discrete) else torch.as_tensor(acts).float()
        fitted = critic.q(torch.as_tensor(obs), a).double().numpy()
    return {"pearson": float(np.corrcoef(fitted, mc)[0, 1]), "mae": float(np.abs(fitted - mc).mean()),
            "pairs": int(len(mc)), "mc_mean": float(mc.mean()), "mc_std": float(mc.std())}


def _restorable_states(env_id: str, obs: np.ndarray) -> np.ndarray:
    """The numpy-batched env's internal states behind observations (CartPole and MountainCar observe
    their state; Pendulum observes cos, sin and the velocity of its angle)."""
    if env_id == "Pendulum-v1":
        return np.stack([np.arctan2(obs[:, 1], obs[:, 0]), obs[:, 2]], -1)
    if env_id in ("CartPole-v1", "CartPole-v0", "MountainCar-v0"):
        return obs
    raise UserError(f"the Monte-Carlo check recovers states from observations of CartPole, MountainCar and "
                    f"Pendulum only, not {env_id}")


__all__ = ["FitQConfig", "FitQResult", "asdict", "fit_q", "monte_carlo_check"]

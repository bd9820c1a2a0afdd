"""Vectorized rollouts: fixed-size on-policy batches for training, whole episodes for evaluation
and demonstration collection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np
import torch

from imitlab.data.demos import Trajectory
from imitlab.envs.vector import RestorableVecEnv, VecEnv, make_vec_env


@dataclass
class Batch:
    """``T`` steps of ``N`` envs, each array shaped [T, N, ...].

    ``rews`` holds the environment's reward; imitation algorithms replace it with their own and
    never train on it. ``next_obs[t]`` is the observation transition t led to, which at an episode's
    end is its final observation (not the reset one in ``obs[t + 1]``).
    """

    obs: np.ndarray
    acts: np.ndarray
    logp: np.ndarray
    rews: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    next_obs: np.ndarray
    episode_returns: np.ndarray  # env returns of episodes finished during this batch (diagnostics)
    episode_lengths: np.ndarray
    states: np.ndarray | None = None  # the env's internal state before each step, when recorded

    @property
    def num_steps(self) -> int:
        return int(self.acts.shape[0] * self.acts.shape[1])

    def flat(self, name: str) -> np.ndarray:
        """Array ``name`` with its [T, N] axes merged."""
        x = getattr(self, name)
        return x.reshape(-1, *x.shape[2:])


class SamplingPolicy(Protocol):
    """What :class:`RolloutSampler` acts with: a :class:`~imitlab.policies.Policy`, or anything
    else that samples a batch of actions (DAgger's and AggreVaTeD's expert-learner mixture)."""

    def sample(
        self, obs: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions [N, ...] for observations [N, ...] and their log-probabilities [N]."""
        ...


class RolloutSampler:
    """Steps ``venv`` with a policy in fixed-length chunks; envs carry on between chunks.

    With ``record_states`` the internal state of a numpy-batched env (its ``state`` array) is
    kept for every step, so the states can be restored later (Monte-Carlo roll-outs from them).
    """

    def __init__(self, venv: VecEnv, num_steps: int, *, seed: int, record_states: bool = False) -> None:
        self.venv = venv
        self.num_steps = num_steps
        n = venv.num_envs
        self.obs = venv.reset(seed=seed)
        self.generator = torch.Generator().manual_seed(seed)
        act_space = venv.single_action_space
        act_shape = () if act_space.shape is None else act_space.shape
        act_dtype = np.int64 if not act_shape else np.float32
        obs_shape = self.obs.shape[1:]
        self._obs = np.zeros((num_steps, n, *obs_shape), np.float32)
        self._next_obs = np.zeros_like(self._obs)
        self._acts = np.zeros((num_steps, n, *act_shape), act_dtype)
        self._logp = np.zeros((num_steps, n), np.float32)
        self._rews = np.zeros((num_steps, n), np.float32)
        self._term = np.zeros((num_steps, n), bool)
        self._trunc = np.zeros((num_steps, n), bool)
        self._ep_ret = np.zeros(n)
        self._ep_len = np.zeros(n, np.int64)
        # record_states asks for a numpy-batched env, which has a state array (callers check restorable())
        self._restorable = cast(RestorableVecEnv, venv) if record_states else None
        self._states = (np.zeros((num_steps, *self._restorable.state.shape), self._restorable.state.dtype)
                        if self._restorable is not None else None)
        self.total_steps = 0

    def resumed(self, *, seed: int, step: int, generator_state: torch.Tensor) -> RolloutSampler:
        """A sampler continuing a checkpointed run at env step ``step``: the envs are not saved, so
        it starts new episodes (reset with ``seed + step``), with the saved action-sampling RNG."""
        sampler = RolloutSampler(self.venv, self.num_steps, seed=seed + step, record_states=self._restorable is not None)
        sampler.generator.set_state(generator_state)
        sampler.total_steps = step
        return sampler

    def collect(self, policy: SamplingPolicy) -> Batch:
        """Run ``num_steps`` steps in every env with actions sampled from ``policy``."""
        done_returns, done_lengths = [], []
        with torch.inference_mode():
            for t in range(self.num_steps):
                act_t, logp = policy.sample(torch.from_numpy(self.obs), self.generator)
                act = act_t.numpy()
                self._obs[t] = self.obs
                if self._states is not None and self._restorable is not None:
                    self._states[t] = self._restorable.state
                self._acts[t] = act
                self._logp[t] = logp.numpy()
                self.obs, rew, term, trunc, next_obs = self.venv.step(act)
                self._rews[t] = rew
                self._term[t] = term
                self._trunc[t] = trunc
                self._next_obs[t] = next_obs
                self._ep_ret += rew
                self._ep_len += 1
                done = term | trunc
                if done.any():
                    done_returns.append(self._ep_ret[done].copy())
                    done_lengths.append(self._ep_len[done].copy())
                    self._ep_ret[done] = 0.0
                    self._ep_len[done] = 0
        self.total_steps += self.num_steps * self.venv.num_envs
        return Batch(
            obs=self._obs.copy(),
            acts=self._acts.copy(),
            logp=self._logp.copy(),
            rews=self._rews.copy(),
            terminated=self._term.copy(),
            truncated=self._trunc.copy(),
            next_obs=self._next_obs.copy(),
            episode_returns=np.concatenate(done_returns) if done_returns else np.zeros(0),
            episode_lengths=np.concatenate(done_lengths) if done_lengths else np.zeros(0, np.int64),
            states=None if self._states is None else self._states.copy(),
        )


ActFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class Episodes:
    returns: np.ndarray
    lengths: np.ndarray
    trajectories: list[Trajectory] | None


def run_episodes(
    act: ActFn,
    env_id: str,
    n_episodes: int,
    *,
    seed: int,
    record: bool = False,
    max_parallel: int = 64,
) -> Episodes:
    """Run exactly ``n_episodes`` episodes of ``env_id`` with the batch policy ``act``.

    Episodes run in waves of up to ``max_parallel`` envs and each env contributes only its first
    episode, so short episodes are not over-represented (which taking the first N episodes to finish
    across a vector env would do). With ``record`` the trajectories are kept, rewards included.
    """
    rng = np.random.default_rng(seed)
    returns, lengths, trajs = [], [], []
    remaining = n_episodes
    while remaining > 0:
        n = min(remaining, max_parallel)
        venv = make_vec_env(env_id, n)
        obs = venv.reset(seed=int(rng.integers(2**31)))
        active = np.ones(n, bool)
        ep_ret = np.zeros(n)
        ep_len = np.zeros(n, np.int64)
        hist_obs, hist_act, hist_rew = [obs], [], []
        final_obs = np.zeros_like(obs)
        terminated = np.zeros(n, bool)
        while active.any():
            a = np.asarray(act(obs))
            obs, rew, term, trunc, next_obs = venv.step(a)
            ep_ret += rew * active
            ep_len += active
            if record:
                hist_act.append(a)
                hist_rew.append(rew)
                hist_obs.append(obs)
            done = (term | trunc) & active
            if done.any():
                final_obs[done] = next_obs[done]
                terminated[done] = term[done]
                active &= ~done
        venv.close()
        returns.append(ep_ret)
        lengths.append(ep_len)
        if record:
            obs_arr, act_arr, rew_arr = np.stack(hist_obs), np.stack(hist_act), np.stack(hist_rew)
            for i in range(n):
                length = int(ep_len[i])
                traj_obs = np.concatenate([obs_arr[:length, i], final_obs[i : i + 1]])
                trajs.append(
                    Trajectory(
                        obs=traj_obs,
                        acts=act_arr[:length, i],
                        rews=rew_arr[:length, i].astype(np.float32),
                        terminated=bool(terminated[i]),
                        truncated=not bool(terminated[i]),
                    )
                )
        remaining -= n
    return Episodes(np.concatenate(returns), np.concatenate(lengths), trajs if record else None)

"""Proximal Policy Optimization (Schulman et al. 2017): the generator inside GAIL and the learner
that trains experts on an environment's own reward.

:class:`PPO` only optimises: ``update(batch, rewards)`` takes a batch from the sampler and the
rewards to learn from (the env's for an expert, the discriminator's for GAIL). The loops around it
are GAIL's (:func:`imitlab.algorithms.gail.train_gail`) and expert training's
(:func:`imitlab.experts.train.train_expert`, ``algo="ppo"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from imitlab.losses import gae, ppo_clip_loss
from imitlab.nets import mlp
from imitlab.policies import Policy
from imitlab.sampling import Batch


@dataclass(frozen=True)
class PPOConfig:
    """PPO hyperparameters. ``num_envs * num_steps`` env steps make one rollout batch."""

    num_envs: int = 8
    """Envs stepped side by side."""
    num_steps: int = 128
    """Steps per env in each rollout batch."""
    lr: float = 3e-4
    """Adam's learning rate (policy and value network)."""
    epochs: int = 10
    """Passes over each batch."""
    minibatch_size: int = 256
    """Transitions per gradient step."""
    gamma: float = 0.99
    """Discount."""
    lam: float = 0.95
    """GAE's lambda."""
    clip: float = 0.2
    """Clip range of the probability ratio."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    max_grad_norm: float = 0.5
    """Gradient-norm clip."""
    norm_adv: bool = True
    """Standardise advantages within each minibatch."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 over the run."""
    obs_norm_from_bounds: bool = False
    """Expert training: scale observations to [-1, 1] by the space's (finite) bounds.

    Expert training on the env's reward only: GAIL normalises from the demonstrations."""
    normalize_obs: bool = False
    """Expert training: running mean/std of the observations seen (frozen into the saved policy)."""
    normalize_reward: bool = False
    """Expert training: divide rewards by the running std of the discounted return."""
    hidden: tuple[int, ...] = field(default=(64, 64))
    """Hidden layer sizes of the value network (and of an expert's policy)."""


class PPO:
    """Clipped-surrogate policy updates with a separate value network and GAE."""

    def __init__(self, policy: Policy, config: PPOConfig, *, seed: int) -> None:
        self.policy = policy
        self.config = config
        self.value = mlp(policy.obs_dim, 1, config.hidden, out_gain=1.0)
        params = list(policy.parameters()) + list(self.value.parameters())
        self.params = params
        self.optimizer = torch.optim.Adam(params, lr=config.lr, eps=1e-5, foreach=True)
        self.rng = np.random.default_rng(seed)

    def set_progress(self, fraction: float) -> None:
        """Tell the learner how far through its budget the run is (for learning-rate annealing)."""
        if self.config.anneal_lr:
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.lr * max(1.0 - fraction, 0.0)

    def state_dict(self) -> dict:
        """The value network, optimizer and minibatch RNG (the policy is saved by its owner)."""
        return {"value": self.value.state_dict(), "optimizer": self.optimizer.state_dict(), "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.value.load_state_dict(state["value"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.rng.bit_generator.state = state["rng"]

    def values(self, obs: torch.Tensor) -> torch.Tensor:
        return self.value(self.policy.normalize(obs)).squeeze(-1)

    def update(self, batch: Batch, rewards: np.ndarray) -> dict[str, float]:
        """One PPO update on ``batch`` with ``rewards`` ([T, N]) as the reward signal."""
        cfg = self.config
        T, N = rewards.shape
        obs = torch.from_numpy(batch.flat("obs"))
        with torch.no_grad():
            values = self.values(obs).numpy().reshape(T, N)
            next_values = self.values(torch.from_numpy(batch.flat("next_obs"))).numpy().reshape(T, N)
        adv, ret = gae(
            rewards.astype(np.float32), values, next_values, batch.terminated, batch.truncated,
            gamma=cfg.gamma, lam=cfg.lam,
        )
        acts = torch.from_numpy(batch.flat("acts"))
        old_logp = torch.from_numpy(batch.flat("logp"))
        adv_t = torch.from_numpy(adv.reshape(-1))
        ret_t = torch.from_numpy(ret.reshape(-1))
        n = T * N
        clip_fracs, approx_kls = [], []
        for _ in range(cfg.epochs):
            perm = torch.from_numpy(self.rng.permutation(n))
            for start in range(0, n, cfg.minibatch_size):
                idx = perm[start : start + cfg.minibatch_size]
                logp, entropy = self.policy.log_prob_entropy(obs[idx], acts[idx])
                mb_adv = adv_t[idx]
                if cfg.norm_adv and len(idx) > 1:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = ppo_clip_loss(logp, old_logp[idx], mb_adv, cfg.clip)
                v_loss = 0.5 * (self.values(obs[idx]) - ret_t[idx]).square().mean()
                loss = pg_loss + cfg.vf_coef * v_loss - cfg.ent_coef * entropy.mean()
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.params, cfg.max_grad_norm, foreach=True)
                self.optimizer.step()
                with torch.no_grad():
                    log_ratio = logp - old_logp[idx]
                    approx_kls.append(((log_ratio.exp() - 1) - log_ratio).mean())
                    clip_fracs.append(((log_ratio.exp() - 1).abs() > cfg.clip).float().mean())
        var_y = ret.var()
        return {
            "policy_loss": float(pg_loss.detach()),
            "value_loss": float(v_loss.detach()),
            "entropy": float(entropy.detach().mean()),
            "approx_kl": float(torch.stack(approx_kls).mean()),
            "clip_frac": float(torch.stack(clip_fracs).mean()),
            "explained_variance": float(1 - (ret - values).var() / var_y) if var_y > 0 else 0.0,
        }

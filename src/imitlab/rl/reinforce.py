"""REINFORCE (Williams 1992) with a baseline: the simplest policy-gradient generator.

Returns are discounted reward-to-go computed per episode: they restart at every episode end and
never run into the next episode. With the ``learned`` baseline a value function is fitted to the
returns, bootstraps truncated episodes (and the batch's unfinished tails) and is subtracted from
the return; with ``mean``, a running mean of the returns is subtracted and unfinished tails are
cut; ``none`` subtracts nothing. One gradient step per batch: the data are on-policy for exactly one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import torch

from imitlab.errors import UserError
from imitlab.losses import discounted_returns
from imitlab.policies import Policy
from imitlab.rl.value import ValueFunction
from imitlab.sampling import Batch

Baseline = Literal["learned", "mean", "none"]
"""What REINFORCE subtracts from the return: a fitted value function, a running mean, or nothing."""
BASELINES: tuple[str, ...] = get_args(Baseline)


@dataclass(frozen=True)
class ReinforceConfig:
    """REINFORCE hyperparameters. ``num_envs * num_steps`` env steps make one batch, and one gradient step."""

    num_envs: int = 8
    """Envs stepped side by side."""
    num_steps: int = 64
    """Steps per env in each batch."""
    lr: float = 3e-3
    """Adam's learning rate of the policy."""
    gamma: float = 0.99
    """Discount."""
    baseline: Baseline = "learned"
    """What is subtracted from the return: learned (a value function), mean (running mean) or none."""
    normalize_returns: bool = True
    """Standardise (return - baseline) over the batch."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus."""
    max_grad_norm: float = 1.0
    """Gradient-norm clip."""
    value_lr: float = 1e-3
    """Adam's learning rate of the value network (learned baseline)."""
    value_epochs: int = 5
    """Passes of value regression over each batch (learned baseline)."""
    value_minibatch_size: int = 128
    """Transitions per value-regression step (learned baseline)."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 over the run."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the value network."""


class Reinforce:
    def __init__(self, policy: Policy, config: ReinforceConfig, *, seed: int) -> None:
        if config.baseline not in BASELINES:
            raise UserError(f"unknown REINFORCE baseline {config.baseline!r}; choose one of {', '.join(BASELINES)}")
        self.policy = policy
        self.config = config
        self.optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr)
        self.value = (
            ValueFunction(policy, hidden=config.hidden, lr=config.value_lr, epochs=config.value_epochs,
                          minibatch_size=config.value_minibatch_size, seed=seed)
            if config.baseline == "learned" else None
        )
        self.mean_return = 0.0
        self.n_updates = 0

    def state_dict(self) -> dict:
        """The optimizer, the baseline (value function or running mean) (the policy is saved by its owner)."""
        return {"optimizer": self.optimizer.state_dict(), "mean_return": self.mean_return, "n_updates": self.n_updates,
                "value": None if self.value is None else self.value.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.mean_return, self.n_updates = float(state["mean_return"]), int(state["n_updates"])
        if self.value is not None:
            self.value.load_state_dict(state["value"])

    def set_progress(self, fraction: float) -> None:
        if self.config.anneal_lr:
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.lr * max(1.0 - fraction, 0.0)

    def update(self, batch: Batch, rewards: np.ndarray) -> dict[str, float]:
        cfg = self.config
        rewards = rewards.astype(np.float32)
        if self.value is not None:
            next_values = self.value(batch.next_obs)
        else:
            next_values = np.zeros_like(rewards)
        returns = discounted_returns(rewards, batch.terminated, batch.truncated, next_values, gamma=cfg.gamma)
        if self.value is not None:  # the learned baseline
            adv = returns - self.value(batch.obs)
        elif cfg.baseline == "mean":
            # Running mean over all returns seen, so the baseline does not depend on this batch alone.
            self.n_updates += 1
            self.mean_return += (float(returns.mean()) - self.mean_return) / min(self.n_updates, 20)
            adv = returns - self.mean_return
        else:
            adv = returns
        adv = adv.reshape(-1)
        if cfg.normalize_returns and len(adv) > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)

        obs = torch.from_numpy(batch.flat("obs"))
        logp, entropy = self.policy.log_prob_entropy(obs, torch.from_numpy(batch.flat("acts")))
        loss = -(logp * torch.from_numpy(adv)).mean() - cfg.ent_coef * entropy.mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.policy.parameters(), cfg.max_grad_norm)
        self.optimizer.step()
        stats = {"policy_loss": float(loss.detach()), "entropy": float(entropy.detach().mean()),
                 "mean_return_target": float(returns.mean())}
        if self.value is not None:
            stats["value_loss"] = self.value.fit(batch.obs, returns)
        return stats

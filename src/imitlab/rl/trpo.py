"""Trust Region Policy Optimization (Schulman et al. 2015, arXiv:1502.05477).

The policy step is the natural gradient, found by conjugate gradient on Fisher-vector products
(Hessian-vector products of the mean KL), scaled to the KL radius ``max_kl`` and then shrunk by a
backtracking line search until the surrogate improves and the measured KL is within ``max_kl``.
The value function is a separate network fitted by regression; advantages come from GAE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from imitlab.losses import gae
from imitlab.policies import Policy
from imitlab.rl.value import ValueFunction
from imitlab.sampling import Batch


def conjugate_gradient(fvp, b: torch.Tensor, iters: int = 10, tol: float = 1e-10) -> torch.Tensor:
    """Solve ``F x = b`` for symmetric positive-definite F given only products ``fvp(v) = F v``
    (TRPO's natural-gradient step, Schulman et al. 2015, arXiv:1502.05477, appendix C)."""
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rr = r.dot(r)
    for _ in range(iters):
        Fp = fvp(p)
        alpha = rr / (p.dot(Fp) + 1e-12)
        x += alpha * p
        r -= alpha * Fp
        rr_new = r.dot(r)
        if rr_new < tol:
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


@dataclass(frozen=True)
class TRPOConfig:
    """TRPO hyperparameters. ``num_envs * num_steps`` env steps make one batch, and one policy step."""

    num_envs: int = 16
    """Envs stepped side by side: TRPO takes one step per batch, and a larger batch steadies it."""
    num_steps: int = 128
    """Steps per env in each batch."""
    max_kl: float = 0.01
    """KL radius of the trust region."""
    cg_iters: int = 10
    """Conjugate-gradient iterations of the natural-gradient step."""
    cg_damping: float = 0.1
    """Damping added to the Fisher-vector products."""
    backtrack_iters: int = 10
    """Most line-search steps."""
    backtrack_coef: float = 0.8
    """Step shrink factor per line-search step."""
    gamma: float = 0.99
    """Discount."""
    lam: float = 0.95
    """GAE's lambda."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus in the surrogate."""
    value_lr: float = 1e-3
    """Adam's learning rate of the value network."""
    value_epochs: int = 5
    """Passes of value regression over each batch."""
    value_minibatch_size: int = 128
    """Transitions per value-regression step."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the value network."""


class TRPO:
    def __init__(self, policy: Policy, config: TRPOConfig, *, seed: int) -> None:
        self.policy = policy
        self.config = config
        self.params = [p for p in policy.parameters() if p.requires_grad]
        self.value = ValueFunction(policy, hidden=config.hidden, lr=config.value_lr, epochs=config.value_epochs,
                                   minibatch_size=config.value_minibatch_size, seed=seed)

    def state_dict(self) -> dict:
        """The value function (the policy is saved by its owner; TRPO itself keeps no optimizer state)."""
        return {"value": self.value.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.value.load_state_dict(state["value"])

    def set_progress(self, fraction: float) -> None:
        """TRPO's step size is set by its KL radius; there is no learning rate to anneal."""

    def update(self, batch: Batch, rewards: np.ndarray) -> dict[str, float]:
        cfg = self.config
        values = self.value(batch.obs)
        adv, returns = gae(rewards.astype(np.float32), values, self.value(batch.next_obs), batch.terminated,
                           batch.truncated, gamma=cfg.gamma, lam=cfg.lam)
        flat_adv = adv.reshape(-1)
        adv_t = torch.from_numpy((flat_adv - flat_adv.mean()) / (flat_adv.std() + 1e-8))
        obs = torch.from_numpy(batch.flat("obs"))
        acts = torch.from_numpy(batch.flat("acts"))
        old_logp = torch.from_numpy(batch.flat("logp"))
        with torch.no_grad():
            old_params = tuple(t.detach() for t in self.policy.dist_params(obs))

        def surrogate() -> torch.Tensor:
            logp, entropy = self.policy.log_prob_entropy(obs, acts)
            return -(torch.exp(logp - old_logp) * adv_t).mean() - cfg.ent_coef * entropy.mean()

        def fisher_vector_product(v: torch.Tensor) -> torch.Tensor:
            kl = self.policy.kl(old_params, obs).mean()
            grads = torch.autograd.grad(kl, self.params, create_graph=True)
            flat = torch.cat([g.reshape(-1) for g in grads])
            hvp = torch.autograd.grad(flat @ v, self.params)
            return torch.cat([g.reshape(-1) for g in hvp]) + cfg.cg_damping * v

        loss = surrogate()
        grad = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, self.params)])
        step_dir = conjugate_gradient(fisher_vector_product, -grad, cfg.cg_iters)
        shs = 0.5 * step_dir @ fisher_vector_product(step_dir)
        full_step = step_dir * torch.sqrt(2 * cfg.max_kl / (2 * shs + 1e-12))
        old_vec = parameters_to_vector(self.params).detach()
        accepted, kl, new_loss, frac = False, 0.0, float(loss.detach()), 0.0
        with torch.no_grad():
            for i in range(cfg.backtrack_iters):
                frac = cfg.backtrack_coef**i
                vector_to_parameters(old_vec + frac * full_step, self.params)
                new_loss = float(surrogate())
                kl = float(self.policy.kl(old_params, obs).mean())
                if kl <= cfg.max_kl and new_loss < float(loss.detach()):
                    accepted = True
                    break
            if not accepted:
                vector_to_parameters(old_vec, self.params)
        value_loss = self.value.fit(batch.obs, returns)
        return {
            "policy_loss": new_loss if accepted else float(loss.detach()),
            "kl": kl if accepted else 0.0,
            "step_fraction": frac if accepted else 0.0,
            "line_search_accepted": float(accepted),
            "value_loss": value_loss,
        }

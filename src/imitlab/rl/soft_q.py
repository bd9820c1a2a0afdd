"""Soft Q-learning for discrete actions (Haarnoja et al. 2017, arXiv:1702.08165): a Q-network whose
Boltzmann policy ``pi(a|s) = softmax(Q(s, .) / alpha)`` acts, a Polyak-averaged target copy, and
the soft value ``V(s) = alpha * logsumexp(Q(s, .) / alpha)``.

It is the discrete learner of the off-policy imitation family: SQIL (a TD step on demonstrations
rewarded 1 and the agent's own steps rewarded 0) and IQ-Learn (the inverse soft-Q loss, whose
critic is this Q-network). :class:`SoftQ` only optimises, on the batches and losses it is given;
the loops live in :mod:`imitlab.algorithms.offpolicy`. The policy it saves is the Q-network as a
:class:`~imitlab.policies.QPolicy`: greedy when evaluated (the Boltzmann policy's mode), and its
own Q* for AggreVaTeD.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch

from imitlab.losses import soft_td_target, soft_value
from imitlab.policies import QPolicy
from imitlab.rl.replay import ReplayBatch


class SoftQ:
    """A Q-network, its target copy, the optimizer, the temperature ``alpha`` and the random
    generator of its Boltzmann actions.

    ``tau`` is the Polyak rate of the target (1.0: a hard copy every update)."""

    def __init__(self, qnet: QPolicy, *, alpha: float, lr: float, gamma: float, tau: float, max_grad_norm: float,
                 seed: int) -> None:
        self.qnet = qnet
        self.target = copy.deepcopy(qnet).requires_grad_(False)
        self.optimizer = torch.optim.Adam(qnet.parameters(), lr=lr)
        self.alpha = alpha
        self.gamma = gamma
        self.tau = tau
        self.max_grad_norm = max_grad_norm
        self.generator = torch.Generator().manual_seed(seed)
        self.updates = 0

    @torch.inference_mode()
    def act(self, obs: np.ndarray) -> np.ndarray:
        """Actions drawn from the Boltzmann policy softmax(Q / alpha) for a batch of observations."""
        logits = self.qnet.q_values(torch.from_numpy(obs)) / self.alpha
        return torch.multinomial(torch.softmax(logits, -1), 1, generator=self.generator).squeeze(-1).numpy()

    def value(self, obs: torch.Tensor, *, target: bool = False) -> torch.Tensor:
        """The soft value V(s) [B] of the Q-network (or its target)."""
        return soft_value((self.target if target else self.qnet).q_values(obs), self.alpha)

    def td_step(self, batch: ReplayBatch) -> dict[str, float]:
        """One soft Q-learning step: regress Q(s, a) on ``r + gamma (1 - terminated) V_target(s')``."""
        with torch.no_grad():
            target = soft_td_target(batch.require_rewards(), batch.terminated, self.value(batch.next_obs, target=True),
                                    self.gamma)
        q = self.qnet.q(batch.obs, batch.acts)
        loss = torch.nn.functional.mse_loss(q, target)
        self.step(loss)
        return {"td_loss": float(loss.detach()), "q": float(q.detach().mean())}

    def loss_step(self, loss_fn: Callable[[SoftQ], tuple[torch.Tensor, dict[str, float]]]) -> dict[str, float]:
        """One gradient step on the loss ``loss_fn(self)`` computes (IQ-Learn's), with its statistics."""
        loss, stats = loss_fn(self)
        self.step(loss)
        return {"loss": float(loss.detach()), **stats}

    def step(self, loss: torch.Tensor) -> None:
        """Descend ``loss`` (gradient clipped to ``max_grad_norm``), then move the target a fraction ``tau``."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.qnet.parameters(), self.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        with torch.no_grad():
            for p, tp in zip(self.qnet.parameters(), self.target.parameters()):
                tp.lerp_(p, self.tau)

    def state_dict(self) -> dict:
        return {"qnet": self.qnet.state_dict(), "target": self.target.state_dict(), "optimizer": self.optimizer.state_dict(),
                "generator": self.generator.get_state(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        for name in ("qnet", "target", "optimizer"):
            getattr(self, name).load_state_dict(state[name])
        self.generator.set_state(state["generator"])
        self.updates = int(state["updates"])

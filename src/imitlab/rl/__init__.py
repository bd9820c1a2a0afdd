"""Policy optimisers: generators for adversarial imitation and learners for experts.

Every generator takes a sampler batch and the rewards to learn from: ``update(batch, rewards)``.
"""

from __future__ import annotations

from imitlab.errors import UserError
from imitlab.rl.ppo import PPO, PPOConfig
from imitlab.rl.reinforce import Reinforce, ReinforceConfig
from imitlab.rl.trpo import TRPO, TRPOConfig

GENERATORS = {"reinforce": Reinforce, "ppo": PPO, "trpo": TRPO}


def make_generator(name: str, policy, config, *, seed: int):
    """The generator ``name`` (reinforce, ppo or trpo) optimising ``policy`` with ``config``."""
    if name not in GENERATORS:
        raise UserError(f"unknown generator {name!r}; choose one of {', '.join(GENERATORS)}")
    return GENERATORS[name](policy, config, seed=seed)


__all__ = ["GENERATORS", "PPO", "PPOConfig", "Reinforce", "ReinforceConfig", "TRPO", "TRPOConfig", "make_generator"]

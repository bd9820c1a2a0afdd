"""Policy optimisers: generators for adversarial imitation and learners for experts."""

from imitlab.rl.ppo import PPO, PPOConfig

__all__ = ["PPO", "PPOConfig"]

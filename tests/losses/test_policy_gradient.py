"""imitlab.losses.policy_gradient on known numbers."""

import math

import pytest
import torch

from imitlab.losses.policy_gradient import ppo_clip_loss


def test_ppo_clip_loss_clips_the_ratio_in_the_advantage_direction():
    old = torch.zeros(2)
    adv = torch.tensor([1.0, -1.0])
    # ratio e^1 > 1 + clip: the positive advantage is capped at (1 + clip); the negative one is not.
    logp = torch.ones(2)
    loss = ppo_clip_loss(logp, old, adv, clip=0.2)
    assert loss.item() == pytest.approx(-(1.2 * 1.0 + math.e * -1.0) / 2)

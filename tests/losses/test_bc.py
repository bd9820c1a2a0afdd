"""imitlab.losses.bc on known numbers."""

import math

import pytest
import torch

from imitlab.losses.bc import bc_discrete_loss


def test_bc_losses():
    logits = torch.tensor([[10.0, -10.0], [0.0, 0.0]])
    assert bc_discrete_loss(logits, torch.tensor([0, 1])).item() == pytest.approx(math.log(2) / 2, rel=1e-4)

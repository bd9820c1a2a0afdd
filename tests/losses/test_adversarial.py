"""imitlab.losses.adversarial on known numbers."""

import math

import pytest
import torch

from imitlab.losses.adversarial import (
    REWARD_FORMS,
    absorbing_tail,
    discriminator_loss,
    gail_reward,
)


@pytest.mark.parametrize("form", REWARD_FORMS)
def test_reward_forms_are_finite_at_extreme_logits(form):
    logits = torch.tensor([-50.0, -5.0, 0.0, 5.0, 50.0])
    r = gail_reward(logits, form)
    assert torch.isfinite(r).all()
    assert (r[1:] >= r[:-1]).all()  # more expert-like, more reward


def test_reward_forms_signs_and_values():
    logits = torch.tensor([-50.0, -2.0, 0.0, 2.0, 50.0])
    d = torch.sigmoid(logits.double())
    pos = gail_reward(logits, "positive")
    neg = gail_reward(logits, "negative")
    assert (pos > 0).all() and (neg < 0).all()
    torch.testing.assert_close(pos[1:4].double(), -torch.log(1 - d[1:4]), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(neg[1:4].double(), torch.log(d[1:4]), rtol=1e-5, atol=1e-6)
    assert pos[0].item() == pytest.approx(0.0, abs=1e-20)
    assert pos[-1].item() == pytest.approx(50.0)
    assert neg[0].item() == pytest.approx(-50.0)
    torch.testing.assert_close(gail_reward(logits, "logit"), logits)
    torch.testing.assert_close(gail_reward(logits, "logit"), pos + neg)  # log D - log(1-D)
    with pytest.raises(ValueError):
        gail_reward(logits, "argmax")


def test_absorbing_tail_is_the_discounted_return_of_staying_absorbed():
    # From the terminal transition: r_abs at every later step, sum_{k>=1} gamma^k r_abs.
    # gamma = 0.9, r_abs = 2: 1.8 + 1.62 + ... = 18 (a factor 1 / (1 - gamma) would give 20).
    assert absorbing_tail(2.0, 0.9) == pytest.approx(18.0, rel=1e-12)
    assert absorbing_tail(-0.5, 0.99) == pytest.approx(-49.5, rel=1e-12)
    brute = sum(0.95**k * 0.3 for k in range(1, 2000))
    assert absorbing_tail(0.3, 0.95) == pytest.approx(brute, rel=1e-9)


def test_discriminator_loss_is_bce_with_expert_label_one():
    e = torch.tensor([2.0, 0.0])
    p = torch.tensor([-1.0])
    expected = -(math.log(torch.sigmoid(torch.tensor(2.0))) + math.log(0.5)) / 2 - math.log(1 - torch.sigmoid(torch.tensor(-1.0)))
    assert discriminator_loss(e, p).item() == pytest.approx(expected, rel=1e-6)
    # A perfect discriminator has a loss near 0, a confused one log 4.
    assert discriminator_loss(torch.tensor([30.0]), torch.tensor([-30.0])).item() < 1e-10
    assert discriminator_loss(torch.zeros(4), torch.zeros(4)).item() == pytest.approx(2 * math.log(2))

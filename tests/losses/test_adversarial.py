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


def test_airl_logit_on_known_numbers():
    from imitlab.losses import airl_logit

    g = torch.tensor([1.0, 1.0, 0.5])
    h = torch.tensor([2.0, 2.0, -1.0])
    h_next = torch.tensor([3.0, 3.0, 4.0])
    logp = torch.tensor([-0.5, -0.5, -2.0])
    cont = torch.tensor([1.0, 0.0, 1.0])  # the second s' is a true terminal state: h(s') does not count
    out = airl_logit(g, h, h_next, logp, 0.9, cont)
    # 1 + 0.9*3 - 2 + 0.5 ; 1 + 0 - 2 + 0.5 ; 0.5 + 0.9*4 + 1 + 2
    torch.testing.assert_close(out, torch.tensor([2.2, -0.5, 7.1]))


def test_airl_logit_is_the_log_odds_of_exp_f_against_pi():
    """D = exp(f) / (exp(f) + pi(a|s)) (Fu et al. 2018, eq. 4): the logit is log D - log(1 - D)."""
    from imitlab.losses import airl_logit

    f_parts = torch.tensor([0.3]), torch.tensor([0.1]), torch.tensor([-0.4])
    logp = torch.log(torch.tensor([0.25]))
    logit = airl_logit(*f_parts, logp, 0.99, torch.ones(1))
    f = 0.3 + 0.99 * -0.4 - 0.1
    d = math.exp(f) / (math.exp(f) + 0.25)
    assert float(logit) == pytest.approx(math.log(d) - math.log(1 - d), abs=1e-6)

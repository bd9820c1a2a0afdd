import math

import numpy as np
import pytest
import torch

from imitlab.losses import (
    REWARD_FORMS,
    absorbing_tail,
    bc_discrete_loss,
    discriminator_loss,
    gae,
    gail_reward,
    ppo_clip_loss,
)


def _gae_reference(rews, values, next_values, term, trunc, gamma, lam):
    """Per-env, per-episode GAE written the slow obvious way."""
    T, N = rews.shape
    adv = np.zeros((T, N))
    for n in range(N):
        for t in range(T):
            total, discount = 0.0, 1.0
            for k in range(t, T):
                boot = 0.0 if term[k, n] else next_values[k, n]
                delta = rews[k, n] + gamma * boot - values[k, n]
                total += discount * delta
                if term[k, n] or trunc[k, n]:
                    break
                discount *= gamma * lam
            adv[t, n] = total
    return adv


def test_gae_matches_reference_with_terminations_and_truncations():
    rng = np.random.default_rng(0)
    T, N = 12, 3
    rews = rng.normal(size=(T, N)).astype(np.float32)
    values = rng.normal(size=(T, N)).astype(np.float32)
    next_values = rng.normal(size=(T, N)).astype(np.float32)
    term = rng.random((T, N)) < 0.15
    trunc = (rng.random((T, N)) < 0.15) & ~term
    adv, ret = gae(rews, values, next_values, term, trunc, gamma=0.97, lam=0.9)
    ref = _gae_reference(rews, values, next_values, term, trunc, 0.97, 0.9)
    np.testing.assert_allclose(adv, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ret, adv + values, rtol=1e-6)


def test_gae_truncation_bootstraps_and_termination_does_not_across_an_autoreset():
    # One env, 3 steps: step 0 ends an episode, step 1 starts the next one (after autoreset).
    rews = np.array([[1.0], [1.0], [1.0]], np.float32)
    values = np.array([[0.0], [5.0], [0.0]], np.float32)
    next_values = np.array([[10.0], [0.0], [0.0]], np.float32)  # V(final obs of episode 1) = 10
    no = np.zeros((3, 1), bool)
    at0 = np.array([[True], [False], [False]])
    gamma, lam = 0.5, 1.0

    adv_trunc, _ = gae(rews, values, next_values, no, at0, gamma=gamma, lam=lam)
    adv_term, _ = gae(rews, values, next_values, at0, no, gamma=gamma, lam=lam)
    # Truncated: bootstrap from the final obs's value, nothing from the next episode (values[1] = 5).
    assert adv_trunc[0, 0] == pytest.approx(1.0 + gamma * 10.0)
    # Terminated: no bootstrap at all.
    assert adv_term[0, 0] == pytest.approx(1.0)
    # The next episode's first step is the same either way.
    assert adv_trunc[1, 0] == pytest.approx(adv_term[1, 0])


def test_ppo_clip_loss_clips_the_ratio_in_the_advantage_direction():
    old = torch.zeros(2)
    adv = torch.tensor([1.0, -1.0])
    # ratio e^1 > 1 + clip: the positive advantage is capped at (1 + clip); the negative one is not.
    logp = torch.ones(2)
    loss = ppo_clip_loss(logp, old, adv, clip=0.2)
    assert loss.item() == pytest.approx(-(1.2 * 1.0 + math.e * -1.0) / 2)


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


def test_bc_losses():
    logits = torch.tensor([[10.0, -10.0], [0.0, 0.0]])
    assert bc_discrete_loss(logits, torch.tensor([0, 1])).item() == pytest.approx(math.log(2) / 2, rel=1e-4)


def test_double_q_target_on_known_numbers():
    from imitlab.losses import double_q_target

    rews = torch.tensor([1.0, 1.0])
    term = torch.tensor([0.0, 1.0])
    online = torch.tensor([[1.0, 2.0], [5.0, 0.0]])  # picks action 1, then action 0
    target = torch.tensor([[10.0, 20.0], [30.0, 40.0]])
    torch.testing.assert_close(double_q_target(rews, term, online, target, 0.5), torch.tensor([11.0, 1.0]))


def test_huber_td_loss_is_quadratic_then_linear():
    from imitlab.losses import huber_td_loss

    torch.testing.assert_close(huber_td_loss(torch.tensor([0.5]), torch.tensor([0.0])), torch.tensor(0.125))
    torch.testing.assert_close(huber_td_loss(torch.tensor([3.0]), torch.tensor([0.0])), torch.tensor(2.5))


def test_sac_losses_on_known_numbers():
    from imitlab.losses import sac_actor_loss, sac_alpha_loss, sac_q_target

    alpha = torch.tensor(0.5)
    got = sac_q_target(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0]), torch.tensor([4.0, 4.0]), torch.tensor([-2.0, -2.0]), alpha, 0.9)
    torch.testing.assert_close(got, torch.tensor([1.0 + 0.9 * 5.0, 1.0]))
    torch.testing.assert_close(sac_actor_loss(torch.tensor([2.0, 4.0]), torch.tensor([-1.0, 1.0]), alpha), torch.tensor(-3.0))
    log_alpha = torch.tensor(0.0, requires_grad=True)
    loss = sac_alpha_loss(log_alpha, torch.tensor([-0.5, -1.5]), target_entropy=-1.0)
    loss.backward()
    # entropy 1.0 is above the target -1: the gradient step lowers alpha
    assert log_alpha.grad > 0


def test_aggrevated_losses_on_known_numbers():
    from imitlab.losses import aggrevated_continuous_loss, aggrevated_discrete_loss, normalize_advantages

    logits = torch.log(torch.tensor([[0.25, 0.75], [0.5, 0.5]]))
    q = torch.tensor([[4.0, 8.0], [-2.0, 2.0]])
    # -(0.25*4 + 0.75*8) = -7 and -(0.5*-2 + 0.5*2) = 0
    torch.testing.assert_close(aggrevated_discrete_loss(logits, q), torch.tensor(-3.5))
    # A per-state shift of Q leaves the gradient unchanged (sum_a pi = 1).
    l1 = logits.clone().requires_grad_(True)
    l2 = logits.clone().requires_grad_(True)
    aggrevated_discrete_loss(l1, q).backward()
    aggrevated_discrete_loss(l2, q - q.mean(1, keepdim=True)).backward()
    torch.testing.assert_close(l1.grad, l2.grad)
    torch.testing.assert_close(aggrevated_continuous_loss(torch.tensor([-1.0, -2.0]), torch.tensor([1.0, -1.0])), torch.tensor(-0.5))
    adv = normalize_advantages(torch.tensor([1.0, -1.0, 3.0, -3.0]))
    torch.testing.assert_close(adv.std(), torch.tensor(1.0))

"""imitlab.losses.soft_q on known numbers."""

import torch


def test_sac_losses_on_known_numbers():
    from imitlab.losses.soft_q import sac_actor_loss, sac_alpha_loss, sac_q_target

    alpha = torch.tensor(0.5)
    got = sac_q_target(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0]), torch.tensor([4.0, 4.0]), torch.tensor([-2.0, -2.0]), alpha, 0.9)
    torch.testing.assert_close(got, torch.tensor([1.0 + 0.9 * 5.0, 1.0]))
    torch.testing.assert_close(sac_actor_loss(torch.tensor([2.0, 4.0]), torch.tensor([-1.0, 1.0]), alpha), torch.tensor(-3.0))
    log_alpha = torch.tensor(0.0, requires_grad=True)
    loss = sac_alpha_loss(log_alpha, torch.tensor([-0.5, -1.5]), target_entropy=-1.0)
    loss.backward()
    # entropy 1.0 is above the target -1: the gradient step lowers alpha
    assert log_alpha.grad > 0


def test_soft_value_is_the_temperature_scaled_logsumexp():
    from imitlab.losses import soft_value

    q = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    torch.testing.assert_close(soft_value(q, 0.5), 0.5 * torch.log(torch.exp(q / 0.5).sum(-1)))
    # as the temperature falls, the soft value approaches the max
    torch.testing.assert_close(soft_value(q, 1e-3), torch.tensor([2.0, 1e-3 * torch.log(torch.tensor(2.0))]))


def test_soft_td_target_bootstraps_only_where_the_episode_goes_on():
    from imitlab.losses import soft_td_target

    got = soft_td_target(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0]), torch.tensor([3.0, 3.0]), 0.9)
    torch.testing.assert_close(got, torch.tensor([1.0 + 0.9 * 3.0, 1.0]))


def test_iq_learn_loss_on_known_numbers_and_its_gradient_signs():
    from imitlab.losses import iq_learn_loss

    expert_r = torch.tensor([1.0, 3.0], requires_grad=True)
    gap = torch.tensor([0.5, 1.5, 2.5], requires_grad=True)
    reg = torch.tensor([1.0, 2.0])
    loss = iq_learn_loss(expert_r, gap, reg, chi2_alpha=0.5)
    # -mean(1, 3) + mean(0.5, 1.5, 2.5) + mean(1, 4) / 2
    torch.testing.assert_close(loss, torch.tensor(-2.0 + 1.5 + 1.25))
    loss.backward()
    assert (expert_r.grad < 0).all()  # descending raises the expert's implied reward
    assert (gap.grad > 0).all()  # and lowers the value of the states visited

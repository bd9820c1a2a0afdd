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

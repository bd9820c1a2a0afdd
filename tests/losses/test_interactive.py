"""imitlab.losses.interactive on known numbers."""

import torch


def test_aggrevated_losses_on_known_numbers():
    from imitlab.losses.interactive import aggrevated_continuous_loss, aggrevated_discrete_loss
    from imitlab.losses.returns import normalize_advantages

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

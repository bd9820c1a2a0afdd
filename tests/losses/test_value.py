"""imitlab.losses.value on known numbers."""

import torch


def test_double_q_target_on_known_numbers():
    from imitlab.losses.value import double_q_target

    rews = torch.tensor([1.0, 1.0])
    term = torch.tensor([0.0, 1.0])
    online = torch.tensor([[1.0, 2.0], [5.0, 0.0]])  # picks action 1, then action 0
    target = torch.tensor([[10.0, 20.0], [30.0, 40.0]])
    torch.testing.assert_close(double_q_target(rews, term, online, target, 0.5), torch.tensor([11.0, 1.0]))


def test_huber_td_loss_is_quadratic_then_linear():
    from imitlab.losses.value import huber_td_loss

    torch.testing.assert_close(huber_td_loss(torch.tensor([0.5]), torch.tensor([0.0])), torch.tensor(0.125))
    torch.testing.assert_close(huber_td_loss(torch.tensor([3.0]), torch.tensor([0.0])), torch.tensor(2.5))

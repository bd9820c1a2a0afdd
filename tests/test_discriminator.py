import gymnasium as gym
import numpy as np
import torch

from imitlab.discriminator import Discriminator


def _encoded_actions(action_space, acts):
    obs_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    disc = Discriminator(obs_space, action_space)
    x = disc.encode(torch.zeros(len(acts), 2), torch.as_tensor(acts, dtype=torch.float32))
    return x[:, 2:]


def test_finite_bounds_are_scaled_to_unit_range_and_clamped():
    space = gym.spaces.Box(np.array([0.0, -2.0], np.float32), np.array([4.0, 2.0], np.float32))
    a = _encoded_actions(space, [[0.0, -2.0], [2.0, 1.0], [4.0, 2.0], [9.0, -7.0]])
    torch.testing.assert_close(a, torch.tensor([[-1.0, -1.0], [0.0, 0.5], [1.0, 1.0], [1.0, -1.0]]))


def test_infinite_bounds_pass_actions_through_unchanged_per_dimension():
    # dims: unbounded, bounded below only, bounded above only, bounded in [-2, 2]
    low = np.array([-np.inf, 0.0, -np.inf, -2.0], np.float32)
    high = np.array([np.inf, np.inf, 1.0, 2.0], np.float32)
    acts = [[5.0, -3.0, 7.0, 1.0], [-40.0, 12.0, -0.5, -6.0]]
    a = _encoded_actions(gym.spaces.Box(low, high), acts)
    # The old encoder clamped every dimension to [-1, 1], so 5, -3, 7, -40 and 12 all read as +-1.
    torch.testing.assert_close(a, torch.tensor([[5.0, -3.0, 7.0, 0.5], [-40.0, 12.0, -0.5, -1.0]]))


def test_the_limit_is_not_part_of_the_saved_state():
    # Discriminators saved in checkpoints before the limit existed still load.
    space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
    disc = Discriminator(gym.spaces.Box(-1.0, 1.0, (2,), np.float32), space)
    assert "act_limit" not in disc.state_dict()
    Discriminator(gym.spaces.Box(-1.0, 1.0, (2,), np.float32), space).load_state_dict(disc.state_dict())


def test_inputs_read_the_pairs_and_absorbing_flags_of_a_batch_and_nothing_else():
    from imitlab.discriminator import AdversarialDiscriminator, DiscriminatorBatch

    disc = Discriminator(gym.spaces.Box(-1.0, 1.0, (2,), np.float32), gym.spaces.Discrete(3), absorbing=True)
    assert isinstance(disc, AdversarialDiscriminator)
    obs, acts, flags = torch.tensor([[0.5, -0.5], [0.25, 1.0]]), torch.tensor([2, 0]), torch.tensor([False, True])
    x = disc.inputs(DiscriminatorBatch(obs, acts, next_obs=obs + 9, terminated=flags, logp=torch.ones(2), absorbing=flags))
    torch.testing.assert_close(x, torch.tensor([[0.5, -0.5, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]))
    torch.testing.assert_close(disc.logits(x), disc(obs, acts, flags))

"""The adversarial core on known numbers: the discriminator step and round, the rewards and their
scaling, the absorbing tail, discriminator health; and that an AIRL-shaped discriminator and a
DAC replay batch go through the same functions."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from imitlab.algorithms.adversarial.common import (
    ExpertInputs,
    RewardScaler,
    add_absorbing_tail,
    discriminator_health,
    discriminator_round,
    discriminator_step,
    expert_inputs,
    imitation_rewards,
    replay_reward_fn,
    rollout_pairs,
)
from imitlab.discriminator import AdversarialDiscriminator, Discriminator, DiscriminatorBatch


class LinearDiscriminator(nn.Module):
    """logit = w . obs + b: every number below can be worked out by hand."""

    absorbing = True

    def __init__(self, w, b=0.0):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float32))
        self.b = nn.Parameter(torch.tensor(float(b)))
        self.calls = []

    def inputs(self, batch):
        return batch.obs.float()

    def logits(self, x):
        if torch.is_grad_enabled():
            self.calls.append(x.detach().clone())
        return x @ self.w + self.b

    def absorbing_input(self, n):
        return torch.full((n, len(self.w)), 0.5)


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


EXPERT_X = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
POLICY_X = torch.tensor([[0.0, 2.0], [0.0, 4.0]])


def test_a_step_from_zero_logits_moves_toward_the_expert_by_the_cross_entropy_gradient():
    disc = LinearDiscriminator([0.0, 0.0])
    loss = discriminator_step(disc, torch.optim.SGD(disc.parameters(), lr=1.0), EXPERT_X, POLICY_X)
    assert float(loss) == pytest.approx(2 * math.log(2))
    # d/dw = mean((D - 1) x_expert) + mean(D x_policy) at D = 1/2: (-1, 0) + (0, 1.5).
    torch.testing.assert_close(disc.w.detach(), torch.tensor([1.0, -1.5]))
    assert float(disc.b.detach()) == 0.0  # the two halves' pulls on the bias cancel


def test_the_entropy_bonus_lowers_the_loss_by_its_weight_times_the_entropy():
    disc = LinearDiscriminator([0.0, 0.0])
    loss = discriminator_step(disc, torch.optim.SGD(disc.parameters(), lr=1.0), EXPERT_X, POLICY_X, entropy_bonus=0.1)
    assert float(loss) == pytest.approx(2 * math.log(2) - 0.1 * math.log(2))
    # The entropy is flat at logit 0: the step is the plain one.
    torch.testing.assert_close(disc.w.detach(), torch.tensor([1.0, -1.5]))


def test_the_gradient_penalty_adds_its_weight_times_the_squared_excess_gradient_norm():
    # A linear critic's gradient is w everywhere, |w| = 5: a penalty of (5 - 1)^2 = 16 at any interpolate.
    disc = LinearDiscriminator([3.0, 4.0])
    lr = 0.01
    loss = discriminator_step(disc, torch.optim.SGD(disc.parameters(), lr=lr), EXPERT_X, POLICY_X, grad_penalty=10.0,
                              generator=torch.Generator().manual_seed(0))
    e, p = [3.0, 9.0], [8.0, 16.0]  # the logits
    bce = sum(math.log1p(math.exp(-z)) for z in e) / 2 + sum(math.log1p(math.exp(z)) for z in p) / 2
    assert float(loss) == pytest.approx(bce + 10.0 * 16, rel=1e-6)
    grad_bce = [(sum((_sigmoid(z) - 1) * x[i] for z, x in zip(e, EXPERT_X.tolist()))
                 + sum(_sigmoid(z) * x[i] for z, x in zip(p, POLICY_X.tolist()))) / 2 for i in range(2)]
    grad_gp = [10.0 * 2 * (5 - 1) * w / 5 for w in (3.0, 4.0)]
    want = [w - lr * (g + h) for w, g, h in zip((3.0, 4.0), grad_bce, grad_gp)]
    torch.testing.assert_close(disc.w.detach(), torch.tensor(want), rtol=1e-5, atol=1e-5)


def test_a_round_passes_over_the_policy_rows_in_minibatches_against_as_many_expert_draws():
    disc = LinearDiscriminator([0.0, 0.0])
    policy_x = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    expert_x = torch.tensor([[100.0, 0.0], [200.0, 0.0], [300.0, 0.0]])
    rng = np.random.default_rng(4)
    discriminator_round(disc, torch.optim.SGD(disc.parameters(), lr=0.0), policy_x, ExpertInputs(expert_x, None), rng,
                        epochs=2, minibatch_size=4)
    expert_seen, policy_seen = disc.calls[0::2], disc.calls[1::2]
    assert [len(x) for x in policy_seen] == [4, 4, 2, 4, 4, 2]
    assert [len(x) for x in expert_seen] == [4, 4, 2, 4, 4, 2]
    # Each pass shows every policy row once, in the order of one permutation per pass, and the
    # expert rows are drawn after each minibatch's slice: the numbers a run's seed has always given.
    want = np.random.default_rng(4)
    for epoch in range(2):
        perm = want.permutation(10)
        rows = torch.cat(policy_seen[3 * epoch : 3 * epoch + 3])
        torch.testing.assert_close(rows, policy_x[perm])
        for k, size in enumerate((4, 4, 2)):
            torch.testing.assert_close(expert_seen[3 * epoch + k], expert_x[want.integers(3, size=size)])


def test_a_round_draws_expert_rows_with_their_probabilities():
    disc = LinearDiscriminator([0.0, 0.0])
    expert_x = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    discriminator_round(disc, torch.optim.SGD(disc.parameters(), lr=0.0), torch.zeros(8, 2),
                        ExpertInputs(expert_x, np.array([0.0, 0.0, 1.0])), np.random.default_rng(0), epochs=3, minibatch_size=3)
    assert (torch.cat(disc.calls[0::2])[:, 0] == 3.0).all()


def test_the_reward_scaler_divides_by_the_running_rms_and_restores_from_its_state():
    scaler = RewardScaler()
    assert scaler.update(np.array([1.0, -1.0, 1.0, -1.0])) == pytest.approx(1.0)
    # Running mean square over all 6 rewards: (4 * 1 + 2 * 9) / 6.
    assert scaler.update(np.array([3.0, 3.0])) == pytest.approx(1 / math.sqrt(22 / 6))
    assert scaler.state_dict() == {"reward_sq_mean": pytest.approx(22 / 6), "reward_count": 6}
    restored = RewardScaler()
    restored.load_state_dict(scaler.state_dict())
    assert restored.update(np.array([0.0, 0.0])) == scaler.update(np.array([0.0, 0.0]))


def test_imitation_rewards_scale_the_absorbing_reward_with_the_pairs_and_keep_the_sign():
    disc = LinearDiscriminator([1.0, 1.0])  # the absorbing row (0.5, 0.5) has logit 1
    logits = torch.tensor([[2.0, -2.0], [2.0, -2.0]])
    rewards, r_abs = imitation_rewards(disc, logits, "logit", absorbing=True)
    assert rewards.dtype == np.float64 and rewards.shape == (2, 2)
    np.testing.assert_array_equal(rewards, logits.numpy())
    assert r_abs == 1.0
    rewards, r_abs = imitation_rewards(disc, logits, "logit", absorbing=True, scaler=RewardScaler())  # rms 2
    np.testing.assert_allclose(rewards, logits.numpy() / 2)
    assert r_abs == pytest.approx(0.5)
    rewards, r_abs = imitation_rewards(disc, logits, "positive", absorbing=False)
    np.testing.assert_allclose(rewards, np.log1p(np.exp(logits.numpy())), rtol=1e-6)
    assert r_abs == 0.0 and (rewards > 0).all()


def test_the_absorbing_tail_is_added_at_terminations_only():
    rewards = add_absorbing_tail(np.array([1.0, 2.0]), np.array([False, True]), r_absorbing=0.5, gamma=0.9)
    np.testing.assert_allclose(rewards, [1.0, 2.0 + 0.9 / 0.1 * 0.5])


def test_health_weights_the_expert_side_as_it_is_drawn():
    stats = discriminator_health(torch.tensor([1.0, -1.0, 2.0]), torch.tensor([-1.0, 1.0]), np.array([0.5, 0.25, 0.25]))
    assert stats == pytest.approx({"disc_expert_acc": 0.75, "disc_expert_logit": 0.75,
                                   "disc_policy_acc": 0.5, "disc_policy_logit": 0.0})
    assert discriminator_health(torch.tensor([1.0, -1.0, 2.0]), torch.tensor([-1.0]))["disc_expert_acc"] == pytest.approx(2 / 3)


def test_dac_relabels_a_replay_batch_and_trains_on_it_with_the_same_step():
    """Off-policy (DAC): the rewards of a replay minibatch are read from the current
    discriminator when it is sampled, with the absorbing tail at true terminations."""
    from imitlab.envs import env_spaces
    from imitlab.rl.replay import ReplayBatch

    disc = Discriminator(*env_spaces("Pendulum-v1"), absorbing=True)
    g = torch.Generator().manual_seed(0)
    batch = ReplayBatch(obs=torch.randn(6, 3, generator=g), acts=torch.rand(6, 1, generator=g) * 4 - 2,
                        next_obs=torch.randn(6, 3, generator=g), terminated=torch.tensor([0.0, 0, 1, 0, 0, 1]))
    reward_fn = replay_reward_fn(disc, "logit", absorbing=True, gamma=0.5)
    with torch.no_grad():
        logits = disc(batch.obs, batch.acts)
        r_abs = disc.logits(disc.absorbing_input(1))
    torch.testing.assert_close(reward_fn(batch), logits + batch.terminated * r_abs)  # gamma / (1 - gamma) = 1
    expert_x = disc.inputs(DiscriminatorBatch(torch.zeros(6, 3), torch.zeros(6, 1)))
    before = [p.detach().clone() for p in disc.parameters()]
    discriminator_step(disc, torch.optim.Adam(disc.parameters()), expert_x, disc.inputs(DiscriminatorBatch(batch.obs, batch.acts)),
                       grad_penalty=10.0, generator=g)
    assert all(not torch.equal(a, b) for a, b in zip(before, disc.parameters()))
    assert not torch.equal(reward_fn(batch), logits + batch.terminated * r_abs)  # relabelled by the new weights


class ShapedDiscriminator(nn.Module):
    """AIRL's discriminator in miniature (Fu et al. 2018): logit = f(s, a, s') - log pi(a|s), with
    f = g(s) + gamma h(s') - h(s) and h(s') = 0 after a true termination. Its input rows carry s,
    s', whether s' lives on, and log pi(a|s)."""

    absorbing = False

    def __init__(self, obs_dim, gamma):
        super().__init__()
        self.d, self.gamma = obs_dim, gamma
        self.g, self.h = nn.Linear(obs_dim, 1), nn.Linear(obs_dim, 1)

    def inputs(self, batch):
        alive = 1.0 - batch.terminated.float()
        return torch.cat([batch.obs, batch.next_obs, alive[:, None], batch.logp[:, None]], -1)

    def logits(self, x):
        d = self.d
        s, s_next, alive, logp = x[:, :d], x[:, d : 2 * d], x[:, 2 * d], x[:, 2 * d + 1]
        f = self.g(s).squeeze(-1) + self.gamma * alive * self.h(s_next).squeeze(-1) - self.h(s).squeeze(-1)
        return f - logp

    def absorbing_input(self, n):
        raise NotImplementedError


def test_an_airl_discriminator_goes_through_the_same_round_and_reward():
    from imitlab.data.demos import Transitions
    from imitlab.sampling import Batch

    torch.manual_seed(0)
    disc = ShapedDiscriminator(obs_dim=2, gamma=0.9)
    assert isinstance(disc, AdversarialDiscriminator)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(4, 8, 2)).astype(np.float32)  # [T, N, d] as the sampler gives them
    next_obs = rng.normal(size=(4, 8, 2)).astype(np.float32)
    terminated = rng.random((4, 8)) < 0.2
    terminated[0, 0] = True
    batch = Batch(obs=obs, acts=np.zeros((4, 8), np.int64), logp=np.full((4, 8), -0.5, np.float32),
                  rews=np.zeros((4, 8), np.float32), terminated=terminated, truncated=np.zeros((4, 8), bool),
                  next_obs=next_obs, episode_returns=np.zeros(0), episode_lengths=np.zeros(0, np.int64))
    pairs = rollout_pairs(batch)
    policy_x = disc.inputs(pairs)
    # After a true termination h(s') is 0: the logit does not depend on s'.
    moved = disc.inputs(DiscriminatorBatch(pairs.obs, pairs.acts, pairs.next_obs + 5.0, pairs.terminated, pairs.logp))
    with torch.no_grad():
        same = disc.logits(policy_x) == disc.logits(moved)
    assert torch.equal(same, pairs.terminated)
    # The expert's inputs carry the current policy's log pi(a|s) at the expert pairs.
    trans = Transitions(obs=rng.normal(3.0, 1.0, size=(16, 2)).astype(np.float32), acts=np.zeros(16, np.int64),
                        next_obs=rng.normal(3.0, 1.0, size=(16, 2)).astype(np.float32), dones=np.zeros(16, bool))
    expert = expert_inputs(disc, trans, absorbing=False, logp=torch.full((16,), -0.25))
    assert expert.p is None and (expert.x[:, -1] == -0.25).all()
    opt = torch.optim.Adam(disc.parameters(), lr=1e-2)
    losses = [float(discriminator_round(disc, opt, policy_x, expert, rng, epochs=1, minibatch_size=16,
                                        grad_penalty=1.0, generator=torch.Generator().manual_seed(0)))
              for _ in range(30)]
    assert losses[-1] < losses[0] - 0.3  # it learns to tell the expert's states (around 3) from the policy's
    with torch.no_grad():
        rewards, _ = imitation_rewards(disc, disc.logits(policy_x).reshape(4, 8), "logit", absorbing=False)
    assert rewards.shape == (4, 8) and np.isfinite(rewards).all()

import numpy as np
import pytest
import torch

from imitlab.rl.replay import ProgressRows, ReplayBatch, ReplayBuffer


def _filled(n=6, capacity=10, rewards=True, seed=0):
    buf = ReplayBuffer(capacity, (2,), (1,), np.float32, seed=seed, rewards=rewards)
    obs = np.arange(2 * n, dtype=np.float32).reshape(n, 2)  # row i holds 2i, 2i+1
    kw = {"rews": np.arange(n, dtype=np.float32) * 10} if rewards else {}
    buf.add(obs, obs[:, :1] * -1, obs + 100, (np.arange(n) % 3 == 0).astype(np.float32), **kw)
    return buf


def test_sample_gives_a_batch_of_whole_transitions():
    batch = _filled().sample(32)
    assert isinstance(batch, ReplayBatch) and len(batch) == 32
    row = batch.obs[:, 0] / 2  # which stored transition each row is
    torch.testing.assert_close(batch.acts[:, 0], -batch.obs[:, 0])
    torch.testing.assert_close(batch.next_obs, batch.obs + 100)
    torch.testing.assert_close(batch.rews, row * 10)
    torch.testing.assert_close(batch.terminated, (row % 3 == 0).float())
    np.testing.assert_array_equal(batch.indices, row.numpy().astype(int))


def test_a_buffer_without_rewards_computes_them_at_sampling_time():
    buf = _filled(rewards=False)
    assert buf.sample(8).rews is None
    seen = []

    def reward_fn(batch):
        seen.append(batch.rews)
        return batch.obs[:, 1] - batch.obs[:, 0] + batch.terminated  # 1, or 2 on terminal transitions

    batch = buf.sample(64, reward_fn=reward_fn)
    assert seen == [None]
    torch.testing.assert_close(batch.rews, 1 + batch.terminated)


def test_reward_fn_replaces_the_stored_rewards_and_sees_them():
    batch = _filled().sample(16, reward_fn=lambda b: b.rews + 1)
    torch.testing.assert_close(batch.rews, batch.obs[:, 0] / 2 * 10 + 1)


def test_rewards_are_given_exactly_when_the_buffer_stores_them():
    obs = np.zeros((1, 2), np.float32)
    with pytest.raises(ValueError, match="give rews"):
        ReplayBuffer(4, (2,), (1,), np.float32, seed=0).add(obs, obs[:, :1], obs, np.zeros(1))
    with pytest.raises(ValueError, match="stores no rewards"):
        ReplayBuffer(4, (2,), (1,), np.float32, seed=0, rewards=False).add(obs, obs[:, :1], obs, np.zeros(1), rews=np.ones(1))


def test_rewards_of_the_wrong_shape_are_refused():
    # A [B, 1] reward would broadcast against the [B] terminals into a [B, B] target.
    with pytest.raises(ValueError, match=r"shape \(8,\)"):
        _filled(rewards=False).sample(8, reward_fn=lambda b: torch.zeros(8, 1))
    with pytest.raises(ValueError, match="no rewards"):
        _filled(rewards=False).sample(4).require_rewards()


def test_the_ring_overwrites_the_oldest():
    buf = _filled(n=7, capacity=5)
    assert len(buf) == 5 and buf.pos == 2
    assert sorted(buf.obs[:, 0] / 2) == [2, 3, 4, 5, 6]


@pytest.mark.parametrize("rewards", [True, False])
def test_state_dict_round_trip_continues_the_same_samples(rewards):
    a = _filled(n=4, capacity=10, rewards=rewards)
    state = a.state_dict()
    assert state["obs"].shape == (4, 2)  # only the filled part is saved
    b = ReplayBuffer(10, (2,), (1,), np.float32, seed=99, rewards=rewards)
    b.load_state_dict(state)
    x, y = a.sample(16), b.sample(16)
    for name in ("obs", "acts", "rews", "next_obs", "terminated"):
        if rewards or name != "rews":
            assert torch.equal(getattr(x, name), getattr(y, name))
    with pytest.raises(ValueError, match="store rewards"):
        ReplayBuffer(10, (2,), (1,), np.float32, seed=0, rewards=not rewards).load_state_dict(state)


def test_batches_concatenate_with_or_without_rewards():
    a, b = _filled().sample(3), _filled().sample(5)
    both = ReplayBatch.cat([a, b])
    assert len(both) == 8 and both.indices is None
    torch.testing.assert_close(both.rews, torch.cat([a.rews, b.rews]))
    torch.testing.assert_close(both.next_obs, torch.cat([a.next_obs, b.next_obs]))
    assert ReplayBatch.cat([_filled(rewards=False).sample(2)] * 2).rews is None
    with pytest.raises(ValueError, match="relabel"):
        ReplayBatch.cat([a, _filled(rewards=False).sample(2)])
    relabelled = ReplayBatch.cat([a.with_rewards(torch.ones(3)), b.with_rewards(torch.zeros(5))])  # as SQIL
    assert relabelled.rews.tolist() == [1, 1, 1, 0, 0, 0, 0, 0]


def test_progress_rows_come_on_a_fixed_cadence_with_the_episodes_ended_between():
    rows = ProgressRows(num_envs=4, every=10)
    due = [s for s in range(4, 41, 4) if rows.due(s, 4, last=False)]
    assert due == [12, 20, 32, 40]  # the first step at or past each multiple of 10
    assert rows.due(6, 4, last=True)

    rows.record(np.ones(4), np.array([False, True, False, False]))
    rows.record(np.ones(4), np.array([True, False, False, True]))
    assert rows.row({"q_loss": 0.5}) == {"episode_return": (1 + 2 + 2) / 3, "episodes": 3, "q_loss": 0.5}
    # No episode ended since: the row holds the losses alone; the running returns carried on.
    assert rows.row({"q_loss": 0.25}) == {"q_loss": 0.25}
    rows.record(np.ones(4), np.ones(4, bool))
    assert rows.row({})["episode_return"] == pytest.approx((1 + 2 + 3 + 1) / 4)

import numpy as np

from imitlab.rl.normalization import ReturnScaler, RunningMeanStd


def test_running_mean_std_matches_the_whole_stream():
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 2)) for n in (1, 7, 50, 3)]
    rms = RunningMeanStd((2,), epsilon=1e-12)
    for b in batches:
        rms.update(b)
    data = np.concatenate(batches)
    np.testing.assert_allclose(rms.mean, data.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(rms.var, data.var(axis=0), rtol=1e-9)

    restored = RunningMeanStd((2,))
    restored.load_state_dict(rms.state_dict())
    np.testing.assert_array_equal(restored.mean, rms.mean)
    assert restored.count == rms.count


def test_return_scaler_divides_by_the_std_of_the_discounted_return():
    # One env, reward 1 every step, episodes of 2 steps, gamma 0.5: the returns seen are
    # 1, 1.5, 1, 1.5, ... whose std is 0.25, so every reward is scaled to 1 / 0.25 = 4.
    scaler = ReturnScaler(1, gamma=0.5, clip=10.0)
    rewards = np.ones((1000, 1), np.float32)
    dones = np.zeros((1000, 1), bool)
    dones[1::2] = True
    scaled = scaler(rewards, dones)
    np.testing.assert_allclose(scaled, 4.0, rtol=1e-3)
    # Signs are kept and large values are clipped.
    assert scaler(np.array([[-100.0]], np.float32), np.array([[True]]))[0, 0] == -10.0

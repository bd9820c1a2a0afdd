import numpy as np
import pytest

from imitlab.data.collect import collect_demos


@pytest.mark.parametrize("env_id, bound", [("Pendulum-v1", 2.0), ("MountainCarContinuous-v0", 1.0)])
def test_continuous_demos_record_the_clipped_action_the_env_executed(env_id, bound):
    # Pendulum-v1 runs on imitlab's numpy-batched env, MountainCarContinuous-v0 on gymnasium's.
    def overshooting(obs):  # float64 torques up to 2.5x the bound, of both signs
        return 2.5 * bound * np.sign(obs[:, 1:2] - 0.01)

    def within(obs):
        return np.clip(overshooting(obs), -bound, bound)

    raw = collect_demos(overshooting, env_id, episodes=2, seed=0)
    clipped = collect_demos(within, env_id, episodes=2, seed=0)
    acts = raw.to_transitions().acts
    assert acts.dtype == np.float32
    assert np.abs(acts).max() <= bound and set(np.unique(np.abs(acts))) == {bound}
    # What was recorded is what was executed: the same episodes as the expert that stayed in bounds.
    for a, b in zip(raw.trajectories, clipped.trajectories, strict=True):
        np.testing.assert_array_equal(a.acts, b.acts)
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.rews, b.rews)


def test_discrete_demos_are_unchanged(cartpole_demos):
    acts = cartpole_demos.to_transitions().acts
    assert acts.dtype.kind == "i" and set(np.unique(acts)) <= {0, 1}

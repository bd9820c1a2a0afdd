import pytest

from imitlab.algorithms.gail_offline import OfflineGAILConfig, train_gail_offline
from imitlab.errors import UserError
from imitlab.evaluation import evaluate


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_offline_gail_learns_from_expert_states_alone(cartpole_demos, seed):
    result = train_gail_offline(env_id="CartPole-v1", demos=cartpole_demos, seed=seed, eval_every=0, eval_episodes=5)
    # Random play scores ~20. Offline GAIL's ceiling is BC's (500 here); it gets most of the way.
    assert evaluate(result.policy, "CartPole-v1", episodes=50, seed=777).mean_return >= 200


def test_offline_gail_continuous_actions_follow_the_expert():
    import numpy as np

    from imitlab.data.collect import collect_demos

    demos = collect_demos(lambda obs: np.clip(-0.5 * obs[:, 2:3], -2, 2).astype(np.float32), "Pendulum-v1", episodes=4, seed=0)
    t = demos.to_transitions()
    result = train_gail_offline(env_id="Pendulum-v1", demos=demos, seed=0, config=OfflineGAILConfig(iterations=1500),
                                eval_every=0, eval_episodes=2)
    err = np.abs(result.policy.act(t.obs) - t.acts).mean()
    baseline = np.abs(t.acts - t.acts.mean()).mean()  # predicting the mean action
    assert err < 0.5 * baseline


def test_offline_gail_validates(cartpole_demos):
    with pytest.raises(UserError, match="iterations must be positive"):
        train_gail_offline(env_id="CartPole-v1", demos=cartpole_demos, config=OfflineGAILConfig(iterations=0))
    with pytest.raises(UserError, match="unknown reward form"):
        train_gail_offline(env_id="CartPole-v1", demos=cartpole_demos, config=OfflineGAILConfig(reward="x"))


def test_the_old_import_path_still_works():
    import imitlab.algorithms.adversarial.gail_offline as new
    import imitlab.algorithms.gail_offline as old

    assert (old.OfflineGAILConfig, old.train_gail_offline) == (new.OfflineGAILConfig, new.train_gail_offline)

"""The exact optimal expert of tabular envs (``--expert optimal``, and ``zoo`` where none is shipped)."""

import numpy as np
import pytest

from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import has_q, has_q_values, load_expert
from imitlab.experts.tabular import OptimalExpert

# The well-known optimal policy of the slippery 4x4 lake (0 left, 1 down, 2 right, 3 up); the
# holes and the goal (5, 7, 11, 12, 15) are never acted in.
FROZEN_LAKE_OPTIMUM = [0, 3, 3, 3, 0, None, 0, None, 3, 1, 0, None, None, 2, 1, None]


def test_frozen_lake_optimum():
    expert = OptimalExpert("FrozenLake-v1")
    acted = [s for s, a in enumerate(FROZEN_LAKE_OPTIMUM) if a is not None]
    assert expert.actions[acted].tolist() == [FROZEN_LAKE_OPTIMUM[s] for s in acted]
    obs = np.eye(16, dtype=np.float32)[acted]
    assert expert.act(obs).tolist() == expert.policy.act(obs).tolist() == expert.actions[acted].tolist()
    assert has_q(expert) and has_q_values(expert)
    q = expert.q_values(obs)
    assert q.shape == (len(acted), 4) and (q.argmax(1) == expert.act(obs)).all()
    assert expert.q(obs, expert.act(obs)) == pytest.approx(q.max(1))
    assert expert.optimal[6].tolist() == [True, False, True, False]  # state 6: left and right tie


def test_cliff_walking_expert_walks_the_edge():
    expert = OptimalExpert("CliffWalking-v1")
    result = evaluate(expert, "CliffWalking-v1", episodes=5, seed=0)
    assert result.mean_return == -13.0 and result.mean_length == 13.0


@pytest.mark.parametrize("spec", ["optimal", "zoo"])
def test_load_expert_gives_it_by_name(spec):
    """``optimal`` on any tabular env; ``zoo`` on a tabular env without a shipped expert file."""
    expert = load_expert(spec, "GridWorld-v0")
    assert isinstance(expert, OptimalExpert)
    assert evaluate(expert, "GridWorld-v0", episodes=3, seed=0).mean_return == pytest.approx(0.4)


def test_optimal_on_an_env_without_tabular_dynamics_is_a_user_error():
    with pytest.raises(UserError, match="CartPole-v1 has no known tabular dynamics"):
        load_expert("optimal", "CartPole-v1")

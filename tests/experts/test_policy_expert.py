"""PolicyExpert: an imitlab policy with its critic, asked for Q* on numpy batches."""

import numpy as np
import pytest

from imitlab.errors import UserError
from imitlab.experts import PolicyExpert, has_q, load_expert


def test_a_continuous_experts_twin_critic_gives_q_but_refuses_q_values():
    expert = load_expert("zoo", "Pendulum-v1")  # a SAC actor with its TwinQ
    assert isinstance(expert, PolicyExpert) and has_q(expert)
    obs = np.random.default_rng(0).normal(0, 0.5, (5, 3)).astype(np.float32)
    assert expert.q(obs, np.zeros((5, 1), np.float32)).shape == (5,)
    with pytest.raises(UserError, match=r"has continuous actions: ask q\(obs, act\), not q_values\(obs\)"):
        expert.q_values(obs)

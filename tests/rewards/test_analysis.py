import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from imitlab.data.demos import Demonstrations, Trajectory
from imitlab.envs.spaces import describe_space
from imitlab.errors import UserError
from imitlab.rewards import load_reward, save_reward
from imitlab.rewards.analysis import pearson, ranks, reward_correlation, spearman
from imitlab.rewards.linear import LinearReward


def test_pearson_and_spearman_against_known_numbers():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([2.0, 1.0, 4.0, 3.0, 7.0])
    assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    # ranks of y: 1, 0, 3, 2, 4 -> Spearman 1 - 6 * sum(d^2) / (n (n^2 - 1)) = 1 - 6 * 4 / 120
    assert spearman(x, y) == pytest.approx(0.8)
    assert spearman(x, x**3) == pytest.approx(1.0)  # monotone: rank correlation 1, Pearson below
    assert pearson(x, x**3) < 0.99
    assert pearson(x, -2 * x + 1) == pytest.approx(-1.0)
    np.testing.assert_allclose(ranks(np.array([1.0, 2.0, 2.0, 3.0])), [0.0, 1.5, 1.5, 3.0])
    assert pearson(x, np.ones(5)) is None and spearman(np.ones(5), x) is None
    assert pearson(x[:1], x[:1]) is None


class PendulumCost(nn.Module):
    """Pendulum-v1's own reward, -(theta^2 + 0.1 thetadot^2 + 0.001 u^2), times ``sign``."""

    state_only = False

    def __init__(self, sign: float = 1.0) -> None:
        super().__init__()
        self.sign = sign

    def forward(self, obs: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
        theta = torch.atan2(obs[:, 1], obs[:, 0])
        u = acts.reshape(len(acts), -1)[:, 0].clamp(-2.0, 2.0)
        return self.sign * -(theta**2 + 0.1 * obs[:, 2] ** 2 + 0.001 * u**2)


def test_the_true_reward_correlates_perfectly_on_random_and_expert_transitions():
    from imitlab.sampling import run_episodes

    space = gym.make("Pendulum-v1").action_space
    space.seed(0)
    eps = run_episodes(lambda obs: np.stack([space.sample() for _ in obs]), "Pendulum-v1", 2, seed=0, record=True)
    obs_space, act_space = gym.make("Pendulum-v1").observation_space, space
    demos = Demonstrations(eps.trajectories, "Pendulum-v1", describe_space(obs_space), describe_space(act_space))
    out = reward_correlation(PendulumCost(), "Pendulum-v1", demos, seed=0, random_steps=800)
    assert out["expert"]["transitions"] == 400 and out["random"]["transitions"] == 800
    assert out["all"]["transitions"] == 1200
    for key in ("expert", "random", "all"):
        assert out[key]["pearson"] == pytest.approx(1.0, abs=1e-5)
        assert out[key]["spearman"] == pytest.approx(1.0, abs=1e-5)
    flipped = reward_correlation(PendulumCost(-1.0), "Pendulum-v1", None, seed=0, random_steps=800)
    assert flipped["random"]["pearson"] == pytest.approx(-1.0, abs=1e-5)
    assert flipped["expert"] is None  # no demos, no expert entry
    assert flipped["all"]["transitions"] == 800


class Constant(nn.Module):
    state_only = True

    def forward(self, obs: torch.Tensor, acts: torch.Tensor) -> torch.Tensor:
        return -torch.ones(len(obs))


def _acrobot_like_demos() -> Demonstrations:
    """Two terminated episodes whose env reward is -1 a step and 0 on the step that reaches the goal."""
    obs_space, act_space = gym.spaces.Box(-1, 1, (2,), np.float32), gym.spaces.Discrete(2)
    trajs = []
    for T in (3, 5):
        rews = -np.ones(T, np.float32)
        rews[-1] = 0.0
        trajs.append(Trajectory(obs=np.zeros((T + 1, 2), np.float32), acts=np.zeros(T, np.int64), rews=rews, terminated=True))
    return Demonstrations(trajs, "Acrobot-v1", describe_space(obs_space), describe_space(act_space))


def test_the_terminal_bonus_is_part_of_a_transition_s_learned_reward():
    demos = _acrobot_like_demos()
    # a constant reward says nothing: undefined, and said so
    flat = reward_correlation(Constant(), "Acrobot-v1", demos, random_steps=0)
    assert flat["expert"]["pearson"] is None and "learned reward is constant" in flat["expert"]["note"]
    assert flat["random"] is None
    # -1 a step plus 1 at the termination is the env's reward exactly
    out = reward_correlation(Constant(), "Acrobot-v1", demos, random_steps=0, terminal_bonus=1.0)
    assert out["expert"]["pearson"] == pytest.approx(1.0) and out["terminal_bonus"] == 1.0
    assert out["expert"]["transitions"] == 8


def test_a_constant_true_reward_gives_no_number(cartpole_demos):
    out = reward_correlation(Constant(), "CartPole-v1", cartpole_demos, random_steps=100)
    assert out["expert"]["pearson"] is None and "true reward" in out["expert"]["note"]
    assert out["random"]["transitions"] == 104  # 13 steps of 8 envs


def test_a_loaded_reward_brings_its_terminal_bonus_and_is_checked_against_the_env(tmp_path):
    obs_space, act_space = gym.spaces.Box(-np.inf, np.inf, (6,), np.float32), gym.spaces.Discrete(3)
    r = LinearReward(obs_space, act_space, n_fourier=8)
    w = np.zeros(r.feature_dim)
    w[-1] = 0.5
    r.set_weight(w)
    save_reward(r, tmp_path / "reward.pt", env_id="Acrobot-v1", obs_space=obs_space, act_space=act_space,
                absorbing_reward=0.5, gamma=0.9)
    loaded = load_reward(tmp_path)
    out = reward_correlation(loaded, "Acrobot-v1", None, random_steps=16)
    assert out["terminal_bonus"] == pytest.approx(0.9 / 0.1 * 0.5)
    with pytest.raises(UserError, match="learned on Acrobot-v1, not CartPole-v1"):
        reward_correlation(loaded, "CartPole-v1", None, random_steps=16)

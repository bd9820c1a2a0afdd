import numpy as np
import pytest
import torch

from imitlab.algorithms.aggrevated import AggreVaTeDConfig, train_aggrevated
from imitlab.defaults import aggrevated_config
from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import load_expert
from imitlab.experts.montecarlo import monte_carlo_q


@pytest.fixture(scope="module")
def dqn_expert():
    return load_expert("zoo:dqn", "CartPole-v1")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aggrevated_with_the_dqn_critic_reaches_475_on_cartpole(dqn_expert, seed):
    result = train_aggrevated(env_id="CartPole-v1", expert=dqn_expert, total_steps=6_000, seed=seed,
                              config=aggrevated_config("CartPole-v1"), eval_every=0, eval_episodes=1)
    assert evaluate(result.policy, "CartPole-v1", episodes=50, seed=777).mean_return >= 475


def test_aggrevated_with_monte_carlo_q_of_a_critic_less_expert():
    ppo = load_expert("zoo", "CartPole-v1")  # a PPO policy: no critic, so Q* by roll-outs
    result = train_aggrevated(env_id="CartPole-v1", expert=ppo, total_steps=6_000, seed=0, eval_every=0, eval_episodes=1)
    assert evaluate(result.policy, "CartPole-v1", episodes=50, seed=777).mean_return >= 475


def test_monte_carlo_q_is_the_discounted_return_of_the_expert():
    # Pendulum with zero torque from a restored state: compare with stepping one env by hand.
    from imitlab.envs import make_vec_env

    zero = lambda obs: np.zeros((len(obs), 1), np.float32)  # noqa: E731
    states = np.array([[0.5, 0.0], [3.0, -1.0]])
    q, steps = monte_carlo_q("Pendulum-v1", states, np.zeros((2, 1), np.float32), zero, gamma=0.9, horizon=5)
    venv = make_vec_env("Pendulum-v1", 2)
    venv.reset(seed=0)
    venv.state = states.copy()
    want = np.zeros(2)
    for t in range(5):
        want += 0.9**t * venv.step(np.zeros((2, 1), np.float32))[1]
    np.testing.assert_allclose(q, want, rtol=1e-6)
    assert steps == 10


def test_aggrevated_continuous_runs_and_is_reproducible():
    expert = load_expert("zoo", "Pendulum-v1")
    cfg = AggreVaTeDConfig(num_envs=4, horizon=50, epochs=1, action_samples=4)
    a, b = (train_aggrevated(env_id="Pendulum-v1", expert=expert, total_steps=400, seed=3, config=cfg, eval_every=0, eval_episodes=1)
            for _ in range(2))
    for pa, pb in zip(a.policy.parameters(), b.policy.parameters()):
        assert torch.equal(pa, pb)
    assert a.policy.squash


def test_gymnasium_vector_envs_are_not_restorable_and_bad_configs_are_refused():
    # (test_cli.py checks the one-line error for an expert without Q* on such an env)
    from imitlab.envs.vector import GymVecEnv
    from imitlab.experts.montecarlo import restorable

    assert not restorable(GymVecEnv("CartPole-v1", 1))
    with pytest.raises(UserError, match="unknown mixing schedule"):
        train_aggrevated(env_id="CartPole-v1", expert=load_expert("zoo", "CartPole-v1"), total_steps=1000,
                         config=AggreVaTeDConfig(alpha_schedule="nope"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aggrevated_with_the_sac_critic_reaches_0_9_on_pendulum(seed):
    from imitlab.defaults import aggrevated_config
    from imitlab.evaluation import evaluate

    expert = load_expert("zoo", "Pendulum-v1")
    result = train_aggrevated(env_id="Pendulum-v1", expert=expert, total_steps=20_000, seed=seed,
                              config=aggrevated_config("Pendulum-v1"), eval_every=0, eval_episodes=2)
    assert evaluate(result.policy, "Pendulum-v1", episodes=50, seed=777).normalized_score >= 0.9


class _QuadraticCritic:
    """A Pendulum expert whose own action 0.5 is best: Q*(s, a) = -(a - 0.5)^2 - cos-feature of s.
    Records every Q* request, so a test can tell the sampled actions from the expert's."""

    has_q = True

    def __init__(self):
        self.calls = []

    def act(self, obs):
        return np.full((len(obs), 1), 0.5, np.float32)

    def q(self, obs, act):
        act = np.array(act, dtype=np.float64).reshape(len(obs))
        q = -((act - 0.5) ** 2) - np.asarray(obs, np.float64)[:, 0]
        self.calls.append((act, q))
        return q


def test_continuous_advantages_on_known_numbers():
    from imitlab.algorithms.aggrevated import continuous_advantages

    q = np.array([[1.0, 3.0], [2.0, 6.0]])
    mean = continuous_advantages(q, None)  # V* = each state's mean: [2, 4]
    adv = torch.tensor([-1.0, 1.0, -2.0, 2.0])
    torch.testing.assert_close(mean, adv / adv.std())
    expert = continuous_advantages(q, np.array([3.0, 6.0]))  # V* = Q*(s, expert action)
    adv = torch.tensor([-2.0, 0.0, -4.0, 0.0])
    torch.testing.assert_close(expert, adv / adv.std())


@pytest.mark.parametrize("aggregate", [True, False])  # fresh samples every minibatch / once per iteration
@pytest.mark.parametrize("baseline", ["mean", "expert"])
def test_continuous_baseline_is_used_and_mean_q_logged_on_every_path(aggregate, baseline, monkeypatch, tmp_path):
    import csv

    import imitlab.algorithms.aggrevated as agg

    seen = []
    original = agg.aggrevated_continuous_loss

    def spy(log_probs, advantages):
        seen.append(advantages.detach().clone())
        return original(log_probs, advantages)

    monkeypatch.setattr(agg, "aggrevated_continuous_loss", spy)
    expert = _QuadraticCritic()
    cfg = AggreVaTeDConfig(num_envs=2, horizon=50, epochs=1, batch_size=32, action_samples=4, aggregate=aggregate,
                           baseline=baseline)
    train_aggrevated(env_id="Pendulum-v1", expert=expert, total_steps=100, seed=0, config=cfg, out=tmp_path / "run",
                     eval_every=0, eval_episodes=1)
    is_expert = [bool((a == 0.5).all()) for a, _ in expert.calls]
    sampled_q = np.concatenate([q for (_, q), e in zip(expert.calls, is_expert) if not e])
    assert len(sampled_q) == 100 * 4
    # Q*(s, expert's action) is asked for exactly when it is the baseline.
    assert any(is_expert) == (baseline == "expert")
    advantages = torch.cat(seen)
    if baseline == "expert":
        # The expert's action is the best one: every sampled action's advantage is below 0.
        assert (advantages <= 0).all() and (advantages < 0).any()
        # and it is exactly Q*(s, a) - Q*(s, a_expert), scaled by one std.
        v = np.concatenate([q for (_, q), e in zip(expert.calls, is_expert) if e])
        adv = sampled_q.reshape(-1, 4) - v[:, None]
        if aggregate:  # one normalisation per minibatch of 32 states
            want = torch.cat([torch.as_tensor(a.reshape(-1) / a.reshape(-1).std(ddof=1), dtype=torch.float32)
                              for a in np.split(adv, range(32, 100, 32))])
            got = advantages
        else:  # one for the iteration; the minibatches are a permutation of its rows
            want = torch.as_tensor(adv.reshape(-1) / adv.reshape(-1).std(ddof=1), dtype=torch.float32).sort().values
            got = advantages.sort().values
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    else:
        assert (advantages > 0).any() and (advantages < 0).any()
    with open(tmp_path / "run" / "progress.csv") as f:
        (row,) = list(csv.DictReader(f))
    assert float(row["mean_q"]) == pytest.approx(sampled_q.mean(), rel=1e-6)
    assert float(row["mean_q"]) != 0.0

import numpy as np
import pytest
import torch

from imitlab.algorithms._interactive import MixtureActor, mixture_weight
from imitlab.algorithms.dagger import DAggerConfig, train_dagger
from imitlab.defaults import dagger_config
from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import load_expert
from imitlab.tasks import normalized_score


@pytest.fixture(scope="module")
def cartpole_expert():
    return load_expert("zoo", "CartPole-v1")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dagger_from_scratch_reaches_475_on_cartpole_within_10k_steps(cartpole_expert, seed):
    result = train_dagger(env_id="CartPole-v1", expert=cartpole_expert, total_steps=10_000, seed=seed,
                          config=dagger_config("CartPole-v1"), eval_every=0, eval_episodes=1)
    assert result.history[-1]["env_steps"] <= 10_000
    assert evaluate(result.policy, "CartPole-v1", episodes=50, seed=777).mean_return >= 475


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dagger_imitates_the_pendulum_sac_expert(seed):
    expert = load_expert("zoo", "Pendulum-v1")
    result = train_dagger(env_id="Pendulum-v1", expert=expert, total_steps=6_000, seed=seed,
                          config=dagger_config("Pendulum-v1"), eval_every=0, eval_episodes=1)
    ret = evaluate(result.policy, "Pendulum-v1", episodes=50, seed=777).mean_return
    assert normalized_score("Pendulum-v1", ret) >= 0.9


def test_dagger_takes_any_callable_expert_even_a_stochastic_one():
    # A hand-written CartPole controller that errs 10% of the time: push toward the pole's lean.
    rng = np.random.default_rng(0)

    def noisy_controller(obs):
        act = (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(np.int64)
        flip = rng.random(len(obs)) < 0.1
        return np.where(flip, 1 - act, act)

    result = train_dagger(env_id="CartPole-v1", expert=noisy_controller, total_steps=4_000, seed=0, eval_every=0, eval_episodes=20)
    assert result.final.mean_return >= 300


def test_dagger_starts_from_demos_and_writes_a_run(cartpole_demos, tmp_path, cartpole_expert):
    result = train_dagger(env_id="CartPole-v1", expert=cartpole_expert, demos=cartpole_demos.head(2), total_steps=2_000, seed=0,
                          out=tmp_path / "run", eval_every=1_000, eval_episodes=5)
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"config.json", "metrics.csv", "progress.csv", "policy.pt", "summary.json"} <= names
    from imitlab.runlog import read_config, read_metrics

    assert [r["env_steps"] for r in read_metrics(tmp_path / "run")] == [1000, 2000]
    assert read_config(tmp_path / "run")["n_demo_transitions"] == 1000
    assert result.final.mean_return > 400


def test_dagger_is_reproducible_from_its_seed(cartpole_expert):
    runs = [train_dagger(env_id="CartPole-v1", expert=cartpole_expert, total_steps=1_000, seed=4, eval_every=0, eval_episodes=1)
            for _ in range(2)]
    for pa, pb in zip(runs[0].policy.parameters(), runs[1].policy.parameters()):
        assert torch.equal(pa, pb)


def test_mixture_schedules():
    assert [mixture_weight("linear", i, decay_rounds=4, p=0.5) for i in range(6)] == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert [mixture_weight("exponential", i, decay_rounds=4, p=0.5) for i in range(3)] == [1.0, 0.5, 0.25]
    assert mixture_weight("constant", 7, decay_rounds=4, p=0.3) == 0.3
    with pytest.raises(UserError, match="unknown mixing schedule"):
        mixture_weight("cosine", 0, decay_rounds=4, p=0.5)


def test_mixture_actor_lets_the_expert_act_with_probability_p():
    from imitlab.envs import env_spaces
    from imitlab.policies import make_policy

    learner = make_policy(*env_spaces("CartPole-v1"))
    actor = MixtureActor(learner, lambda obs: np.full(len(obs), 7), rng=np.random.default_rng(0))
    actor.expert = type("E", (), {"act": staticmethod(lambda obs: np.full(len(obs), 7))})()
    actor.p = 0.25
    act, _ = actor.sample(torch.zeros(40_000, 4))
    assert abs(float((act == 7).float().mean()) - 0.25) < 0.01


def test_dagger_refuses_an_expert_for_another_env(cartpole_expert):
    with pytest.raises(UserError, match="another env"):
        train_dagger(env_id="Pendulum-v1", expert=cartpole_expert, total_steps=1_000)
    with pytest.raises(UserError, match="do not fit Acrobot-v1"):  # right obs size, wrong action set
        train_dagger(env_id="Acrobot-v1", expert=lambda obs: np.full(len(obs), 5), total_steps=1_000)
    with pytest.raises(UserError, match="unknown mixing schedule"):
        train_dagger(env_id="CartPole-v1", expert=cartpole_expert, total_steps=1_000, config=DAggerConfig(beta_schedule="cosine"))

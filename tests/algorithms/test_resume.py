"""Resume for imitation runs: a run stopped part-way continues from ``checkpoint.pt``; two runs
resumed from one checkpoint are bit-identical, and records after the checkpoint are dropped."""

import csv
import shutil

import pytest
import torch

from imitlab.algorithms.dagger import DAggerConfig, train_dagger
from imitlab.errors import UserError
from imitlab.experts import load_expert
from imitlab.policies import load_policy


def _policy_state(run_dir):
    return load_policy(run_dir / "policy.pt")[0].state_dict()


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _evaluations(run_dir):
    """metrics.csv without its clock column, which no two runs share."""
    return [{k: v for k, v in r.items() if k != "train_seconds"} for r in _rows(run_dir / "metrics.csv")]


def _resumed_twice(tmp_path, train, first: int, total: int):
    """Train to ``first`` steps (a checkpoint at its end, as a run killed right after it would
    leave), copy the run, resume both copies to ``total``; return the two run dirs."""
    train(out=tmp_path / "a", total_steps=first, resume=False)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    for d in ("a", "b"):
        train(out=tmp_path / d, total_steps=total, resume=True)
    return tmp_path / "a", tmp_path / "b"


def test_dagger_resumes_bit_identically_and_keeps_its_aggregated_data(tmp_path):
    expert = load_expert("zoo", "CartPole-v1")
    cfg = DAggerConfig(steps_per_round=256, epochs=2)

    def train(**kw):
        return train_dagger(env_id="CartPole-v1", expert=expert, seed=1, config=cfg, eval_every=512,
                            eval_episodes=2, **kw)

    a, b = _resumed_twice(tmp_path, train, first=512, total=1024)
    assert _same(_policy_state(a), _policy_state(b))
    assert _evaluations(a) == _evaluations(b)
    progress = _rows(a / "progress.csv")
    assert [int(r["env_steps"]) for r in progress] == [256, 512, 768, 1024]  # no row twice
    # the aggregated dataset came back: it grows on from the checkpoint's 512 labels
    assert [int(float(r["dataset_size"])) for r in progress] == [256, 512, 768, 1024]


def test_resume_refuses_changed_settings(tmp_path):
    expert = load_expert("zoo", "CartPole-v1")
    train_dagger(env_id="CartPole-v1", expert=expert, total_steps=256, seed=1, out=tmp_path / "r",
                 config=DAggerConfig(steps_per_round=256, epochs=1), eval_episodes=1)
    with pytest.raises(UserError, match="different settings.*epochs"):
        train_dagger(env_id="CartPole-v1", expert=expert, total_steps=512, seed=1, out=tmp_path / "r",
                     config=DAggerConfig(steps_per_round=256, epochs=3), eval_episodes=1, resume=True)


@pytest.fixture(scope="module")
def pendulum_demos():
    from imitlab.data.collect import collect_demos

    return collect_demos(load_expert("zoo", "Pendulum-v1"), "Pendulum-v1", episodes=2, seed=0)


@pytest.mark.parametrize("generator", ["ppo", "trpo", "reinforce"])
def test_gail_resumes_bit_identically(tmp_path, pendulum_demos, generator):
    """Every generator's state (optimizer, value net, baseline), the discriminator and its
    optimizer, the reward normaliser and the RNGs come back: two runs resumed from one checkpoint
    agree bit for bit."""
    from imitlab.algorithms.gail import train_gail
    from imitlab.defaults import gail_config

    cfg = gail_config("Pendulum-v1", generator=generator, normalize_reward=True, disc_grad_penalty=1.0)
    per_batch = cfg.generator_config().num_envs * cfg.generator_config().num_steps

    def train(**kw):
        return train_gail(env_id="Pendulum-v1", demos=pendulum_demos, seed=2, config=cfg, eval_every=per_batch,
                          eval_episodes=1, **kw)

    a, b = _resumed_twice(tmp_path, train, first=per_batch, total=3 * per_batch)
    assert _same(_policy_state(a), _policy_state(b))
    assert _evaluations(a) == _evaluations(b)
    assert [int(r["env_steps"]) for r in _rows(a / "progress.csv")] == [per_batch, 2 * per_batch, 3 * per_batch]
    assert torch.load(a / "checkpoint.pt", weights_only=True)["step"] == 3 * per_batch


def _perturbed(value):
    """``value`` changed everywhere it can be: what a resume that ignored it would see instead."""
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.uint8:  # a torch.Generator's state
            return torch.Generator().manual_seed(12345).get_state()
        if not value.is_floating_point():  # indices or labels: reordered, so they stay valid
            return value.flip(0) if value.ndim else value + 1
        return value + 0.05
    if isinstance(value, dict):
        if value.get("bit_generator"):  # a numpy Generator's state
            return __import__("numpy").random.default_rng(12345).bit_generator.state
        if "param_groups" in value:  # an optimizer: its moments, not its parameter indices
            return {**value, "state": _perturbed(value["state"])}
        return {k: _perturbed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_perturbed(v) for v in value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return value * 1.5 + 1
    return value


def _check_every_piece(tmp_path, train, first: int, total: int, required: set[str], unused=frozenset()) -> None:
    """Bit-identical resumes alone would not notice a piece that is saved but never loaded (both
    resumed runs would start it afresh alike): change each piece in the checkpoint, and the
    resumed run must come out otherwise."""
    from imitlab.checkpoint import load_checkpoint, save_checkpoint

    train(out=tmp_path / "base", total_steps=first, resume=False)
    shutil.copytree(tmp_path / "base", tmp_path / "ref")
    train(out=tmp_path / "ref", total_steps=total, resume=True)
    reference = _policy_state(tmp_path / "ref")
    state = load_checkpoint(tmp_path / "base")
    assert required <= set(state["learner"])
    for key in sorted(state["learner"]):
        if isinstance(state["learner"][key], int) or state["learner"][key] is None or key in unused:
            continue  # counters and sizes: a wrong one misaligns the data, which the checks above see
        d = tmp_path / f"changed-{key}"
        shutil.copytree(tmp_path / "base", d)
        changed = dict(state, learner={**state["learner"], key: _perturbed(state["learner"][key])})
        save_checkpoint(d, {k: v for k, v in changed.items() if k not in ("format", "version")})
        train(out=d, total_steps=total, resume=True)
        assert not _same(_policy_state(d), reference), f"{key} in the checkpoint made no difference"


def test_every_piece_of_a_gail_checkpoint_is_restored(tmp_path, pendulum_demos):
    from imitlab.algorithms.gail import train_gail
    from imitlab.defaults import gail_config

    cfg = gail_config("Pendulum-v1", normalize_reward=True, disc_grad_penalty=1.0)
    per_batch = cfg.generator_config().num_envs * cfg.generator_config().num_steps

    def train(**kw):
        return train_gail(env_id="Pendulum-v1", demos=pendulum_demos, seed=2, config=cfg, eval_every=per_batch,
                          eval_episodes=1, **kw)

    _check_every_piece(tmp_path, train, per_batch, 2 * per_batch,
                       {"policy", "generator", "disc", "disc_opt", "rng", "torch_gen", "gen", "reward_sq_mean"})


def test_every_piece_of_a_dagger_checkpoint_is_restored(tmp_path):
    expert = load_expert("zoo", "CartPole-v1")
    cfg = DAggerConfig(steps_per_round=256, epochs=2)

    def train(**kw):
        return train_dagger(env_id="CartPole-v1", expert=expert, seed=1, config=cfg, eval_every=256,
                            eval_episodes=1, **kw)

    _check_every_piece(tmp_path, train, 256, 512, {"policy", "optimizer", "data_obs", "data_acts", "rng", "gen"})


AGGREVATED_CASES = {
    "discrete-critic": ("CartPole-v1", "zoo:dqn"),
    "discrete-monte-carlo": ("Acrobot-v1", "zoo"),  # CartPole's expert ties every action within the horizon
    "continuous-critic": ("Pendulum-v1", "zoo"),
}


@pytest.mark.parametrize("case", sorted(AGGREVATED_CASES))
def test_aggrevated_resumes_bit_identically_and_restores_every_piece(tmp_path, case):
    from imitlab.algorithms.aggrevated import AggreVaTeDConfig, train_aggrevated

    env_id, spec = AGGREVATED_CASES[case]
    expert = load_expert(spec, env_id)
    cfg = AggreVaTeDConfig(num_envs=4, horizon=32, epochs=1, mc_horizon=50)
    per_iter = cfg.num_envs * cfg.horizon

    def train(**kw):
        return train_aggrevated(env_id=env_id, expert=expert, seed=3, config=cfg, eval_every=per_iter,
                                eval_episodes=1, **kw)

    a, b = _resumed_twice(tmp_path / "twice", train, first=per_iter, total=3 * per_iter)
    assert _same(_policy_state(a), _policy_state(b))
    assert _evaluations(a) == _evaluations(b)
    _check_every_piece(tmp_path / "pieces", train, per_iter, 2 * per_iter,
                       {"policy", "optimizer", "agg_obs", "rng", "torch_gen", "gen"},
                       unused={"torch_gen"} if case.startswith("discrete") else set())  # it samples continuous actions


def test_offline_gail_resumes_by_iteration(tmp_path, pendulum_demos):
    """Offline GAIL counts iterations, not env steps: its checkpoint, its --resume budget and the
    records it cuts back are in iterations."""
    from imitlab.algorithms.gail_offline import OfflineGAILConfig, train_gail_offline

    def train(out, total_steps, resume):
        return train_gail_offline(env_id="Pendulum-v1", demos=pendulum_demos, seed=4, out=out, resume=resume,
                                  config=OfflineGAILConfig(iterations=total_steps), eval_every=50, eval_episodes=1)

    a, b = _resumed_twice(tmp_path / "twice", train, first=100, total=200)
    assert _same(_policy_state(a), _policy_state(b))
    assert [int(float(r["epoch"])) for r in _rows(a / "metrics.csv")] == [50, 100, 150, 200]
    _check_every_piece(tmp_path / "pieces", train, 50, 100, {"policy", "disc", "pol_opt", "disc_opt", "rng", "torch_gen"})
    with pytest.raises(UserError, match="different settings.*batch_size"):
        train_gail_offline(env_id="Pendulum-v1", demos=pendulum_demos, seed=4, out=a, resume=True,
                           config=OfflineGAILConfig(iterations=300, batch_size=64), eval_episodes=1)


@pytest.mark.parametrize("algo", ["sqil", "iq-learn", "dac", "iq-learn-offline"])
def test_the_off_policy_family_resumes_bit_identically(tmp_path, pendulum_demos, algo):
    """The learner (networks, optimizers, temperature, generator), the agent's replay, the
    demonstrations' sampler, DAC's discriminator and the RNGs come back."""
    from imitlab.algorithms.registry import get_algorithm
    from imitlab.defaults import config_for

    spec = get_algorithm(algo)
    cfg = config_for(algo, "Pendulum-v1", hidden=(32, 32), batch_size=32, learning_starts=100)
    if algo.startswith("iq-learn"):
        cfg = config_for(algo, "Pendulum-v1", hidden=(32, 32), batch_size=32, learning_starts=100, reward_fit_steps=5)

    def train(**kw):
        return spec.train_fn(env_id="Pendulum-v1", demos=pendulum_demos, seed=3, config=cfg, eval_every=150,
                             eval_episodes=1, **kw)

    a, b = _resumed_twice(tmp_path, train, first=300, total=450)
    assert _same(_policy_state(a), _policy_state(b))
    assert _evaluations(a) == _evaluations(b)
    column = "epoch" if algo == "iq-learn-offline" else "env_steps"  # offline: updates, and no env steps
    assert [int(r[column]) for r in _evaluations(a)] == [150, 300, 450]


def test_offline_iq_learn_resumed_is_the_run_that_never_stopped(tmp_path, pendulum_demos):
    """Offline there are no envs to restart: every draw (the demonstrations' sampler included) comes
    back, so a run stopped and resumed equals one that never stopped."""
    from imitlab.algorithms.offpolicy.iq_learn import train_iq_learn
    from imitlab.defaults import config_for

    cfg = config_for("iq-learn-offline", "Pendulum-v1", hidden=(32, 32), batch_size=32, reward_fit_steps=0)

    def train(**kw):
        return train_iq_learn(env_id="Pendulum-v1", demos=pendulum_demos, seed=4, config=cfg, offline=True,
                              eval_every=100, eval_episodes=1, **kw)

    train(out=tmp_path / "a", total_steps=200)
    train(out=tmp_path / "a", total_steps=300, resume=True)
    train(out=tmp_path / "b", total_steps=300)
    assert _same(_policy_state(tmp_path / "a"), _policy_state(tmp_path / "b"))

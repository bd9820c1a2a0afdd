"""The algorithm registry: what the CLI, the bench and the defaults read from it.

The bar: an algorithm registered in a test (an entry and one train function, a constant policy
here) is an ``imitlab train`` command with options from its config's documented fields, a valid
``imitlab bench --algos`` choice, and has per-task defaults, with no other file touched.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import pytest
import torch

from imitlab.algorithms.registry import (
    ALGORITHMS,
    EXPERT_LEARNERS,
    AlgorithmSpec,
    Budget,
    OptionSpec,
    field_docs,
    get_algorithm,
    register,
    unregister,
)
from imitlab.bench.grid import ALGOS, Cell, base_budget, check_algos
from imitlab.bench.runner import run_cell
from imitlab.cli import main
from imitlab.defaults import TASK_DEFAULTS, budget_for, config_for
from imitlab.errors import UserError


# ----------------------------------------------------------------------------- a toy algorithm
@dataclass(frozen=True)
class ToyConfig:
    """A policy that always takes one action."""

    action: int = 0
    """The action the policy always takes."""
    confidence: float = 10.0
    """Logit of that action over the others."""
    note: str = "constant"
    undocumented: int = 7


def train_toy(*, env_id, config, rounds, seed=0, out=None, eval_every=0, eval_episodes=50, progress=False):
    """Build the constant policy, log ``rounds`` rounds, evaluate it once."""
    from imitlab.envs import env_spaces
    from imitlab.policies import make_policy
    from imitlab.training import TrainingRun

    policy = make_policy(*env_spaces(env_id), (8,))
    with torch.no_grad():
        for p in policy.net[-1].parameters():
            p.zero_()
        policy.net[-1].bias[config.action] = config.confidence
    run = TrainingRun(env_id=env_id, seed=seed, total=rounds, unit="round", out=out,
                      config={"algo": "toy", "env_id": env_id, "seed": seed, "rounds": rounds, **asdict(config)},
                      eval_every=eval_every, eval_episodes=eval_episodes, progress=progress)
    for i in range(1, rounds + 1):
        run.advance(1, {"action": config.action}, step=i)
    final = run.evaluate(policy, env_steps=0, epoch=rounds)
    return run.result(policy, final=final, extra={"algo": "toy", "rounds": rounds})


TOY = AlgorithmSpec(
    name="toy", config=ToyConfig, train=train_toy, description="A constant policy (a test's toy).",
    budget=Budget(unit="iterations", param="rounds", task_key="toy_rounds", fallback=3, help="Rounds."),
    options={"action": OptionSpec(min=0), "note": OptionSpec(help="A note, documented by the registry entry.")},
)


@pytest.fixture
def toy():
    register(TOY)
    try:
        yield TOY
    finally:
        unregister("toy")


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _help(capsys, *argv) -> str:
    """The help of ``imitlab ARGV``, unwrapped (one line per option)."""
    from imitlab.cli import cli

    cli.main([*argv, "--help"], prog_name="imitlab", standalone_mode=False, max_content_width=1000, terminal_width=1000)
    return capsys.readouterr().out


def test_a_registered_toy_algorithm_is_a_command_a_bench_choice_and_has_defaults(toy, capsys, tmp_path, monkeypatch):
    # imitlab train --help lists it, and its own help has an option per documented field.
    code, out, _ = _run(capsys, "train", "--help")
    assert code == 0 and "toy" in out and "A constant policy" in out
    out = _help(capsys, "train", "toy")
    assert "--action INTEGER RANGE" in out and "The action the policy always takes. Default: 0." in out
    assert "--confidence FLOAT" in out and "--note TEXT" in out and "documented by the registry entry" in out
    assert "--undocumented" not in out  # no docstring, no registry option: not an option
    assert "--iterations INTEGER RANGE" in out and "Rounds. Default: 3, the bench's budget on every task" in out
    assert "--demos" not in out and "--expert" not in out and "--resume" not in out  # it needs none of them

    # imitlab train toy runs it, with the options given and the budget's default.
    run_dir = tmp_path / "toy"
    code, out, err = _run(capsys, "train", "toy", "--env", "CartPole-v1", "--action", 1, "--out", run_dir, "--eval-episodes", 2)
    assert code == 0, err
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["action"], config["rounds"], config["confidence"]) == (1, 3, 10.0)
    from imitlab.policies import load_policy

    policy, _ = load_policy(run_dir / "policy.pt")
    assert policy.mode(torch.zeros(5, 4)).tolist() == [1] * 5
    code, _, err = _run(capsys, "train", "toy", "--env", "CartPole-v1", "--action", -1, "--out", tmp_path / "bad")
    assert code == 2 and "--action" in err and not (tmp_path / "bad").exists()

    # The bench takes it.
    code, out, _ = _run(capsys, "bench", "--help")
    assert "toy" in out
    check_algos(["bc", "toy"])
    assert "toy" in ALGOS and not ALGOS["toy"].uses_demos
    record = run_cell(Cell("toy", "CartPole-v1", 0, 0), out_dir=str(tmp_path / "bench"), budget_scale=1.0, eval_episodes=2)
    assert (record["budget"], record["budget_unit"], record["config"]["action"]) == (3, "iterations", 0)

    # The defaults know it: its config's defaults, else the task's entry under its name.
    assert config_for("toy", "CartPole-v1") == ToyConfig()
    assert config_for("toy", "CartPole-v1", action=1).action == 1
    monkeypatch.setitem(TASK_DEFAULTS["Pendulum-v1"], "toy", ToyConfig(confidence=2.0))
    monkeypatch.setitem(TASK_DEFAULTS["Pendulum-v1"], "toy_rounds", 5)
    assert config_for("toy", "Pendulum-v1").confidence == 2.0
    assert budget_for("toy", "Pendulum-v1") == base_budget("toy", "Pendulum-v1") == 5
    assert budget_for("toy", "CartPole-v1") == 3
    out = _help(capsys, "train", "toy")
    assert "Default: 2.0 on Pendulum-v1; 10.0 on any other env." in out
    assert "5 on Pendulum-v1; 3 on any other env" in out


def test_an_unregistered_algorithm_is_gone_everywhere(capsys):
    register(TOY)
    unregister("toy")
    code, out, _ = _run(capsys, "train", "--help")
    assert code == 0 and "toy" not in out
    code, _, err = _run(capsys, "train", "toy", "--env", "CartPole-v1", "--out", "never")
    assert code == 2 and "No such command 'toy'" in err
    with pytest.raises(UserError, match="unknown algorithm 'toy'; choose from bc, gail"):
        check_algos(["toy"])
    with pytest.raises(UserError, match="unknown algorithm 'toy'"):
        config_for("toy", "CartPole-v1")


def test_registering_a_name_twice_or_a_bad_entry_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        register(AlgorithmSpec(name="bc", config=ToyConfig, train=train_toy, description="", budget=TOY.budget))
    with pytest.raises(ValueError, match="unknown needs"):
        register(AlgorithmSpec(name="toy2", config=ToyConfig, train=train_toy, description="", budget=TOY.budget,
                               needs=frozenset({"telepathy"})))
    with pytest.raises(ValueError, match="config-field budget"):
        register(AlgorithmSpec(name="toy2", config=ToyConfig, train=train_toy, description="",
                               budget=Budget(unit="epochs", param="action", in_config=True, fallback=3)))
    assert "toy2" not in ALGORITHMS


def test_a_config_option_that_would_shadow_a_shared_option_is_refused(capsys):
    from imitlab.cli.train import build_train_command

    clash = AlgorithmSpec(name="toy", config=ToyConfig, train=train_toy, description="", budget=TOY.budget,
                          options={"action": OptionSpec(flag="--seed")})
    with pytest.raises(ValueError, match="config field 'action' would take the option --seed"):
        build_train_command(clash)
    missing = AlgorithmSpec(name="toy", config=ToyConfig, train=train_toy, description="", budget=TOY.budget,
                            options={"actoin": OptionSpec(min=0)})
    with pytest.raises(ValueError, match="name no field of ToyConfig"):
        build_train_command(missing)


# ---------------------------------------------------------------------- the shipped entries
def test_the_builtin_entries():
    assert list(ALGORITHMS) == ["bc", "gail", "gail-offline", "airl", "dagger", "aggrevated", "maxent-irl", "apprenticeship",
                                "sqil", "iq-learn", "iq-learn-offline", "dac"]
    assert list(EXPERT_LEARNERS) == ["expert-ppo", "expert-dqn", "expert-sac"]
    assert [n for n, s in ALGORITHMS.items() if s.uses_demos] == [
        "bc", "gail", "gail-offline", "airl", "maxent-irl", "apprenticeship", "sqil", "iq-learn", "iq-learn-offline", "dac"]
    assert [n for n, s in ALGORITHMS.items() if s.resumable] == [
        "gail", "gail-offline", "airl", "dagger", "aggrevated", "sqil", "iq-learn", "iq-learn-offline", "dac"]
    assert {n: s.unit for n, s in ALGORITHMS.items()} == {
        "bc": "epochs", "gail": "env_steps", "gail-offline": "iterations", "airl": "env_steps", "dagger": "env_steps",
        "aggrevated": "env_steps", "maxent-irl": "iterations", "apprenticeship": "env_steps", "sqil": "env_steps",
        "iq-learn": "env_steps", "iq-learn-offline": "iterations", "dac": "env_steps"}
    assert get_algorithm("aggrevated").needs == {"q_expert"} and get_algorithm("dagger").accepts == {"demos"}
    assert get_algorithm("maxent-irl").needs == {"demos", "tabular_env"}
    with pytest.raises(UserError, match="unknown algorithm 'valuedice'; choose from bc, gail, gail-offline, airl"):
        get_algorithm("valuedice")


def test_every_command_builds_and_keeps_the_options_it_had():
    """The option names the commands had before they were generated (README examples, scripts)."""
    from imitlab.cli.train import build_train_command

    shared = {"--env", "--seed", "--out", "--eval-every", "--eval-episodes", "--overwrite"}
    demos = {"--demos", "--episodes", "--subsample-every", "--pairs"}
    resume = {"--checkpoint-every", "--resume"}
    interactive = {"--expert", "--steps"} | resume
    before = {
        "bc": shared | demos | {"--epochs", "--validation-fraction", "--patience"},
        "gail": shared | demos | resume | {"--steps", "--generator", "--reward", "--absorbing", "--no-absorbing",
                                           "--normalize-reward", "--no-normalize-reward", "--disc-updates",
                                           "--grad-penalty", "--disc-entropy", "--init-from"},
        "gail-offline": shared | demos | resume | {"--iterations", "--reward"},
        "dagger": shared | interactive | {"--demos", "--episodes", "--beta-schedule", "--beta-decay-rounds", "--beta-p",
                                          "--steps-per-round", "--epochs"},
        "aggrevated": shared | interactive | {"--rollins", "--horizon", "--alpha-schedule", "--alpha-decay-rounds",
                                              "--alpha-p", "--mc-horizon"},
    }
    # AIRL takes GAIL's options, and --state-only for its reward's form.
    before["airl"] = (before["gail"] - {"--reward"}) | {"--reward", "--state-only", "--no-state-only"}
    for name, spec in ALGORITHMS.items():
        command = build_train_command(spec)
        names = {n for p in command.params for n in (*p.opts, *p.secondary_opts)}
        assert before.get(name, shared) <= names, (name, before.get(name, shared) - names)


@pytest.mark.parametrize("config_class", [
    "imitlab.algorithms.bc:BCConfig", "imitlab.algorithms.dagger:DAggerConfig",
    "imitlab.algorithms.aggrevated:AggreVaTeDConfig", "imitlab.rl.ppo:PPOConfig", "imitlab.rl.trpo:TRPOConfig",
    "imitlab.rl.reinforce:ReinforceConfig", "imitlab.algorithms.airl:AIRLConfig",
    "imitlab.algorithms.offpolicy.sqil:SQILConfig", "imitlab.algorithms.offpolicy.iq_learn:IQLearnConfig",
    "imitlab.algorithms.adversarial.dac:DACConfig",
])
def test_every_field_of_these_configs_is_documented(config_class):
    from imitlab.algorithms.registry import _resolve

    cls = _resolve(config_class)
    docs = field_docs(cls)
    assert [f.name for f in fields(cls) if not docs.get(f.name)] == []


def test_string_options_are_literal_choices(capsys):
    for argv, choice in [(["train", "bc"], "--continuous-loss [nll|mse]"),
                         (["train", "dagger"], "--beta-schedule [linear|exponential|constant]"),
                         (["train", "aggrevated"], "--baseline [mean|expert]")]:
        assert choice in _help(capsys, *argv), argv


def test_field_docs_reads_the_docstring_under_each_field():
    @dataclass(frozen=True)
    class Base:
        a: int = 1
        """A's doc."""
        b: int = 2  # a comment is not a docstring

    @dataclass(frozen=True)
    class Child(Base):
        c: tuple[int, ...] = (1,)
        """C's doc,
        on two lines.

        And a second paragraph."""

    assert field_docs(Child) == {"a": "A's doc.", "c": "C's doc,\non two lines.\n\nAnd a second paragraph."}


# ---------------------------------------------------------------------------- config_for and budgets
def test_config_for_is_the_table_with_overrides():
    from imitlab.defaults import (
        aggrevated_config,
        bc_config,
        dagger_config,
        expert_config,
        gail_config,
        gail_offline_config,
    )

    assert config_for("gail", "Hopper-v5") is not TASK_DEFAULTS["Hopper-v5"]["gail"]
    assert config_for("gail", "Hopper-v5") == TASK_DEFAULTS["Hopper-v5"]["gail"]
    assert config_for("aggrevated", "Pendulum-v1", lr=0.5).lr == 0.5
    assert config_for("aggrevated", "Pendulum-v1", lr=0.5).action_samples == 16  # the rest stays the task's
    assert config_for("dagger", "NoSuchEnv-v0") == config_for("dagger", None) == get_algorithm("dagger").config_class()
    for old, algo in [(bc_config, "bc"), (gail_config, "gail"), (gail_offline_config, "gail-offline"),
                      (dagger_config, "dagger"), (aggrevated_config, "aggrevated")]:
        for env_id in ("CartPole-v1", "Pendulum-v1", "Hopper-v5"):
            assert old(env_id) == config_for(algo, env_id)
    assert expert_config("MountainCar-v0", "dqn") == TASK_DEFAULTS["MountainCar-v0"]["expert_dqn"]
    assert expert_config("Pendulum-v1", "sac", batch_size=3).batch_size == 3
    with pytest.raises(UserError, match="DAggerConfig has no field 'betta'"):
        config_for("dagger", "CartPole-v1", betta=0.3)


def test_budgets_are_the_tasks():
    expected = {  # what imitlab.bench.grid.base_budget gave before the registry (Hopper: 1M since issue 14)
        ("bc", "CartPole-v1"): 1000, ("bc", None): 1000, ("gail", "CartPole-v1"): 50_000, ("gail", "Hopper-v5"): 1_000_000,
        ("gail", None): 100_000, ("gail-offline", "Pendulum-v1"): 1000, ("dagger", "CartPole-v1"): 10_000,
        ("dagger", "Pendulum-v1"): 20_000, ("dagger", "Acrobot-v1"): 20_000, ("aggrevated", "Pendulum-v1"): 30_000,
        ("aggrevated", None): 20_000,
    }
    for (algo, env_id), steps in expected.items():
        assert base_budget(algo, env_id) == budget_for(algo, env_id) == steps, (algo, env_id)
    assert budget_for("expert-ppo", "CartPole-v1") is None  # the shipped expert's: imitlab.defaults.zoo_expert_steps

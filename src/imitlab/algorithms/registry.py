"""The algorithm registry: one entry per algorithm, read by the CLI, the bench and the per-task defaults.

An entry says what an algorithm is called, its config dataclass and train function, what it needs
(demonstrations, an expert to query, an expert with Q*, a tabular env), its budget (the unit, the
keyword that takes it, where its per-task default lives), whether its runs resume, and a line
that describes it. From that alone:

- ``imitlab train NAME`` exists, with an option per documented field of the config dataclass
  (the attribute docstring under each field is its help) and the shared options its needs call
  for (``--demos`` ..., ``--expert``, ``--resume``, the budget option);
- ``imitlab bench --algos NAME`` runs it, on the task's budget;
- :func:`imitlab.defaults.config_for` and :func:`imitlab.defaults.budget_for` give its per-task
  settings (from ``imitlab.defaults.TASK_DEFAULTS``, else the config's own defaults).

Adding an algorithm is its module plus one :func:`register` call at the end of this file (a test
may register a toy one in its own process; the bench's worker processes start afresh and know the
entries registered here). Config classes and train functions may be given as ``"module:attribute"``
strings, imported when first used, so that reading the registry (``imitlab --help``, ``imitlab
bench --help``) does not import torch.

Expert learners (PPO, DQN, SAC on the env's own reward; ``imitlab expert train``) are entries of
kind ``"expert"``: they share :func:`~imitlab.defaults.config_for`, and stay out of ``imitlab
train`` and the bench.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from imitlab.errors import UserError

Need = Literal["demos", "expert", "q_expert", "tabular_env"]
"""What a train function needs: ``demos`` (demonstrations: ``--demos``, the bench's demo sets),
``expert`` (an expert it queries: ``--expert``, the shipped one), ``q_expert`` (an expert with Q*:
a critic, or an env imitlab can restore for Monte-Carlo roll-outs; checked before any work starts),
``tabular_env`` (an env with known tabular dynamics, which the train function checks)."""
Accept = Literal["demos", "init_policy"]
"""What a train function may take: ``demos`` (to start from), ``init_policy`` (a warm start)."""
Unit = Literal["epochs", "env_steps", "iterations"]
Kind = Literal["imitation", "expert"]

# The CLI option of each budget unit: the names the commands have always had.
BUDGET_OPTIONS: dict[str, str] = {"epochs": "--epochs", "env_steps": "--steps", "iterations": "--iterations"}


@dataclass(frozen=True)
class Budget:
    """How much an algorithm trains, and where the per-task default of that comes from."""

    unit: Unit
    """What the budget counts: passes over the demos, env steps, or updates."""
    param: str
    """The keyword that takes it: a parameter of the train function (``total_steps``), or with
    ``in_config`` a field of the config (``epochs``). A run's config.json records it under this name."""
    in_config: bool = False
    """The budget is the config field ``param``: its per-task default is the task config's."""
    task_key: str | None = None
    """The per-task budget's key in ``imitlab.defaults.TASK_DEFAULTS`` (e.g. ``gail_steps``)."""
    fallback: int | None = None
    """The budget on a task whose table has none (None: no default, the caller must give one)."""
    help: str = ""
    """The budget option's help, before the account of its per-task defaults."""

    @property
    def option(self) -> str:
        """The CLI option that sets it: ``--epochs``, ``--steps`` or ``--iterations``."""
        return BUDGET_OPTIONS[self.unit]


@dataclass(frozen=True)
class OptionSpec:
    """How ``imitlab train`` shows one config field, where its name, type or docstring is not enough."""

    flag: str | None = None
    """The option's name, where it predates the field's (``--disc-updates`` for ``disc_epochs``);
    the field's own name (``--disc-epochs``) works too."""
    min: float | None = None
    """The smallest value accepted (checked by the CLI)."""
    max: float | None = None
    """The largest value accepted (checked by the CLI)."""
    max_open: bool = False
    """``max`` itself is refused."""
    help: str | None = None
    """The help of a field without an attribute docstring (the docstring wins where there is one)."""


def field_docs(config_class: type) -> dict[str, str]:
    """The attribute docstring of each field of a config dataclass (the string on the line after
    the field, the house convention), by field name; base classes' too. Fields without one are
    left out, and so is everything when the source cannot be read."""
    docs: dict[str, str] = {}
    for klass in reversed(config_class.__mro__[:-1]):  # bases first: a subclass's doc wins
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for stmt, after in zip(body, body[1:]):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
                docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _resolve(ref: Any) -> Any:
    """``ref`` itself, or the object a ``"module:attribute"`` string names."""
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True, eq=False)
class AlgorithmSpec:
    """One algorithm, as the CLI, the bench and the defaults see it."""

    name: str
    """The command and bench name (``imitlab train NAME``, ``--algos NAME``)."""
    config: type | str
    """The config dataclass, or ``"module:Class"``."""
    train: Callable[..., Any] | str
    """The train function, or ``"module:function"``. It takes keyword arguments: ``env_id``, ``config``;
    ``demos``, ``expert``, ``init_policy`` by its needs; the budget (unless it is a config field);
    ``seed``, ``out`` (None: no run directory), ``eval_every``, ``eval_episodes`` and ``progress``
    (False), each with a default, since the bench leaves some out; ``checkpoint_every`` and ``resume``
    when it resumes. It returns a :class:`~imitlab.training.TrainResult`."""
    description: str
    """One line: the command's help."""
    budget: Budget
    needs: frozenset[Need] = frozenset()
    accepts: frozenset[Accept] = frozenset()
    resumable: bool = False
    """Its runs checkpoint and ``resume`` continues them (``--resume``, ``--checkpoint-every``)."""
    eval_every: int = 0
    """The CLI's default ``--eval-every``, in budget units."""
    eval_every_help: str | None = None
    """The ``--eval-every`` help (default: "<unit> between evaluations.")."""
    defaults_key: str | None = None
    """Its config's key in ``imitlab.defaults.TASK_DEFAULTS`` (default: ``name``)."""
    options: Mapping[str, OptionSpec] = field(default_factory=dict)
    """Per config field: the CLI option's older name, its range, or its help where the field has no docstring."""
    kind: Kind = "imitation"
    train_args: Mapping[str, Any] = field(default_factory=dict)
    """Keyword arguments bound to ``train`` (an expert learner's ``algo``)."""

    @property
    def config_class(self) -> type:
        """The config dataclass (imported here when the entry names it)."""
        return _resolve(self.config)

    @property
    def train_fn(self) -> Callable[..., Any]:
        """The train function (imported here when the entry names it), ``train_args`` bound."""
        fn = _resolve(self.train)
        if not self.train_args:
            return fn
        return lambda **kwargs: fn(**self.train_args, **kwargs)

    @property
    def table_key(self) -> str:
        """Its config's key in ``imitlab.defaults.TASK_DEFAULTS``."""
        return self.defaults_key or self.name

    @property
    def uses_demos(self) -> bool:
        """It learns from demonstrations (the bench gives it demo sets of each size)."""
        return "demos" in self.needs

    @property
    def needs_expert(self) -> bool:
        """It queries an expert (any, or one with Q*)."""
        return bool(self.needs & {"expert", "q_expert"})

    @property
    def unit(self) -> Unit:
        """Its budget's unit (the bench records it with each run)."""
        return self.budget.unit

    def apply_budget(self, config: Any, budget: int) -> tuple[Any, dict[str, int]]:
        """``config`` and the train function's budget keyword: the budget goes into the config
        when it is a config field, else into the keyword."""
        if self.budget.in_config:
            return dataclasses.replace(config, **{self.budget.param: budget}), {}
        return config, {self.budget.param: budget}


_REGISTRY: dict[str, AlgorithmSpec] = {}


def register(spec: AlgorithmSpec, *, replace: bool = False) -> AlgorithmSpec:
    """Add ``spec`` to the registry (``replace`` an entry of the same name); returns it."""
    if spec.name in _REGISTRY and not replace:
        raise ValueError(f"algorithm {spec.name!r} is already registered")
    unknown = (set(spec.needs) - set(get_args(Need))) | (set(spec.accepts) - set(get_args(Accept)))
    if unknown:
        raise ValueError(f"algorithm {spec.name!r}: unknown needs {sorted(unknown)}")
    if spec.budget.in_config and (spec.budget.task_key is not None or spec.budget.fallback is not None):
        raise ValueError(f"algorithm {spec.name!r}: a config-field budget's default is the task config's; "
                         "give it no task_key or fallback")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> AlgorithmSpec:
    """Remove the entry ``name`` (a test's toy algorithm); returns it."""
    return _REGISTRY.pop(name)


def get_algorithm(name: str) -> AlgorithmSpec:
    """The entry ``name``; a UserError naming the registered ones if there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UserError(f"unknown algorithm {name!r}; choose from {', '.join(_REGISTRY)}") from None


class _Algorithms(Mapping[str, AlgorithmSpec]):
    """A live view of the registry's entries of one kind, in registration order."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind

    def __getitem__(self, name: str) -> AlgorithmSpec:
        spec = _REGISTRY[name]
        if spec.kind != self.kind:
            raise KeyError(name)
        return spec

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, spec in _REGISTRY.items() if spec.kind == self.kind])

    def __len__(self) -> int:
        return sum(spec.kind == self.kind for spec in _REGISTRY.values())

    def __repr__(self) -> str:
        return f"<{self.kind} algorithms: {', '.join(self)}>"


ALGORITHMS: Mapping[str, AlgorithmSpec] = _Algorithms("imitation")
"""The imitation algorithms (``imitlab train``, the bench), live: a later :func:`register` shows."""
EXPERT_LEARNERS: Mapping[str, AlgorithmSpec] = _Algorithms("expert")
"""The expert learners (``imitlab expert train --algo``), live."""


def expert_learner(algo: str) -> AlgorithmSpec:
    """The expert learner ``algo`` (``ppo``, ``dqn``, ``sac``): the entry ``expert-ALGO``."""
    return get_algorithm(f"expert-{algo}")


# ------------------------------------------------------------------------------ the algorithms
_STEPS_BETWEEN_EVALS = "Env steps between evaluations."

register(AlgorithmSpec(
    name="bc",
    config="imitlab.algorithms.bc:BCConfig",
    train="imitlab.algorithms.bc:train_bc",
    description="Behavioral cloning, stopped early on held-out demos.",
    needs=frozenset({"demos"}),
    budget=Budget(unit="epochs", param="epochs", in_config=True,
                  help="Most passes over the demos; BC stops earlier once its held-out demos stop improving."),
    eval_every=0,
    eval_every_help="Epochs between evaluations of the current weights (0: only the kept weights, at the end).",
    options={"validation_fraction": OptionSpec(min=0, max=1, max_open=True), "patience": OptionSpec(min=1)},
))
register(AlgorithmSpec(
    name="gail",
    config="imitlab.algorithms.gail:GAILConfig",
    train="imitlab.algorithms.gail:train_gail",
    description="Generative adversarial imitation learning.",
    needs=frozenset({"demos"}),
    accepts=frozenset({"init_policy"}),
    resumable=True,
    budget=Budget(unit="env_steps", param="total_steps", task_key="gail_steps", fallback=100_000,
                  help="Environment steps."),
    eval_every=10_000,
    eval_every_help=_STEPS_BETWEEN_EVALS,
    # The names these options had before they were generated from the fields.
    options={"disc_epochs": OptionSpec(flag="--disc-updates", min=1), "disc_grad_penalty": OptionSpec(flag="--grad-penalty", min=0),
             "disc_entropy_bonus": OptionSpec(flag="--disc-entropy", min=0)},
))
register(AlgorithmSpec(
    name="gail-offline",
    config="imitlab.algorithms.gail_offline:OfflineGAILConfig",
    train="imitlab.algorithms.gail_offline:train_gail_offline",
    description="Offline GAIL: no environment interaction (the env only evaluates). Its ceiling is BC's.",
    needs=frozenset({"demos"}),
    resumable=True,
    budget=Budget(unit="iterations", param="iterations", in_config=True, help="Policy updates."),
    eval_every=125,
    defaults_key="gail_offline",
))
register(AlgorithmSpec(
    name="airl",
    config="imitlab.algorithms.airl:AIRLConfig",
    train="imitlab.algorithms.airl:train_airl",
    description="Adversarial inverse RL: GAIL's loop with a discriminator g + gamma h' - h - log pi; keeps the reward g (reward.pt).",
    needs=frozenset({"demos"}),
    accepts=frozenset({"init_policy"}),
    resumable=True,
    budget=Budget(unit="env_steps", param="total_steps", task_key="airl_steps", fallback=100_000,
                  help="Environment steps."),
    eval_every=10_000,
    eval_every_help=_STEPS_BETWEEN_EVALS,
    options={"disc_epochs": OptionSpec(flag="--disc-updates", min=1), "disc_grad_penalty": OptionSpec(flag="--grad-penalty", min=0),
             "disc_entropy_bonus": OptionSpec(flag="--disc-entropy", min=0)},
))
# Interactive: they query the expert on their own states (the bench gives them no demos).
register(AlgorithmSpec(
    name="dagger",
    config="imitlab.algorithms.dagger:DAggerConfig",
    train="imitlab.algorithms.dagger:train_dagger",
    description="DAgger: the expert labels the states the learner visits; BC on the aggregate each round.",
    needs=frozenset({"expert"}),
    accepts=frozenset({"demos"}),
    resumable=True,
    budget=Budget(unit="env_steps", param="total_steps", task_key="dagger_steps", fallback=20_000,
                  help="Environment steps of roll-in."),
    eval_every=2_000,
    eval_every_help=_STEPS_BETWEEN_EVALS,
    options={"steps_per_round": OptionSpec(min=1), "beta_decay_rounds": OptionSpec(min=1), "beta_p": OptionSpec(min=0, max=1),
             "epochs": OptionSpec(min=1)},
))
register(AlgorithmSpec(
    name="aggrevated",
    config="imitlab.algorithms.aggrevated:AggreVaTeDConfig",
    train="imitlab.algorithms.aggrevated:train_aggrevated",
    description="AggreVaTeD: learn actions of low cost-to-go under the expert's Q* (critic or Monte Carlo).",
    needs=frozenset({"q_expert"}),
    resumable=True,
    budget=Budget(unit="env_steps", param="total_steps", task_key="aggrevated_steps", fallback=20_000,
                  help="Environment steps of roll-in."),
    eval_every=2_000,
    eval_every_help=_STEPS_BETWEEN_EVALS,
    options={"num_envs": OptionSpec(flag="--rollins", min=1), "horizon": OptionSpec(min=1),
             "alpha_decay_rounds": OptionSpec(min=1), "alpha_p": OptionSpec(min=0, max=1), "mc_horizon": OptionSpec(min=1)},
))

# Expert learners, on the env's own reward. Their default budget is the shipped expert's
# (imitlab.defaults.zoo_expert_steps), not a per-task table entry.
_EXPERT_BUDGET = Budget(unit="env_steps", param="total_steps", help="Environment steps.")
for _algo, _config, _key, _description in (
    ("ppo", "imitlab.rl.ppo:PPOConfig", "expert", "PPO on the env's reward: any action space."),
    ("dqn", "imitlab.rl.dqn:DQNConfig", "expert_dqn", "DQN on the env's reward: discrete actions; its Q-network is Q*."),
    ("sac", "imitlab.rl.sac:SACConfig", "expert_sac", "SAC on the env's reward: continuous actions; its critic is Q*."),
):
    register(AlgorithmSpec(
        name=f"expert-{_algo}", kind="expert", config=_config, train="imitlab.experts.train:train_expert",
        train_args={"algo": _algo}, description=_description, budget=_EXPERT_BUDGET, resumable=True,
        eval_every=10_000, defaults_key=_key,
    ))

# Inverse RL on tabular envs with known dynamics (FrozenLake, CliffWalking, GridWorld-v0): exact.
register(AlgorithmSpec(
    name="maxent-irl",
    config="imitlab.algorithms.irl.maxent:MaxEntIRLConfig",
    train="imitlab.algorithms.irl.maxent:train_maxent_irl",
    description="Maximum causal entropy IRL on a tabular env with known dynamics: learns its reward exactly (reward.pt).",
    needs=frozenset({"demos", "tabular_env"}),
    budget=Budget(unit="iterations", param="iterations", in_config=True,
                  help="Most gradient steps on the reward (it stops earlier once the feature counts match)."),
    eval_every=0,
    eval_every_help="Iterations between evaluations of the learned reward's optimal policy in the env (0: only at the end).",
    defaults_key="maxent_irl",
    options={"lr": OptionSpec(min=0), "gamma": OptionSpec(min=0, max=1), "horizon": OptionSpec(min=0),
             "l2": OptionSpec(min=0), "tol": OptionSpec(min=0), "tie_rtol": OptionSpec(min=0)},
))

# Inverse RL with an RL inner loop: a linear reward by the projection method (Abbeel & Ng 2004).
register(AlgorithmSpec(
    name="apprenticeship",
    config="imitlab.algorithms.irl.apprenticeship:ApprenticeshipConfig",
    train="imitlab.algorithms.irl.apprenticeship:train_apprenticeship",
    description="Apprenticeship learning (Abbeel & Ng 2004): a linear reward w . phi(s) by the projection "
                "method on feature expectations, RL on it each iteration (reward.pt, feature_gap.png).",
    needs=frozenset({"demos"}),
    budget=Budget(unit="env_steps", param="total_steps", task_key="apprenticeship_steps", fallback=100_000,
                  help="Environment steps: every iteration's RL and the roll-outs that estimate its policy's feature expectations."),
    eval_every=20_000,
    eval_every_help="Env steps between evaluations of the current iteration's policy (at the end of an iteration).",
    options={"steps_per_iteration": OptionSpec(min=1), "mu_episodes": OptionSpec(min=1), "n_fourier": OptionSpec(min=0, max=16_384),
             "bandwidth": OptionSpec(min=1e-6), "tolerance": OptionSpec(min=0)},
))

# The off-policy family: a replay buffer of the agent's own steps beside the demonstrations.
# Ranges of the OffPolicyConfig fields they share, and of IQ-Learn's own (both IQ-Learn entries).
_OFF_POLICY_OPTIONS = {"batch_size": OptionSpec(min=1), "updates_per_step": OptionSpec(min=1),
                       "gamma": OptionSpec(min=0, max=1, max_open=True)}
_IQ_LEARN_OPTIONS = {**_OFF_POLICY_OPTIONS, "chi2_alpha": OptionSpec(min=0), "reward_fit_steps": OptionSpec(min=0)}
register(AlgorithmSpec(
    name="sqil",
    config="imitlab.algorithms.offpolicy.sqil:SQILConfig",
    train="imitlab.algorithms.offpolicy.sqil:train_sqil",
    description="SQIL: soft Q-learning (discrete) or SAC (continuous) with reward 1 on demonstrations, 0 on the agent's steps.",
    needs=frozenset({"demos"}),
    resumable=True,
    budget=Budget(unit="env_steps", param="total_steps", task_key="sqil_steps", fallback=100_000,
                  help="Environment steps (one update each)."),
    eval_every=10_000,
    eval_every_help=_STEPS_BETWEEN_EVALS,
    options=_OFF_POLICY_OPTIONS,
))
register(AlgorithmSpec(
    name="iq-learn",
    config="imitlab.algorithms.offpolicy.iq_learn:IQLearnConfig",
    train="imitlab.algorithms.offpolicy.iq_learn:train_iq_learn",
    description="IQ-Learn: inverse soft-Q learning, online or --offline; keeps the recovered reward Q - gamma V' (reward.pt).",
    needs=frozenset({"demos"}),
    resumable=True,
    budget=Budget(unit="env_steps", param="total_steps", task_key="iq_learn_steps", fallback=100_000,
                  help="Environment steps, one update each (with --offline: updates, and no env steps)."),
    eval_every=10_000,
    eval_every_help="Steps (env steps, or updates with --offline) between evaluations.",
    defaults_key="iq_learn",
    options=_IQ_LEARN_OPTIONS,
))
register(AlgorithmSpec(
    name="iq-learn-offline",
    config="imitlab.algorithms.offpolicy.iq_learn:IQLearnConfig",
    train="imitlab.algorithms.offpolicy.iq_learn:train_iq_learn",
    train_args={"offline": True},
    description="IQ-Learn without env interaction (the env only evaluates): iq-learn --offline, under its own defaults and budget.",
    needs=frozenset({"demos"}),
    resumable=True,
    budget=Budget(unit="iterations", param="total_steps", task_key="iq_learn_offline_updates", fallback=5_000,
                  help="Updates."),
    eval_every=1_000,
    eval_every_help="Updates between evaluations.",
    defaults_key="iq_learn_offline",
    options=_IQ_LEARN_OPTIONS,
))
register(AlgorithmSpec(
    name="dac",
    config="imitlab.algorithms.adversarial.dac:DACConfig",
    train="imitlab.algorithms.adversarial.dac:train_dac",
    description="DAC: adversarial imitation with a SAC generator on a replay buffer, gradient penalty, absorbing states "
                "(continuous actions).",
    needs=frozenset({"demos"}),
    resumable=True,
    budget=Budget(unit="env_steps", param="total_steps", task_key="dac_steps", fallback=100_000,
                  help="Environment steps (one SAC update each)."),
    eval_every=10_000,
    eval_every_help=_STEPS_BETWEEN_EVALS,
    options={**_OFF_POLICY_OPTIONS, "disc_every": OptionSpec(min=1), "disc_grad_penalty": OptionSpec(min=0),
             "disc_entropy_bonus": OptionSpec(min=0)},
))

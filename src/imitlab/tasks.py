"""The task registry: for each supported env, the returns that normalise scores and the defaults
its runs start from.

``random`` and ``expert`` are mean returns over 50 deterministic evaluation episodes, measured by
the command recorded beside them (not copied from papers), so that
``normalized = (R - R_random) / (R_expert - R_random)`` means the same thing in every table.
"""

from __future__ import annotations

from dataclasses import dataclass

from imitlab.errors import UserError


@dataclass(frozen=True)
class Task:
    env_id: str
    random_return: float
    random_std: float
    expert_return: float
    expert_std: float
    measured_with: str  # the commands that measured the two returns
    expert_bar: float  # the least mean return a shipped expert must reach (50 deterministic episodes)


TASKS: dict[str, Task] = {
    task.env_id: task
    for task in [
        Task(
            env_id="CartPole-v1",
            random_return=19.94,
            random_std=9.21,
            expert_return=500.0,
            expert_std=0.0,
            measured_with="imitlab eval --env CartPole-v1 --policy random|zoo --episodes 50 --seed 0",
            expert_bar=500.0,
        ),
        Task(
            env_id="CartPole-v0",
            random_return=19.94,
            random_std=9.21,
            expert_return=200.0,
            expert_std=0.0,
            measured_with="imitlab eval --env CartPole-v0 --policy random|zoo --episodes 50 --seed 0",
            expert_bar=200.0,
        ),
        Task(
            env_id="Acrobot-v1",
            random_return=-499.90,
            random_std=0.70,
            expert_return=-79.04,
            expert_std=18.28,
            measured_with="imitlab eval --env Acrobot-v1 --policy random|zoo --episodes 50 --seed 0",
            expert_bar=-90.0,
        ),
        Task(
            env_id="MountainCar-v0",
            random_return=-200.0,
            random_std=0.0,
            expert_return=-107.16,
            expert_std=11.93,
            measured_with="imitlab eval --env MountainCar-v0 --policy random|zoo --episodes 50 --seed 0",
            expert_bar=-110.0,
        ),
        Task(
            env_id="LunarLander-v3",
            random_return=-171.36,
            random_std=97.99,
            expert_return=245.11,
            expert_std=24.80,
            measured_with="imitlab eval --env LunarLander-v3 --policy random|zoo --episodes 50 --seed 0",
            expert_bar=230.0,
        ),
        Task(
            env_id="BipedalWalker-v3",
            random_return=-102.71,
            random_std=16.98,
            expert_return=308.34,
            expert_std=27.64,
            measured_with="imitlab eval --env BipedalWalker-v3 --policy random|zoo --episodes 50 --seed 0",
            expert_bar=280.0,
        ),
        Task(
            env_id="HalfCheetah-v5",
            random_return=-269.31,
            random_std=79.37,
            expert_return=6294.98,
            expert_std=314.85,
            measured_with="imitlab eval --env HalfCheetah-v5 --policy random|zoo --episodes 50 --seed 0",
            expert_bar=3000.0,
        ),
        Task(
            env_id="Hopper-v5",
            random_return=15.22,
            random_std=7.31,
            expert_return=2982.15,
            expert_std=19.55,
            measured_with="imitlab eval --env Hopper-v5 --policy random|zoo --episodes 50 --seed 0",
            expert_bar=2500.0,
        ),
        Task(
            env_id="Walker2d-v5",
            random_return=0.56,
            random_std=5.11,
            expert_return=4008.80,
            expert_std=1402.37,
            measured_with="imitlab eval --env Walker2d-v5 --policy random|zoo --episodes 50 --seed 0",
            expert_bar=3500.0,
        ),
        Task(
            env_id="Pendulum-v1",
            random_return=-1194.11,
            random_std=302.54,
            expert_return=-137.34,
            expert_std=90.94,
            measured_with="imitlab eval --env Pendulum-v1 --policy random|zoo --episodes 50 --seed 0 "
            "(zoo: the shipped SAC expert, zoo/Pendulum-v1.pt)",
            expert_bar=-200.0,
        ),
        # Tabular envs with known dynamics (maximum-entropy IRL's): their expert is exact, the
        # optimal policy by value iteration (imitlab.experts.tabular: --expert optimal, and zoo, no
        # file being shipped for them). Their returns are exact expectations over the env's own
        # time limit (imitlab.rl.tabular.evaluate_policy; gamma 1), not 50-episode samples: a
        # sample of FrozenLake's successes is too noisy to normalise by (the optimum reaches the
        # goal 74.0% of the time; 50 episodes, seed 0, gave 80%). The stds are the samples'.
        Task(
            env_id="FrozenLake-v1",
            random_return=0.0139,
            random_std=0.14,
            expert_return=0.7402,
            expert_std=0.40,
            measured_with="exact expectations (imitlab.rl.tabular.evaluate_policy, 100 steps); 50 episodes of "
            "imitlab eval --env FrozenLake-v1 --policy random|zoo --episodes 50 --seed 0: 0.02 and 0.80",
            expert_bar=0.49,  # the optimum less four standard errors of a 50-episode mean (0.062 each)
        ),
        Task(
            env_id="CliffWalking-v1",
            random_return=-2079.12,
            random_std=596.98,
            expert_return=-13.0,
            expert_std=0.0,
            measured_with="exact expectations over imitlab's 200-step time limit (imitlab.envs.vector.DEFAULT_TIME_LIMITS; "
            "gymnasium registers none) by imitlab.rl.tabular.evaluate_policy; 50 episodes of imitlab eval --env "
            "CliffWalking-v1 --policy random|zoo --episodes 50 --seed 0: -1910.72 ± 596.98 and -13.0",
            expert_bar=-13.0,
        ),
        Task(
            env_id="GridWorld-v0",
            random_return=-16.76,
            random_std=9.65,
            expert_return=0.40,
            expert_std=0.0,
            measured_with="exact expectations on the default map (imitlab.rl.tabular.evaluate_policy, 100 steps); "
            "50 episodes of imitlab eval --env GridWorld-v0 --policy random|zoo --episodes 50 --seed 0: -17.17 and 0.40",
            expert_bar=0.40,
        ),
    ]
}


def get_task(env_id: str) -> Task | None:
    """The registry entry of ``env_id``, or None if it has none."""
    return TASKS.get(env_id)


def normalized_score(env_id: str, mean_return: float) -> float | None:
    """``(R - R_random) / (R_expert - R_random)`` with the registry's returns; None if unregistered."""
    task = TASKS.get(env_id)
    if task is None:
        return None
    return (mean_return - task.random_return) / (task.expert_return - task.random_return)


def require_task(env_id: str) -> Task:
    task = TASKS.get(env_id)
    if task is None:
        raise UserError(f"{env_id} is not in imitlab's task registry; registered: {', '.join(TASKS)}")
    return task


@dataclass(frozen=True)
class MeasuredOn:
    """Where a record was measured. Box2D and MuJoCo are chaotic: a last-bit difference in a float
    kernel (another CPU's vector path, another engine release) grows into another trajectory, so
    their records replay exactly only on the same CPU and packages, and elsewhere within the
    spread of a 50-episode mean. imitlab's numpy-batched classic envs replay to the recorded digit
    on other CPUs too (checked on an AMD EPYC)."""

    engine: str  # what simulated the env, with its version
    torch: str
    numpy: str
    gymnasium: str
    cpu: str  # model name and widest vector extension

    def describe(self) -> str:
        return f"{self.engine}, torch {self.torch}, numpy {self.numpy}, gymnasium {self.gymnasium}, {self.cpu}"


def _measured_here(engine: str) -> MeasuredOn:
    # The machine every record below was measured on (and replayed on to the last digit,
    # 2026-11-23, with these versions): the project's 2-core development machine.
    return MeasuredOn(engine=engine, torch="2.13.0+cpu", numpy="2.4.6", gymnasium="1.4.0",
                      cpu="Intel(R) Xeon(R) Processor (AVX-512)")


_NUMPY = _measured_here("imitlab's numpy-batched env")
_BOX2D = _measured_here("Box2D 2.3.10")
_MUJOCO = _measured_here("mujoco 4.0.0")
_MUJOCO_401 = _measured_here("mujoco 4.0.1")


@dataclass(frozen=True)
class ZooRecord:
    """What a shipped expert file does not record itself: its return over 50 deterministic
    episodes (``imitlab eval --env ENV --policy SPEC --episodes 50 --seed 0``), where that was
    measured, and the time its training took (``wall_seconds`` where it was measured apart from
    ``train_seconds``)."""

    mean_return: float
    std_return: float
    train_seconds: float
    measured_on: MeasuredOn
    wall_seconds: float | None = None


# zoo file name -> its record (experts/zoo/README.md); the command that made it is in the file.
ZOO_RECORDS: dict[str, ZooRecord] = {
    "CartPole-v1.pt": ZooRecord(mean_return=500.0, std_return=0.0, train_seconds=8.6, measured_on=_NUMPY),
    "CartPole-v0.pt": ZooRecord(mean_return=200.0, std_return=0.0, train_seconds=17.0, measured_on=_NUMPY),
    "Acrobot-v1.pt": ZooRecord(mean_return=-79.04, std_return=18.28, train_seconds=22.7, measured_on=_NUMPY),
    "CartPole-v1.dqn.pt": ZooRecord(mean_return=500.0, std_return=0.0, train_seconds=67.9, wall_seconds=71.1, measured_on=_NUMPY),
    "Pendulum-v1.pt": ZooRecord(mean_return=-137.34, std_return=90.94, train_seconds=75.9, wall_seconds=78.9, measured_on=_NUMPY),
    "LunarLander-v3.pt": ZooRecord(mean_return=245.11, std_return=24.80, train_seconds=333.0, measured_on=_BOX2D),
    "BipedalWalker-v3.pt": ZooRecord(mean_return=308.34, std_return=27.64, train_seconds=3480.9, measured_on=_BOX2D),
    "HalfCheetah-v5.pt": ZooRecord(mean_return=6294.98, std_return=314.85, train_seconds=1982.5, measured_on=_MUJOCO),
    "Hopper-v5.pt": ZooRecord(mean_return=2982.15, std_return=19.55, train_seconds=2281.3, measured_on=_MUJOCO),
    "Walker2d-v5.pt": ZooRecord(mean_return=4008.80, std_return=1402.37, train_seconds=7775.7, measured_on=_MUJOCO_401),
    "MountainCar-v0.pt": ZooRecord(mean_return=-107.16, std_return=11.93, train_seconds=425.2, measured_on=_NUMPY),
}

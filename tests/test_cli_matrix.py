"""The CLI surface, command by task: every ``imitlab train`` command and every ``imitlab expert train
--algo`` on every registered task whose extra is installed, with tiny budgets. Each either runs and
leaves a well-formed run directory (config.json, metrics.csv, progress.csv, a policy.pt that loads
and evaluates), or, where the task lacks what the algorithm needs, refuses with one line and exit 2.
"""

from __future__ import annotations

import csv
import json
import math
from functools import cache
from pathlib import Path

import pytest

from imitlab.bench.grid import check_env_ready
from imitlab.cli import main
from imitlab.errors import UserError
from imitlab.tasks import TASKS

ENVS = list(TASKS)
DISCRETE = {"CartPole-v1", "CartPole-v0", "Acrobot-v1", "MountainCar-v0", "LunarLander-v3"}
CONTINUOUS = {"BipedalWalker-v3", "HalfCheetah-v5", "Hopper-v5", "Pendulum-v1", "Walker2d-v5"}
TABULAR = {"FrozenLake-v1", "CliffWalking-v1", "GridWorld-v0"}  # discrete actions, known dynamics

# Budgets of two iterations (epochs, rounds, batches) with an evaluation after each, so that
# metrics.csv gets rows and the records of a later iteration meet those of the first. Their
# learning is not tested here: only that the surface holds together. GAIL's budget is two of the
# task's generator batches (see _gail_steps).
TRAIN_ARGS = {
    "bc": ["--epochs", "2", "--eval-every", "1"],
    "gail": ["--eval-every", "1"],
    "airl": ["--eval-every", "1"],
    "apprenticeship": ["--steps", "2048", "--steps-per-iteration", "1024", "--mu-episodes", "1", "--eval-every", "1"],
    "rl": ["--steps", "2048", "--eval-every", "1"],
    "gail-offline": ["--iterations", "2", "--eval-every", "1"],
    "maxent-irl": ["--iterations", "2", "--eval-every", "1"],
    "dagger": ["--expert", "zoo", "--steps", "200", "--steps-per-round", "100", "--eval-every", "100"],
    # The off-policy family: past learning_starts, so that updates run, and two evaluations.
    **{algo: ["--steps", "300", "--learning-starts", "100", "--batch-size", "32", "--hidden", "32,32", "--eval-every", "150"]
       for algo in ("sqil", "dac")},
    "iq-learn": ["--steps", "300", "--learning-starts", "100", "--batch-size", "32", "--hidden", "32,32",
                 "--reward-fit-steps", "10", "--eval-every", "150"],
    "iq-learn-offline": ["--iterations", "100", "--batch-size", "32", "--hidden", "32,32", "--reward-fit-steps", "10",
                         "--eval-every", "50"],
    "aggrevated": ["--expert", "zoo", "--steps", "200", "--rollins", "2", "--horizon", "50", "--mc-horizon", "20",
                   "--eval-every", "100"],
}
USES_DEMOS = {"bc", "gail", "airl", "apprenticeship", "gail-offline", "maxent-irl", "sqil", "iq-learn", "iq-learn-offline",
              "dac"}
# PPO: two batches of at most 1,024 steps (small_ppo_rollouts). DQN and SAC write progress.csv
# rows only when an episode ends: their budgets run past the task's time limit (_past_time_limit).
EXPERT_ARGS = {
    "ppo": ["--steps", "2048", "--eval-every", "1"],
    "dqn": ["--eval-every", "300"],
    "sac": ["--eval-every", "550"],
}

# Where each combination is expected to refuse, and the words its one line must hold. AggreVaTeD
# needs Q*: the zoo experts of these tasks are PPO policies (no critic) and imitlab cannot restore
# their envs' state for Monte-Carlo roll-outs. DQN needs discrete actions, SAC continuous ones.
REFUSALS = {
    **{("train", "aggrevated", env): "AggreVaTeD needs Q*" for env in ("LunarLander-v3", "BipedalWalker-v3")},
    **{("expert", "dqn", env): "DQN needs discrete actions" for env in CONTINUOUS},
    **{("expert", "sac", env): "SAC needs continuous" for env in DISCRETE | TABULAR},
    **{("train", "maxent-irl", env): "has no known tabular dynamics" for env in DISCRETE | CONTINUOUS},
    **{("train", "dac", env): "dac trains a SAC generator" for env in DISCRETE | TABULAR},
}


def test_the_matrix_covers_every_command_and_task():
    """A command, expert algorithm or task added without a row here fails, rather than going untested."""
    from imitlab.cli.train import train
    from imitlab.experts.train import EXPERT_ALGOS

    assert set(TRAIN_ARGS) == set(train.commands)
    assert set(EXPERT_ARGS) == set(EXPERT_ALGOS)
    assert set(ENVS) == DISCRETE | CONTINUOUS | TABULAR


@cache
def _not_ready(env_id: str) -> str | None:
    try:
        check_env_ready(env_id)
    except UserError as e:
        return str(e)
    return None


def _require(env_id: str) -> None:
    reason = _not_ready(env_id)
    if reason:
        pytest.skip(reason)


def _run(capsys, argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    """Two episodes of each task's shipped expert, collected by the CLI once per env."""
    made: dict[str, Path] = {}
    root = tmp_path_factory.mktemp("matrix-demos")

    def get(env_id: str) -> Path:
        if env_id not in made:
            path = root / f"{env_id}.npz"
            assert main(["demos", "collect", "--env", env_id, "--expert", "zoo", "--episodes", "2", "--seed", "0",
                         "--out", str(path)]) == 0
            made[env_id] = path
        return made[env_id]

    return get


def _gail_steps(env_id: str, algo: str = "gail") -> int:
    """Two batches of the task's GAIL (or AIRL) generator."""
    from imitlab.defaults import config_for

    gen = config_for(algo, env_id).generator_config()
    return 2 * gen.num_envs * gen.num_steps


@pytest.fixture(scope="module")
def reward_file(tmp_path_factory):
    """A reward.pt per task for ``train rl``: an untrained AIRL reward network saved as an IRL run
    saves it (what ``train rl`` does with it is tested here, not how good it is)."""
    from imitlab.envs.vector import env_spaces
    from imitlab.rewards import save_reward
    from imitlab.rewards.nets import RewardNet

    root = tmp_path_factory.mktemp("matrix-rewards")

    def get(env_id: str) -> Path:
        path = root / f"{env_id}.pt"
        if not path.exists():
            obs_space, act_space = env_spaces(env_id)
            save_reward(RewardNet(obs_space, act_space, absorbing=True), path, env_id=env_id, obs_space=obs_space,
                        act_space=act_space, absorbing_reward=0.5, gamma=0.99)
        return path

    return get


def _past_time_limit(env_id: str, algo: str) -> int:
    """Env steps by which every env of an off-policy expert learner has ended an episode, whatever
    the (chaotic) dynamics: one past the time limit in each."""

    from imitlab.defaults import expert_config
    from imitlab.envs.vector import time_limit

    return (time_limit(env_id) + 1) * getattr(expert_config(env_id, algo), "num_envs", 1)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows, f"{path.name} is empty"
    return rows[0], rows[1:]


def _check_run_dir(run_dir: Path, env_id: str) -> None:
    """The files every run directory promises, each well-formed; the policy loads and evaluates."""
    from imitlab.evaluation import evaluate
    from imitlab.policies import load_policy

    config = json.loads((run_dir / "config.json").read_text())
    assert config["env_id"] == env_id and "versions" in config
    header, rows = _read_csv(run_dir / "metrics.csv")
    assert header[:2] == ["env_steps", "epoch"] and len(rows) >= 1
    for name in ("metrics.csv", "progress.csv"):
        header, rows = _read_csv(run_dir / name)
        bad = [i for i, row in enumerate(rows, start=2) if len(row) != len(header)]
        assert not bad, f"{name}: line {bad[0]} has a different number of columns than its header {header}"
    policy, meta = load_policy(run_dir / "policy.pt")
    assert meta["env_id"] == env_id
    result = evaluate(policy, env_id, episodes=1, seed=0)
    assert math.isfinite(result.mean_return)


def _check_refusal(code: int, err: str, out: Path, match: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("imitlab: error:") and match in lines[0], err
    assert "Traceback" not in err
    assert not out.exists()  # nothing written


@pytest.mark.parametrize("env_id", ENVS)
@pytest.mark.parametrize("command", list(TRAIN_ARGS))
def test_train_command_on_every_task(capsys, tmp_path, demo_file, reward_file, small_ppo_rollouts, command, env_id):
    _require(env_id)
    out = tmp_path / "run"
    argv = ["train", command, "--env", env_id, "--seed", "0", "--out", str(out), "--eval-episodes", "1",
            *TRAIN_ARGS[command]]
    if command in USES_DEMOS:
        argv += ["--demos", str(demo_file(env_id))]
    if command in ("gail", "airl"):
        argv += ["--steps", str(_gail_steps(env_id, command))]
    if command == "rl":
        argv += ["--reward", str(reward_file(env_id))]
    code, err = _run(capsys, argv)
    refusal = REFUSALS.get(("train", command, env_id))
    if refusal:
        _check_refusal(code, err, out, refusal)
        return
    assert code == 0, err[-3000:]
    _check_run_dir(out, env_id)


@pytest.fixture
def small_ppo_rollouts(monkeypatch):
    """Caps the per-task PPO expert configs at PPOConfig's default batch (8 envs x 128 steps):
    BipedalWalker-v3's 32 x 2,048 would make ``--steps 1`` take over a minute. The other
    settings (observation and reward normalisation, ...) stay the task's."""
    from dataclasses import replace

    from imitlab.defaults import TASK_DEFAULTS
    from imitlab.rl import PPOConfig

    base = PPOConfig()
    for entry in TASK_DEFAULTS.values():
        cfg = entry.get("expert")
        if cfg is not None:
            small = replace(cfg, num_envs=min(cfg.num_envs, base.num_envs), num_steps=min(cfg.num_steps, base.num_steps))
            small = replace(small, minibatch_size=min(small.minibatch_size, small.num_envs * small.num_steps))
            monkeypatch.setitem(entry, "expert", small)


@pytest.mark.parametrize("env_id", ENVS)
@pytest.mark.parametrize("algo", list(EXPERT_ARGS))
def test_expert_train_on_every_task(capsys, tmp_path, small_ppo_rollouts, algo, env_id):
    _require(env_id)
    out = tmp_path / "run"
    argv = ["expert", "train", "--env", env_id, "--algo", algo, "--seed", "0", "--out", str(out), "--eval-episodes", "1",
            *EXPERT_ARGS[algo]]
    if algo != "ppo":
        argv += ["--steps", str(_past_time_limit(env_id, algo))]
    code, err = _run(capsys, argv)
    refusal = REFUSALS.get(("expert", algo, env_id))
    if refusal:
        _check_refusal(code, err, out, refusal)
        return
    assert code == 0, err[-3000:]
    _check_run_dir(out, env_id)

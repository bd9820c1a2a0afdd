"""``imitlab zoo list``: the task registry with its shipped experts."""

import json

import pytest

from imitlab.bench.grid import check_env_ready
from imitlab.cli import main
from imitlab.errors import UserError
from imitlab.evaluation import evaluate
from imitlab.experts import load_expert, zoo_path
from imitlab.tasks import TASKS, ZOO_RECORDS


def test_zoo_list_table_and_json(capsys):
    assert main(["zoo", "list"]) == 0
    out = capsys.readouterr().out
    for env in TASKS:
        assert env in out
    assert "CartPole-v1.dqn.pt (zoo:dqn)" in out and "yes: Q-network (DQN)" in out
    assert "imitlab expert train --env Pendulum-v1 --algo sac" in out

    assert main(["zoo", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    pendulum = next(r for r in rows if r["file"] == "Pendulum-v1.pt")
    assert pendulum["q_star"] == "yes: twin critic (SAC)"
    assert (pendulum["expert_return"], pendulum["random_return"]) == (TASKS["Pendulum-v1"].expert_return, TASKS["Pendulum-v1"].random_return)
    assert pendulum["train_seconds"] == 75.9 and pendulum["expert"] == "zoo"
    cartpole = next(r for r in rows if r["file"] == "CartPole-v1.pt")
    assert cartpole["command"].startswith("imitlab expert train --env CartPole-v1 --algo ppo")



@pytest.mark.parametrize("file_name", sorted(ZOO_RECORDS))
def test_zoo_records_are_what_the_shipped_experts_score(file_name):
    """The registry's expert returns are measured, not copied: re-evaluating each shipped file as
    recorded (50 deterministic episodes, seed 0) gives them back. Box2D and MuJoCo experts are
    checked where their extra is installed."""
    env_id = file_name.split(".")[0]
    try:
        check_env_ready(env_id)
    except UserError as e:  # its extra is not installed (the test extra installs them all)
        pytest.skip(str(e))
    path = zoo_path(env_id).with_name(file_name)
    result = evaluate(load_expert(str(path), env_id), env_id, episodes=50, seed=0)
    record = ZOO_RECORDS[file_name]
    assert result.mean_return == pytest.approx(record.mean_return, abs=0.006)
    assert result.std_return == pytest.approx(record.std_return, abs=0.006)

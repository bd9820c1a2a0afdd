"""``imitlab zoo list``: the task registry with its shipped experts."""

import json

from imitlab.cli import main
from imitlab.tasks import TASKS


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

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

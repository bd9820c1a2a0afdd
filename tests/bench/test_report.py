"""The bench report's header lines say what the records say."""

import json

from imitlab.bench.report import build_report
from imitlab.bench.runs import append_run


def _record(algo, seed, *, budget, unit, epochs, config):
    history = [{"env_steps": 0, "epoch": e, "train_seconds": i + 1.0, "normalized_score": 1.0}
               for i, e in enumerate(epochs)]
    return {"algo": algo, "env": "CartPole-v1", "n_demos": 1, "seed": seed, "budget": budget, "budget_unit": unit,
            "expert": "zoo", "demos": None, "env_steps": 0, "train_seconds": 1.0, "wall_seconds": 1.0,
            "final_mean_return": 500.0, "normalized_score": 1.0, "eval_episodes": 2, "history": history,
            "config": config}


def _budgets_line(tmp_path, records):
    (tmp_path / "bench.json").write_text(json.dumps({"settings": {}, "invocations": []}))
    for r in records:
        append_run(tmp_path / "runs.jsonl", r)
    report = build_report(tmp_path).read_text()
    return next(line for line in report.splitlines() if line.startswith("- budgets: "))


def test_bc_epochs_with_early_stopping_are_a_ceiling_with_the_epochs_trained(tmp_path):
    early = {"epochs": 1000, "validation_fraction": 0.2}
    line = _budgets_line(tmp_path, [_record("bc", 0, budget=1000, unit="epochs", epochs=[100, 170], config=early),
                                    _record("bc", 1, budget=1000, unit="epochs", epochs=[52], config=early)])
    assert line == ("- budgets: bc at most 1,000 epochs (a ceiling: it stops early once its held-out demos stop "
                    "improving; runs here trained 52-170 epochs)")


def test_bc_without_a_held_out_share_and_other_algorithms_state_their_budget_plainly(tmp_path):
    line = _budgets_line(tmp_path, [
        _record("bc", 0, budget=10, unit="epochs", epochs=[10], config={"epochs": 10}),  # made before early stopping
        _record("gail", 0, budget=50_000, unit="env_steps", epochs=[None], config={}),
    ])
    assert line == "- budgets: bc 10 epochs, gail 50,000 env steps"


def test_reward_table_reports_the_learned_rewards_correlation():
    from imitlab.bench.report import reward_table

    def rec(algo, expert, random):
        corr = {"expert": {"pearson": expert}, "random": None if random is None else {"pearson": random}}
        return {"algo": algo, "n_demos": 10, "reward_correlation": corr}

    table = reward_table([rec("airl", 0.9, 0.5), rec("airl", 0.7, None), {"algo": "gail", "n_demos": 10, "reward_correlation": None}])
    assert "| airl | 10 | 0.800 (2) | 0.500 (1) |" in table
    assert "gail" not in table
    assert reward_table([{"algo": "bc", "n_demos": 4}]) == ""

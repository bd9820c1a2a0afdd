"""The CLI contract: commands, JSON output, and bad input -> one line on stderr, exit 2, nothing written."""

import json
import re
import shutil
import subprocess
import sys

from imitlab.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_demos_collect_info_and_eval(capsys, tmp_path):
    demos = tmp_path / "d.npz"
    code, out, _ = run(capsys, "demos", "collect", "--env", "CartPole-v1", "--expert", "zoo", "--episodes", "3", "--seed", "1",
                       "--out", str(demos))
    assert code == 0 and demos.is_file() and "3 episodes" in out
    code, out, _ = run(capsys, "demos", "info", str(demos), "--json")
    info = json.loads(out)
    assert code == 0
    assert (info["env_id"], info["episodes"], info["act_space"]) == ("CartPole-v1", 3, "Discrete(2)")
    assert info["return_mean"] == 500.0
    code, out, _ = run(capsys, "eval", "--env", "CartPole-v1", "--policy", "zoo", "--episodes", "5", "--json")
    res = json.loads(out)
    assert code == 0 and set(res) >= {"mean_return", "std_return", "normalized_score", "episodes"}
    assert res["mean_return"] == 500.0 and res["normalized_score"] == 1.0 and res["episodes"] == 5


def test_train_bc_then_eval_the_run_dir(capsys, tmp_path, cartpole_demo_file):
    out_dir = tmp_path / "bc"
    code, out, err = run(capsys, "train", "bc", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file), "--seed", "0",
                         "--epochs", "2", "--out", str(out_dir), "--eval-episodes", "5", "--episodes", "3")
    assert code == 0, err
    assert (out_dir / "policy.pt").is_file() and (out_dir / "config.json").is_file()
    code, out, _ = run(capsys, "eval", "--env", "CartPole-v1", "--policy", str(out_dir), "--episodes", "3", "--json")
    assert code == 0 and json.loads(out)["episodes"] == 3
    # The same out dir again is refused unless --overwrite.
    code, _, err = run(capsys, "train", "bc", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file), "--epochs", "1",
                       "--out", str(out_dir))
    assert code == 2 and "--overwrite" in err


def test_train_gail_cli(capsys, tmp_path, cartpole_demo_file):
    out_dir = tmp_path / "gail"
    code, out, err = run(capsys, "train", "gail", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file), "--seed", "0",
                         "--steps", "2048", "--out", str(out_dir), "--eval-every", "1024", "--eval-episodes", "3", "--pairs", "300")
    assert code == 0, err
    rows = (out_dir / "metrics.csv").read_text().splitlines()
    assert rows[0] == "env_steps,epoch,train_seconds,mean_return,std_return,normalized_score"
    assert len(rows) == 3
    assert json.loads((out_dir / "config.json").read_text())["n_transitions"] == 300


def _bad(capsys, tmp_path, *argv, match):
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, out, err = run(capsys, *argv)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and match in lines[0], err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written


def test_bad_inputs_exit_2_with_one_line_and_write_nothing(capsys, tmp_path, cartpole_demo_file):
    demos = tmp_path / "d.npz"
    shutil.copy(cartpole_demo_file, demos)
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"garbage")
    out = str(tmp_path / "run")
    _bad(capsys, tmp_path, "train", "bc", "--env", "CartPole-v1", "--demos", str(tmp_path / "missing.npz"), "--out", out, match="not found")
    _bad(capsys, tmp_path, "train", "bc", "--env", "CartPole-v1", "--demos", str(corrupt), "--out", out, match="corrupt")
    _bad(capsys, tmp_path, "train", "bc", "--env", "Pendulum-v1", "--demos", str(demos), "--out", out, match="do not fit Pendulum-v1")
    _bad(capsys, tmp_path, "train", "gail", "--env", "CartPole-v0", "--demos", str(demos), "--steps", "100", "--out", out,
         match="recorded in CartPole-v1")
    _bad(capsys, tmp_path, "train", "gail", "--env", "NoSuchEnv-v9", "--demos", str(demos), "--steps", "100", "--out", out,
         match="unknown environment")
    _bad(capsys, tmp_path, "train", "gail", "--env", "CartPole-v1", "--demos", str(demos), "--steps", "0", "--out", out, match="--steps")
    _bad(capsys, tmp_path, "train", "gail", "--env", "CartPole-v1", "--demos", str(demos), "--steps", "-5", "--out", out, match="--steps")
    _bad(capsys, tmp_path, "train", "bc", "--env", "CartPole-v1", "--demos", str(demos), "--epochs", "0", "--out", out, match="--epochs")
    _bad(capsys, tmp_path, "expert", "train", "--env", "CartPole-v1", "--steps", "0", "--out", out, match="--steps")
    _bad(capsys, tmp_path, "expert", "train", "--env", "Nope-v0", "--steps", "10", "--out", out, match="unknown environment")
    _bad(capsys, tmp_path, "demos", "collect", "--env", "MountainCarContinuous-v0", "--expert", "zoo", "--episodes", "2",
         "--out", str(tmp_path / "x.npz"), match="no shipped expert")
    _bad(capsys, tmp_path, "demos", "collect", "--env", "CartPole-v1", "--expert", "zoo", "--episodes", "0",
         "--out", str(tmp_path / "x.npz"), match="--episodes")
    _bad(capsys, tmp_path, "demos", "info", str(corrupt), match="corrupt")
    _bad(capsys, tmp_path, "eval", "--env", "CartPole-v1", "--policy", str(tmp_path / "nothing"), match="not found")
    _bad(capsys, tmp_path, "eval", "--env", "MountainCarContinuous-v0", "--policy", "zoo", match="no shipped expert")


def test_installed_entry_point_exit_status():
    exe = shutil.which("imitlab")
    assert exe, "the imitlab console script is not installed"
    proc = subprocess.run([exe, "eval", "--env", "Bogus-v0", "--policy", "random"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("imitlab: error: unknown environment 'Bogus-v0'")
    proc = subprocess.run([sys.executable, "-m", "imitlab.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "quickstart" in proc.stdout


def test_gail_cli_options_and_warm_start(capsys, tmp_path, cartpole_demo_file):
    bc_dir, gail_dir = tmp_path / "bc", tmp_path / "gail"
    assert run(capsys, "train", "bc", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file), "--epochs", "1",
               "--out", str(bc_dir), "--eval-episodes", "2")[0] == 0
    code, out, err = run(capsys, "train", "gail", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file), "--steps", "1024",
                         "--generator", "trpo", "--reward", "logit", "--absorbing", "--normalize-reward", "--disc-updates", "2",
                         "--grad-penalty", "1", "--disc-entropy", "0.01", "--init-from", str(bc_dir),
                         "--out", str(gail_dir), "--eval-episodes", "2")
    assert code == 0, err
    config = json.loads((gail_dir / "config.json").read_text())
    assert (config["generator"], config["reward"], config["absorbing"], config["disc_epochs"]) == ("trpo", "logit", True, 2)
    assert config["init_policy"] is True
    code, out, err = run(capsys, "train", "gail-offline", "--env", "CartPole-v1", "--demos", str(cartpole_demo_file),
                         "--iterations", "20", "--out", str(tmp_path / "off"), "--eval-episodes", "2")
    assert code == 0, err


def test_gail_cli_bad_options(capsys, tmp_path, cartpole_demo_file):
    acro = tmp_path / "acro"
    from imitlab.envs import env_spaces
    from imitlab.policies import make_policy, save_policy

    save_policy(make_policy(*env_spaces("Acrobot-v1")), acro / "policy.pt", env_id="Acrobot-v1")
    out = str(tmp_path / "run")
    demos = str(cartpole_demo_file)
    _bad(capsys, tmp_path, "train", "gail", "--env", "CartPole-v1", "--demos", demos, "--steps", "100", "--out", out,
         "--generator", "a2c", match="--generator")
    _bad(capsys, tmp_path, "train", "gail", "--env", "CartPole-v1", "--demos", demos, "--steps", "100", "--out", out,
         "--reward", "argmax", match="--reward")
    _bad(capsys, tmp_path, "train", "gail", "--env", "CartPole-v1", "--demos", demos, "--steps", "100", "--out", out,
         "--init-from", str(acro), match="trained on Acrobot-v1, not CartPole-v1")


def test_train_dagger_cli_from_scratch_and_from_demos(capsys, tmp_path, cartpole_demo_file):
    out_dir = tmp_path / "dagger"
    code, out, err = run(capsys, "train", "dagger", "--env", "CartPole-v1", "--expert", "zoo", "--steps", "2000", "--seed", "0",
                         "--out", str(out_dir), "--eval-every", "1000", "--eval-episodes", "3")
    assert code == 0, err
    assert (out_dir / "policy.pt").is_file() and len((out_dir / "metrics.csv").read_text().splitlines()) == 3
    code, out, err = run(capsys, "train", "dagger", "--env", "CartPole-v1", "--expert", "zoo:dqn", "--demos", str(cartpole_demo_file),
                         "--episodes", "1", "--steps", "1000", "--beta-schedule", "exponential", "--beta-p", "0.3",
                         "--out", str(tmp_path / "d2"), "--eval-episodes", "2")
    assert code == 0, err
    config = json.loads((tmp_path / "d2" / "config.json").read_text())
    assert (config["beta_schedule"], config["beta_p"], config["n_demo_transitions"]) == ("exponential", 0.3, 500)


def test_interactive_bad_inputs_exit_2_and_write_nothing(capsys, tmp_path):
    out = str(tmp_path / "run")
    _bad(capsys, tmp_path, "train", "dagger", "--env", "Pendulum-v1", "--expert", "zoo:dqn", "--steps", "100", "--out", out,
         match="no shipped dqn expert")
    from imitlab.experts import zoo_path

    _bad(capsys, tmp_path, "train", "dagger", "--env", "Acrobot-v1", "--expert", str(zoo_path("CartPole-v1")), "--steps", "100",
         "--out", out, match="does not fit Acrobot-v1")
    _bad(capsys, tmp_path, "train", "dagger", "--env", "CartPole-v1", "--expert", str(tmp_path / "none.pt"), "--steps", "100", "--out", out,
         match="not found")
    _bad(capsys, tmp_path, "train", "dagger", "--env", "CartPole-v1", "--expert", "zoo", "--steps", "0", "--out", out, match="--steps")


def test_train_aggrevated_cli(capsys, tmp_path):
    out_dir = tmp_path / "agg"
    code, out, err = run(capsys, "train", "aggrevated", "--env", "CartPole-v1", "--expert", "zoo:dqn", "--steps", "2000",
                         "--rollins", "4", "--horizon", "250", "--alpha-schedule", "exponential", "--alpha-p", "0.5",
                         "--out", str(out_dir), "--eval-episodes", "3")
    assert code == 0, err
    config = json.loads((out_dir / "config.json").read_text())
    assert (config["num_envs"], config["horizon"], config["q_source"]) == (4, 250, "critic")
    code, out, _ = run(capsys, "eval", "--env", "CartPole-v1", "--policy", str(out_dir), "--episodes", "2", "--json")
    assert code == 0


def test_aggrevated_without_q_on_an_unrestorable_env_exits_2(capsys, tmp_path, monkeypatch):
    # No gymnasium-only env ships without extras, so make CartPole's batched version unavailable.
    import imitlab.envs.vector as vector

    monkeypatch.setattr(vector, "BATCHED_ENVS", {})
    _bad(capsys, tmp_path, "train", "aggrevated", "--env", "CartPole-v1", "--expert", "zoo", "--steps", "100",
         "--out", str(tmp_path / "run"), match="AggreVaTeD needs Q*")


# Budgets default to the task's: the bench's base_budget for `train`, the shipped expert's for `expert train`.
BUDGET_KEYS = {"bc": "epochs", "gail": "total_steps", "gail-offline": "iterations", "dagger": "total_steps",
               "aggrevated": "total_steps"}


def _tiny_task_budgets(monkeypatch, env_id):
    """Shrink ``env_id``'s task budgets in the defaults table to ones a test can run."""
    from imitlab.algorithms.bc import BCConfig
    from imitlab.algorithms.gail_offline import OfflineGAILConfig
    from imitlab.defaults import TASK_DEFAULTS

    entry = TASK_DEFAULTS[env_id]
    for key, value in {"bc": BCConfig(epochs=2), "gail_steps": 512, "gail_offline": OfflineGAILConfig(iterations=3),
                       "dagger_steps": 300, "aggrevated_steps": 200}.items():
        monkeypatch.setitem(entry, key, value)


def test_every_train_budget_defaults_to_the_benchs_task_budget(capsys, tmp_path, monkeypatch, cartpole_demo_file):
    # The table is patched so that a CLI default of its own (or a copy of the table) would differ.
    from imitlab.bench.grid import base_budget

    _tiny_task_budgets(monkeypatch, "CartPole-v1")
    inputs = {"bc": ["--demos", str(cartpole_demo_file)], "gail": ["--demos", str(cartpole_demo_file)],
              "gail-offline": ["--demos", str(cartpole_demo_file)], "dagger": ["--expert", "zoo"],
              "aggrevated": ["--expert", "zoo:dqn"]}
    for algo, key in BUDGET_KEYS.items():
        out_dir = tmp_path / algo
        code, out, err = run(capsys, "train", algo, "--env", "CartPole-v1", "--out", str(out_dir), "--eval-episodes", "1",
                             *inputs[algo])
        assert code == 0, err
        config = json.loads((out_dir / "config.json").read_text())
        assert config[key] == base_budget(algo, "CartPole-v1") == {"bc": 2, "gail": 512, "gail-offline": 3,
                                                                    "dagger": 300, "aggrevated": 200}[algo], algo


def _help(capsys, monkeypatch, *argv) -> str:
    """The help of ``imitlab ARGV``, unwrapped (one line per option)."""
    from imitlab.cli import cli

    monkeypatch.setenv("COLUMNS", "1000")
    cli.main([*argv, "--help"], prog_name="imitlab", standalone_mode=False, max_content_width=1000)
    return capsys.readouterr().out


def _default_budgets(help_text: str, option: str, envs) -> dict[str, int]:
    """The per-task defaults that ``option``'s help states, read back into numbers."""
    line = next(line for line in help_text.splitlines() if line.strip().startswith(f"{option} "))
    every = re.search(r"Default: ([\d,]+), the bench's budget on every task \(imitlab\.bench\.grid\.base_budget\)", line)
    if every:
        return {env_id: int(every[1].replace(",", "")) for env_id in envs}
    table = re.search(r"Default: the bench's budget for the task \(imitlab\.bench\.grid\.base_budget\): (.*); "
                      r"([\d,]+) on any other env\.", line)
    assert table, line
    stated = dict.fromkeys(envs, int(table[2].replace(",", "")))
    for group in table[1].split("; "):
        value, names = group.split(" on ")
        stated.update(dict.fromkeys(names.split(" and "), int(value.replace(",", ""))))
    return stated


def test_train_help_shows_each_tasks_default_budget(capsys, monkeypatch):
    from imitlab.bench.grid import base_budget
    from imitlab.tasks import TASKS

    options = {"bc": "--epochs", "gail": "--steps", "gail-offline": "--iterations", "dagger": "--steps", "aggrevated": "--steps"}
    for algo, option in options.items():
        stated = _default_budgets(_help(capsys, monkeypatch, "train", algo), option, TASKS)
        assert stated == {env_id: base_budget(algo, env_id) for env_id in TASKS}, algo
    assert "50,000 on CartPole-v1; 150,000 on Acrobot-v1" in _help(capsys, monkeypatch, "train", "gail")


def test_expert_steps_default_to_the_shipped_experts(capsys, tmp_path, monkeypatch):
    import imitlab.defaults as defaults
    from imitlab.experts import zoo_files

    budgets = defaults.zoo_expert_budgets()
    assert len(budgets) == len(zoo_files())  # every shipped file's command gives its env, algo and steps
    assert ("CartPole-v1", "dqn", 50_000) in budgets and ("Pendulum-v1", "sac", 20_000) in budgets
    assert defaults.zoo_expert_steps("CartPole-v1", "ppo") == 100_000 and defaults.zoo_expert_steps("Pendulum-v1", "ppo") is None
    text = _help(capsys, monkeypatch, "expert", "train")
    assert "dqn (50,000 on CartPole-v1; 200,000 on MountainCar-v0), sac (" in text
    assert all(f"{steps:,} on" in text and env_id in text for env_id, _, steps in budgets)

    monkeypatch.setattr(defaults, "zoo_expert_budgets", lambda: (("CartPole-v1", "ppo", 64),))
    code, out, err = run(capsys, "expert", "train", "--env", "CartPole-v1", "--out", str(tmp_path / "e"), "--eval-episodes", "1")
    assert code == 0, err
    assert json.loads((tmp_path / "e" / "config.json").read_text())["total_steps"] == 64
    _bad(capsys, tmp_path, "expert", "train", "--env", "CartPole-v1", "--algo", "dqn", "--out", str(tmp_path / "x"),
         match="give --steps N: no shipped dqn expert of CartPole-v1")


def test_expert_resume_without_steps_keeps_the_runs_budget(capsys, tmp_path, monkeypatch):
    # Not the task default: that would silently extend a run started with its own --steps.
    import imitlab.defaults as defaults

    monkeypatch.setattr(defaults, "zoo_expert_budgets", lambda: (("CartPole-v1", "ppo", 4096),))
    out_dir = tmp_path / "e"
    argv = ["expert", "train", "--env", "CartPole-v1", "--out", str(out_dir), "--eval-episodes", "1"]
    assert run(capsys, *argv, "--steps", "64")[0] == 0
    (out_dir / "policy.pt").unlink()  # as if it had stopped before the end
    code, out, err = run(capsys, *argv, "--resume")
    assert code == 0, err
    assert json.loads((out_dir / "config.json").read_text())["total_steps"] == 64


def test_a_warning_is_one_line_on_stderr(monkeypatch, capsys):
    import warnings

    import imitlab.cli as cli_module

    def warn_then_succeed(**kwargs):
        warnings.warn("spaces differ\n  only in bounds", UserWarning, stacklevel=1)

    monkeypatch.setattr(cli_module.cli, "main", warn_then_succeed)
    assert cli_module.main(["zoo", "list"]) == 0
    assert capsys.readouterr().err == "imitlab: warning: spaces differ only in bounds\n"


def test_an_expert_file_records_the_command_main_ran(tmp_path):
    from imitlab.policies import load_policy

    out = tmp_path / "cartpole expert.pt"  # a space: the recorded command must quote it
    assert main(["expert", "train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "1024", "--eval-every", "0",
                 "--eval-episodes", "1", "--out", str(out)]) == 0
    command = load_policy(out)[1]["extra"]["command"]
    assert command == f"imitlab expert train --env CartPole-v1 --algo ppo --steps 1024 --eval-every 0 --eval-episodes 1 --out '{out}'"

"""AIRL's bar (issue #12), through the CLI, printed as a table:

1. AIRL from 10 demos on CartPole-v1, Acrobot-v1 and Pendulum-v1, seeds 0-2, on the task's budget
   (``imitlab train airl``, defaults of imitlab.defaults);
2. its learned reward re-optimised from scratch by ``imitlab train rl`` (the env's reward never
   shown): PPO on Acrobot-v1, SAC on Pendulum-v1;
3. transfer: the state-only reward learned on Pendulum-v1 at the default gravity (g = 10),
   re-optimised by SAC at g = 13, where the default-gravity expert fails; scored against an expert
   trained at g = 13 on the true reward and random there, beside BC's and GAIL's default-gravity
   policies carried over unchanged.

    python benchmarks/airl.py --out runs/airl-bench       # resumable: finished runs are kept

Every run is an ``imitlab`` command (printed as it starts); a run directory with a summary.json is
not run again. Takes about an hour of one core.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

SEEDS = (0, 1, 2)
TASKS = ("CartPole-v1", "Acrobot-v1", "Pendulum-v1")
RL = {"Acrobot-v1": ("ppo", 100_000), "Pendulum-v1": ("sac", 20_000)}
GRAVITY = 13.0


def imitlab(*args: str) -> None:
    cmd = [sys.executable, "-m", "imitlab.cli", *args]
    print("$ imitlab " + shlex.join(args), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def run(out: Path, *args: str) -> dict:
    if not (out / "summary.json").exists():
        imitlab(*args, "--out", str(out), "--overwrite")
    return json.loads((out / "summary.json").read_text())


def evaluate(policy: str, gravity: float, episodes: int = 50) -> float:
    cmd = [sys.executable, "-m", "imitlab.cli", "eval", "--env", "Pendulum-v1", "--policy", policy, "--episodes",
           str(episodes), "--json", "--env-kwargs", json.dumps({"g": gravity})]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)["mean_return"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out
    rows = []
    for env in TASKS:
        demos = out / "demos" / f"{env}.npz"
        if not demos.exists():
            demos.parent.mkdir(parents=True, exist_ok=True)
            imitlab("demos", "collect", "--env", env, "--expert", "zoo", "--episodes", "10", "--seed", "0", "--out", str(demos))
        for seed in SEEDS:
            airl_dir = out / "airl" / env / f"seed{seed}"
            s = run(airl_dir, "train", "airl", "--env", env, "--demos", str(demos), "--seed", str(seed))
            row = {"env": env, "seed": seed, "airl": s["final_eval"]["normalized_score"], "airl_steps": s["env_steps"],
                   "airl_seconds": s["train_seconds"]}
            if env in RL:
                algo, steps = RL[env]
                r = run(out / "rl" / env / f"seed{seed}", "train", "rl", "--env", env, "--reward", str(airl_dir),
                        "--algo", algo, "--steps", str(steps), "--eval-every", str(steps // 4), "--seed", str(seed))
                row.update(rl=r["final_eval"]["normalized_score"], rl_algo=algo, rl_steps=steps, rl_seconds=r["train_seconds"])
            rows.append(row)
    print("\nAIRL, 10 demos; its reward re-optimised by `imitlab train rl` (normalized, 50 episodes)")
    print(f"{'task':<13} {'seed':>4} {'airl':>7} {'steps':>8} {'s':>6}  {'train rl':>8} {'learner':>8} {'s':>6}")
    for r in rows:
        rl = f"{r['rl']:8.3f} {r['rl_algo'] + ' ' + str(r['rl_steps'] // 1000) + 'k':>8} {r['rl_seconds']:6.0f}" if "rl" in r else ""
        print(f"{r['env']:<13} {r['seed']:>4} {r['airl']:7.3f} {r['airl_steps']:>8} {r['airl_seconds']:6.0f}  {rl}")

    # Transfer to g = 13.
    kwargs = json.dumps({"g": GRAVITY})
    expert = out / "transfer" / "expert-g13"
    run(expert, "expert", "train", "--env", "Pendulum-v1", "--algo", "sac", "--steps", "20000", "--eval-every", "5000",
        "--keep-best", "--seed", "0", "--env-kwargs", kwargs)
    r_expert, r_random = evaluate(str(expert), GRAVITY), evaluate("random", GRAVITY)

    def norm(ret: float) -> float:
        return (ret - r_random) / (r_expert - r_random)

    demos = out / "demos" / "Pendulum-v1.npz"
    table = {"default-gravity expert (zoo)": [norm(evaluate("zoo", GRAVITY))]}
    for name in ("bc", "gail"):
        scores = []
        for seed in SEEDS:
            d = out / "transfer" / f"{name}-g10" / f"seed{seed}"
            run(d, "train", name, "--env", "Pendulum-v1", "--demos", str(demos), "--seed", str(seed))
            scores.append(norm(evaluate(str(d), GRAVITY)))
        table[f"{name.upper()} policy trained at g=10, carried over"] = scores
    scores = []
    for seed in SEEDS:
        d = out / "transfer" / "rl-g13" / f"seed{seed}"
        run(d, "train", "rl", "--env", "Pendulum-v1", "--reward", str(out / "airl" / "Pendulum-v1" / f"seed{seed}"), "--algo",
            "sac", "--steps", "20000", "--eval-every", "5000", "--seed", str(seed), "--env-kwargs", kwargs)
        scores.append(norm(evaluate(str(d), GRAVITY)))
    table["AIRL state-only reward from g=10, re-optimised at g=13 (SAC 20k)"] = scores
    print(f"\nTransfer to Pendulum-v1 at g={GRAVITY:g}: normalized against an expert trained there ({r_expert:.1f}) and "
          f"random ({r_random:.1f}), 50 episodes each")
    for name, scores in table.items():
        print(f"{name:<66} {' / '.join(f'{s:.3f}' for s in scores)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# GAIL on Pendulum-v1 (10 demos, seed 0, the task's budget) run through, and run again but killed with
# kill -9 once its third evaluation is written, then continued with --resume: compare the two
# metrics.csv files (final normalized score, and no row twice in the resumed one).
#   bash benchmarks/resume_after_kill.sh [WORKDIR]      (with imitlab installed, e.g. the README's venv)
set -euo pipefail
dir=${1:-runs/resume-after-kill}
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
imitlab demos collect --env Pendulum-v1 --expert zoo --episodes 10 --seed 0 --out pend.npz
imitlab train gail --env Pendulum-v1 --demos pend.npz --seed 0 --out full > full.log 2>&1
imitlab train gail --env Pendulum-v1 --demos pend.npz --seed 0 --out killed > killed1.log 2>&1 &
pid=$!
until [ -f killed/metrics.csv ] && [ "$(wc -l < killed/metrics.csv)" -ge 4 ]; do sleep 1; done
kill -9 "$pid"; wait "$pid" || true
imitlab train gail --env Pendulum-v1 --demos pend.npz --seed 0 --out killed --resume > killed2.log 2>&1
echo "uninterrupted:"; tail -1 full/metrics.csv
echo "killed and resumed (resumed_at $(python -c 'import json; print(json.load(open("killed/config.json"))["resumed_at"])')):"
tail -1 killed/metrics.csv

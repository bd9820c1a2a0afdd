#!/usr/bin/env bash
# AggreVaTeD with Q* fitted by `imitlab expert fit-q` for experts that have no critic (issue #13, part 2).
# Prints each fit's Monte-Carlo check and each AggreVaTeD run's final normalized score (seeds 0-2).
# Measured here: CartPole (50k steps, 40k updates: Pearson 0.944) 1.000 / 1.000 / 1.000;
# Acrobot (20k, 20k) 0.992 / 0.986 / 1.001 (Monte-Carlo Q* of 100-step roll-outs: 1.00 / 0.87 / 0.00);
# Pendulum, the SAC actor's own fitted Q* (20k, 20k: Pearson 0.995) 0.957 / 0.916 / 0.970.
set -euo pipefail
out=${1:-runs/fit-q}
mkdir -p "$out"
fit() { imitlab expert fit-q --env "$1" --expert zoo --steps "$2" --updates "$3" --out "$out/$1-q.pt"; }
fit CartPole-v1 50000 40000
fit Acrobot-v1 20000 20000
fit Pendulum-v1 20000 20000
for env in CartPole-v1 Acrobot-v1 Pendulum-v1; do
  for seed in 0 1 2; do
    imitlab train aggrevated --env "$env" --expert "$out/$env-q.pt" --seed "$seed" --out "$out/$env-aggrevated-$seed" --overwrite | tail -1
  done
done

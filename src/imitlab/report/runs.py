"""What a report reads from a run directory, and the replay of its final evaluation.

A run directory (``imitlab train ...``, ``imitlab expert train ...``) holds ``config.json``,
``metrics.csv`` (one row per evaluation), ``progress.csv`` (per-iteration statistics, the
discriminator's among them for adversarial runs), ``summary.json`` and ``policy.pt``; a run may
also hold ``reward.png`` (a learned reward's picture) and ``video.mp4`` or ``video.gif``.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imitlab.errors import UserError

# TrainingRun.evaluate evaluates on episodes seeded with the run's seed + 10,000 (imitlab.training):
# replaying with the same seed and episode count gives the final evaluation's own episodes.
EVAL_SEED_OFFSET = 10_000
VIDEO_NAMES = ("video.mp4", "video.gif")
REWARD_PICTURE = "reward.png"
HEALTH_COLUMNS = ("disc_expert_acc", "disc_policy_acc", "disc_expert_logit", "disc_policy_logit", "mean_reward")


@dataclass
class RunData:
    """A run directory's records, as read."""

    path: Path
    name: str
    config: dict[str, Any]
    summary: dict[str, Any]
    metrics: list[dict[str, float]]
    progress: dict[str, np.ndarray] = field(default_factory=dict)
    """progress.csv by column, blank cells as nan."""

    @property
    def env_id(self) -> str:
        return str(self.config.get("env_id") or self.summary.get("env_id") or "")

    @property
    def algo(self) -> str:
        return str(self.config.get("algo") or self.summary.get("algo") or "?")

    @property
    def seed(self) -> int:
        seed = self.config.get("seed", self.summary.get("seed", 0))
        return int(seed) if isinstance(seed, int | float) else 0

    @property
    def offline(self) -> bool:
        """No env steps of its own (BC, offline GAIL): its curves run over epochs or iterations."""
        return bool(self.metrics) and all(row.get("env_steps", 0) == 0 for row in self.metrics)

    @property
    def final_eval(self) -> dict[str, Any] | None:
        final = self.summary.get("final_eval")
        return final if isinstance(final, dict) else None

    @property
    def has_health(self) -> bool:
        """Whether progress.csv logged the discriminator's health (GAIL, AIRL, DAC, ...)."""
        return any(c in self.progress and np.isfinite(self.progress[c]).any() for c in HEALTH_COLUMNS[:4])

    def artifact(self, *names: str) -> Path | None:
        """The first of ``names`` that is a file in the run directory."""
        return next((self.path / n for n in names if (self.path / n).is_file()), None)


def _floats(value: str) -> float:
    try:
        return float(value) if value != "" else math.nan
    except ValueError:
        return math.nan


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, float]]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = [{k: _floats(v or "") for k, v in row.items() if k is not None} for row in reader]
        return list(reader.fieldnames or []), rows


def read_run(path: str | os.PathLike, *, name: str | None = None) -> RunData:
    """The records of the run directory ``path``; a UserError if it is not one."""
    run = Path(path)
    if not run.is_dir():
        raise UserError(f"{str(run)!r} is not a directory; give a run directory (the --out of imitlab train)")
    if not (run / "config.json").is_file():
        raise UserError(f"{str(run)!r} has no config.json, so it is not a run directory; give the --out of imitlab train")
    try:
        config = json.loads((run / "config.json").read_text())
        summary = json.loads((run / "summary.json").read_text()) if (run / "summary.json").is_file() else {}
    except (OSError, ValueError) as e:
        raise UserError(f"{str(run)!r}: a damaged JSON file ({e}); rerun the training") from None
    if not isinstance(config, dict) or not isinstance(summary, dict):
        raise UserError(f"{str(run)!r}: config.json or summary.json is not a JSON object; rerun the training")
    metrics: list[dict[str, float]] = []
    if (run / "metrics.csv").is_file():
        _, metrics = _read_csv(run / "metrics.csv")
    progress: dict[str, np.ndarray] = {}
    if (run / "progress.csv").is_file():
        columns, rows = _read_csv(run / "progress.csv")
        progress = {c: np.array([row.get(c, math.nan) for row in rows], dtype=np.float64) for c in columns}
    return RunData(path=run, name=name or run.name, config=config, summary=summary, metrics=metrics, progress=progress)


def run_names(paths: list[Path]) -> list[str]:
    """Short distinct names: each path relative to the deepest folder they share (the folder's
    own name for a single run)."""
    resolved = [p.resolve() for p in paths]
    if len(resolved) == 1:
        return [resolved[0].name]
    common = Path(os.path.commonpath(resolved))
    names = [str(p.relative_to(common)) if p != common else p.name for p in resolved]
    return names if len(set(names)) == len(names) else [str(p) for p in paths]


@dataclass(frozen=True)
class EvalReplay:
    """The final evaluation of a run, played again for its per-episode returns."""

    returns: np.ndarray
    lengths: np.ndarray
    seed: int
    recorded_mean: float | None
    """summary.json's final mean return, which the replay reproduces on the same machine."""


def replay_final_evaluation(run: RunData, *, episodes: int | None = None) -> EvalReplay | None:
    """Play the run's ``policy.pt`` over the final evaluation's episodes again (same seed, same
    count, deterministic, as :class:`~imitlab.training.TrainingRun` evaluated it), or over
    ``episodes`` episodes of that seed; None when the run has no policy file."""
    if not (run.path / "policy.pt").is_file() or not run.env_id:
        return None
    from imitlab.policies import load_policy
    from imitlab.sampling import run_episodes

    policy, _ = load_policy(run.path)
    final = run.final_eval or {}
    count = episodes or int(final.get("episodes") or run.config.get("eval_episodes") or 50)
    seed = run.seed + EVAL_SEED_OFFSET
    eps = run_episodes(lambda obs: policy.act(obs, deterministic=True), run.env_id, count, seed=seed)
    recorded = final.get("mean_return") if count == final.get("episodes") else None
    return EvalReplay(returns=eps.returns, lengths=eps.lengths, seed=seed,
                      recorded_mean=float(recorded) if isinstance(recorded, int | float) else None)

"""Run directories: config.json (with versions and seed), metrics.csv, progress.csv, TensorBoard.

``metrics.csv`` holds one row per evaluation during training (env steps, training seconds, mean
return, normalized score) so a learning curve, and the time to a threshold, can be read from it.
``progress.csv`` holds the per-iteration training statistics (losses, discriminator accuracy).
A row may bring a field earlier rows lacked (an iteration in which the first episode ended): the
file is then rewritten, atomically, with the wider header and blank cells for the earlier rows, so
every row of a file always has the same columns.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from imitlab.errors import UserError
from imitlab.utils import atomic_write_json, atomic_write_text, versions

EVAL_COLUMNS = ["env_steps", "epoch", "train_seconds", "mean_return", "std_return", "normalized_score"]


def prepare_run_dir(out: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check that ``out`` may be used as a run directory; create nothing yet."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {str(path)!r} is a file; give a directory path")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        hint = " (it has a checkpoint: --resume continues that run)" if (path / "checkpoint.pt").is_file() else ""
        raise UserError(f"run directory {str(path)!r} is not empty; choose another --out or pass --overwrite{hint}")
    return path


def _position(row: dict[str, Any]) -> float:
    """How far into its run a row was written: its epoch (or iteration) where it has one, as runs
    counted in epochs checkpoint by epoch, else its env steps."""
    epoch = row.get("epoch")
    return float(epoch) if epoch not in (None, "") else float(row["env_steps"])


class RunLog:
    """Writes a run directory's records as training goes."""

    def __init__(
        self, out: str | os.PathLike, config: dict[str, Any], *, tensorboard: bool = True, resume_step: int | None = None
    ) -> None:
        """A fresh run directory, or with ``resume_step`` the records of a checkpointed run cut back
        to that step (rows written after its checkpoint are dropped, so none appear twice)."""
        self.dir = Path(out)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, tuple[Any, csv.DictWriter]] = {}
        if resume_step is None:
            for name in ("metrics.csv", "progress.csv"):
                (self.dir / name).unlink(missing_ok=True)
            atomic_write_json(self.dir / "config.json", {**config, "versions": versions()})
        else:
            previous = read_config(self.dir)
            atomic_write_json(self.dir / "config.json", {
                **config, "versions": versions(),
                "resumed_at": [*previous.get("resumed_at", []), resume_step],
            })
            for name in ("metrics.csv", "progress.csv"):
                self._reopen(name, resume_step)
        self.tb = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step hides the TensorBoard events logged after the checkpoint.
            purge = None if resume_step is None else resume_step + 1
            self.tb = SummaryWriter(str(self.dir / "tb"), purge_step=purge)

    def _reopen(self, name: str, resume_step: int) -> None:
        """Keep the rows of ``name`` up to ``resume_step`` and append after them."""
        path = self.dir / name
        if not path.is_file():
            return
        columns, rows = _read_csv(path)
        if not columns:
            return
        rows = [row for row in rows if _position(row) <= resume_step]
        self._rewrite(name, columns, rows)

    def _rewrite(self, name: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
        """(Re)write ``name`` atomically with header ``columns`` and ``rows``, then append after them."""
        if name in self._writers:
            self._writers.pop(name)[0].close()  # the rename below leaves the old handle on a dead file
        path = self.dir / name
        _write_csv(path, columns, rows)
        f = open(path, "a", newline="")
        self._writers[name] = (f, csv.DictWriter(f, fieldnames=columns, restval=""))

    def _row(self, name: str, row: dict[str, Any], columns: list[str] | None = None) -> None:
        """Append ``row`` to ``name``. A field no earlier row had widens the header (the file is
        rewritten with blank cells for the earlier rows); a field this row lacks is left blank.
        Loops report what a batch had (a batch in which no episode ended has no episode return),
        so rows need not share their fields, but every row of the file has the same columns."""
        if name not in self._writers:
            self._rewrite(name, list(columns or row), [])
        f, writer = self._writers[name]
        new = [k for k in row if k not in writer.fieldnames]
        if new:
            old_columns, rows = _read_csv(self.dir / name)
            self._rewrite(name, [*old_columns, *new], rows)
            f, writer = self._writers[name]
        writer.writerow(row)
        f.flush()

    def progress(self, step: int, stats: dict[str, float]) -> None:
        """Per-iteration training statistics, to progress.csv and TensorBoard under ``train/``."""
        self._row("progress.csv", {"env_steps": step, **stats})
        if self.tb is not None:
            for k, v in stats.items():
                self.tb.add_scalar(f"train/{k}", v, step)

    def evaluation(self, *, env_steps: int, epoch: int | None, train_seconds: float, result) -> None:
        """One evaluation during training, to metrics.csv and TensorBoard under ``eval/``."""
        row = {
            "env_steps": env_steps,
            "epoch": "" if epoch is None else epoch,
            "train_seconds": round(train_seconds, 4),
            "mean_return": result.mean_return,
            "std_return": result.std_return,
            "normalized_score": "" if result.normalized_score is None else result.normalized_score,
        }
        self._row("metrics.csv", row, EVAL_COLUMNS)
        if self.tb is not None:
            x = env_steps if epoch is None else epoch
            self.tb.add_scalar("eval/mean_return", result.mean_return, x)
            if result.normalized_score is not None:
                self.tb.add_scalar("eval/normalized_score", result.normalized_score, x)

    def summary(self, obj: dict[str, Any]) -> None:
        atomic_write_json(self.dir / "summary.json", obj)

    def close(self) -> None:
        for f, _ in self._writers.values():
            f.close()
        if self.tb is not None:
            self.tb.close()


def read_metrics(run_dir: str | os.PathLike) -> list[dict[str, float]]:
    """The evaluation rows of a run's metrics.csv, as floats (blank cells become nan)."""
    with open(Path(run_dir) / "metrics.csv", newline="") as f:
        return [{k: float(v) if v != "" else float("nan") for k, v in row.items()} for row in csv.DictReader(f)]


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The header and rows of a CSV file written by :class:`RunLog`."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f, restval="")
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` under header ``columns`` atomically (blank cells where a row lacks a column)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, text.getvalue())


def read_config(run_dir: str | os.PathLike) -> dict[str, Any]:
    with open(Path(run_dir) / "config.json") as f:
        return json.load(f)

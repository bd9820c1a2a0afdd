"""The bench's record of finished runs: ``runs.jsonl``, one JSON object per line.

Lines are only ever appended, each in one write followed by flush and fsync, so a bench killed at
any moment leaves every finished run intact and at worst a truncated last line, which
:func:`read_runs` skips and :func:`repair_runs` cuts off before the next append.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from imitlab.errors import UserError

RUNS_FILE = "runs.jsonl"


def cell_key(record: dict[str, Any]) -> tuple[str, str, int, int]:
    """What identifies a cell of the grid: (algo, env, n_demos, seed)."""
    return (record["algo"], record["env"], int(record["n_demos"]), int(record["seed"]))


def read_runs(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of ``path`` (missing file: none). A last line cut short by a crash is skipped;
    an unreadable line anywhere else means the file was damaged some other way, and is an error."""
    path = Path(path)
    if not path.is_file():
        return []
    lines = path.read_text().split("\n")
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # no newline after it: the write was interrupted
                continue
            raise UserError(f"{path}: line {i + 1} is not valid JSON; fix or delete that line and rerun") from None
    return records


def repair_runs(path: str | os.PathLike) -> None:
    """Cut a truncated last line (one with no newline after it) so appends start on a fresh line."""
    path = Path(path)
    if not path.is_file():
        return
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    with open(path, "r+b") as f:
        f.truncate(data.rfind(b"\n") + 1)
        f.flush()
        os.fsync(f.fileno())


def append_run(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Append ``record`` as one line: a single write, then flush and fsync."""
    line = json.dumps(record, separators=(",", ":")) + "\n"
    with open(path, "a") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())

"""Where the bench's cells run: a pool of local worker processes, or Ray tasks on a cluster.

A backend only runs cells and hands back their outcomes; the driver
(:func:`imitlab.bench.runner.run_bench`) decides what to submit and when, and is the only writer of
``runs.jsonl`` and everything else under ``--out``. The driver keeps at most :meth:`Backend.slots`
cells under way, so a cell is only ever submitted when it can start at once: after a failure it
simply submits no more, and "running" in the progress line is what is really running.

A cell's outcome is data (:class:`CellOutcome`): its record, or its error and traceback, or
``lost`` when the process (or node) running it died and nothing came back. The driver runs a lost
cell again up to :attr:`Backend.retries` times; a resumable cell then continues from the
checkpoint it left in ``OUT/cells/``.
"""

from __future__ import annotations

import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imitlab.bench.grid import Cell
from imitlab.errors import UserError

BACKENDS = ("local", "ray")
DEFAULT_RETRIES = 2

CellRunner = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class CellOutcome:
    """What came back from one attempt at a cell."""

    cell: Cell
    ok: bool
    record: dict[str, Any] | None = None
    error: str = ""
    traceback: str = ""
    lost: bool = False
    """The worker process or its node died mid-cell: nothing came back, and running it again may work."""
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Files the cell wrote (paths relative to ``--out``) that the driver must write there itself:
    filled only when the worker could not see ``--out`` (a Ray node without the shared path)."""


class Backend(ABC):
    """Runs cells somewhere; the driver calls :meth:`start`, :meth:`open`, then :meth:`submit` and
    :meth:`next_outcome` in turns, then :meth:`close` (and :meth:`abort` first on Ctrl-C)."""

    name: str = ""
    retries: int = 0
    """How many more times the driver runs a cell whose worker died (0: it is reported failed)."""

    def start(self) -> None:  # noqa: B027 - optional: a backend without a connection has nothing to check
        """Connect and check, before anything is written; a :class:`UserError` if unusable (and
        then nothing is left running)."""

    @abstractmethod
    def open(self, *, n_cells: int, out: Path, demo_files: Mapping[str, Path]) -> None:
        """Get ready to run up to ``n_cells`` cells of the bench in ``out``, whose demo sets (one
        file per env, made by the driver) are ``demo_files``."""

    @abstractmethod
    def slots(self) -> int:
        """How many cells can run at once now."""

    @abstractmethod
    def submit(self, cell: Cell, *, runner: CellRunner, kwargs: dict[str, Any]) -> None:
        """Start ``runner(cell, **kwargs)``."""

    @abstractmethod
    def next_outcome(self) -> CellOutcome:
        """Wait for a submitted cell to finish (or its worker to die) and return its outcome."""

    def describe(self) -> str:
        return self.name

    def abort(self) -> None:  # noqa: B027 - optional: the local pool's workers see the same Ctrl-C
        """Stop the cells under way (Ctrl-C on the driver); their checkpoints stay for the next run."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release what :meth:`start` and :meth:`open` took."""


def make_backend(name: str, *, workers: int, address: str | None = None, retries: int = DEFAULT_RETRIES) -> Backend:
    """The backend called ``name`` ("local" or "ray"). A :class:`UserError` for an unknown name, an
    address given to the local backend, a negative retry count, or Ray not installed (checked
    here, before anything starts; the address is checked by :meth:`Backend.start`)."""
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r}; choose from {', '.join(BACKENDS)}")
    if retries < 0:
        raise UserError(f"--retries must be >= 0, got {retries}")
    if name == "local":
        if address is not None:
            raise UserError("--address names a Ray cluster; use it with --backend ray")
        from imitlab.bench.backends.local import LocalBackend

        return LocalBackend(workers=workers)
    from imitlab.bench.backends.ray import RayBackend, require_ray

    require_ray()
    return RayBackend(workers=workers, address=address, retries=retries)


# ------------------------------------------------------------------------ in the worker process
def init_worker(threads: int = 1) -> None:
    import torch

    # One thread per worker: small MLPs gain nothing from more, and workers share the cores.
    torch.set_num_threads(threads)


def run_cell_safely(runner: CellRunner, cell: Cell, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Run a cell in a worker; an exception comes back as data (its text and traceback), so that
    an error that cannot be pickled still names itself."""
    try:
        return {"ok": True, "record": runner(cell, **kwargs)}
    except Exception as e:  # noqa: BLE001 - reported to the driver, which stops the bench
        return {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}


# ------------------------------------------------------------------------------ progress line
def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds // 3600:.0f} h {seconds % 3600 / 60:02.0f} min"


@dataclass
class Progress:
    """Counts for the grid's progress line: cells done, running, failed, and the time left."""

    total: int
    t0: float
    done: int = 0
    failed: int = 0
    retried: int = 0
    stopping: bool = False

    def line(self, *, running: int, now: float | None = None) -> str:
        """The progress line at ``now`` (a ``time.perf_counter()`` reading; default: the present)."""
        elapsed = (time.perf_counter() if now is None else now) - self.t0
        text = f"[{elapsed:7.1f}s] grid: {self.done}/{self.total} done, {running} running, {self.failed} failed"
        if self.retried:
            text += f" ({self.retried} retried after their worker died)"
        if self.stopping:
            return text + "; starting no more after the failure"
        left = self.total - self.done - self.failed
        if self.done and left:
            # Finished cells' wall time per cell, at the parallelism seen so far: rough when
            # algorithms differ in cost, but it needs nothing the driver does not already know.
            text += f", about {_duration(elapsed / self.done * left)} left"
        return text


__all__ = ["BACKENDS", "Backend", "CellOutcome", "CellRunner", "Progress", "make_backend", "run_cell_safely"]

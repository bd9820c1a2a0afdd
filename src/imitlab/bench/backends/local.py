"""The local backend: a :class:`~concurrent.futures.ProcessPoolExecutor` of ``--workers``
processes in the ``spawn`` context (a fresh interpreter each, one torch thread each).

A worker that dies breaks the whole pool (every cell under way in it fails, and none can be told
from the others), so a dead worker stops the bench as a failed cell; the next run resumes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from imitlab.bench.backends import Backend, CellOutcome, CellRunner, init_worker, run_cell_safely
from imitlab.bench.grid import Cell


class LocalBackend(Backend):
    """Cells in a pool of ``workers`` spawn processes on this machine."""

    name = "local"

    def __init__(self, *, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future, tuple[int, Cell]] = {}
        self._ready: deque[CellOutcome] = deque()
        self._submitted = 0

    def describe(self) -> str:
        return f"a local pool of {self.workers} spawn worker{'s' * (self.workers != 1)}"

    def open(self, *, n_cells: int, out: Path, demo_files: Mapping[str, Path]) -> None:
        self._pool = ProcessPoolExecutor(max_workers=max(1, min(self.workers, n_cells)), mp_context=get_context("spawn"),
                                         initializer=init_worker)

    def slots(self) -> int:
        return self.workers

    def submit(self, cell: Cell, *, runner: CellRunner, kwargs: dict[str, Any]) -> None:
        assert self._pool is not None, "open() first"
        try:
            future = self._pool.submit(run_cell_safely, runner, cell, kwargs)
        except BrokenProcessPool as e:  # an earlier worker died: this cell cannot start
            self._ready.append(CellOutcome(cell, ok=False, error=f"worker process died ({e})", lost=True))
            return
        self._futures[future] = (self._submitted, cell)
        self._submitted += 1

    def next_outcome(self) -> CellOutcome:
        if not self._ready:
            finished, _ = wait(self._futures, return_when=FIRST_COMPLETED)
            # Cells that finished together are handed back in the order they were submitted.
            for future in sorted(finished, key=lambda f: self._futures[f][0]):
                _, cell = self._futures.pop(future)
                self._ready.append(self._outcome(cell, future))
        return self._ready.popleft()

    @staticmethod
    def _outcome(cell: Cell, future: Future) -> CellOutcome:
        try:
            result = future.result()
        except BrokenProcessPool as e:
            return CellOutcome(cell, ok=False, error=f"worker process died ({e})", lost=True)
        if result["ok"]:
            return CellOutcome(cell, ok=True, record=result["record"])
        return CellOutcome(cell, ok=False, error=result["error"], traceback=result["traceback"])

    def close(self) -> None:
        if self._pool is not None:
            # Waits for the cells under way (there is never a queue: the driver submits only what
            # can start), as the pool's context manager did.
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

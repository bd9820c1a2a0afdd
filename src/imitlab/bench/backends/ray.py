"""The Ray backend: each cell is one Ray task with one CPU (``num_cpus=1``) and one torch thread,
on the cluster at ``--address`` (``auto``, ``HOST:PORT``, ``ray://HOST:10001``) or on a local Ray
instance with ``--workers`` CPUs.

Files. A worker that sees the driver's ``--out`` (the same machine, or a path shared by every
node) runs the cell there exactly as the local backend does: it reads the demo set from
``OUT/demos/``, checkpoints in ``OUT/cells/`` (so a retried or cut-off cell continues from its
checkpoint) and saves its policy under ``OUT/policies/``. A worker tells it sees ``--out`` by
reading there a token the driver wrote for this run. One that does not (a node without the shared
path) gets the demo set from Ray's object store (put there once per task by the driver, fetched
once per node), runs the cell in a scratch directory, and sends the files it wrote back with its
record; the driver writes them. Either way the record, learning curve and any traceback come back
to the driver, which alone writes ``runs.jsonl``.

Faults. Ray does not retry a task here (``max_retries=0``): the driver does, so that it can say
so and count the attempts. A worker process or node that dies mid-cell comes back as a lost cell,
run again up to ``retries`` times; an exception inside the cell is a failure (running it again
would raise it again).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from imitlab.bench.backends import DEFAULT_RETRIES, Backend, CellOutcome, CellRunner, init_worker, run_cell_safely
from imitlab.bench.grid import ALGOS, Cell
from imitlab.errors import UserError

INSTALL = "pip install 'imitlab[ray]'"
PROBE_SECONDS = 5.0  # how long an --address may take to accept a connection before it "does not answer"
CLIENT_PORT = 10001  # Ray Client's default port, for ray://HOST
TOKEN_FILE = ".ray-driver"  # in OUT/cells/: a worker that reads this run's token there sees --out


def require_ray() -> None:
    """A :class:`UserError` naming the ``pip install`` unless Ray can be imported."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise UserError(f"--backend ray needs Ray, which is not installed: {INSTALL}") from None


def _host_port(address: str, text: str) -> tuple[str, int]:
    """``text`` (HOST:PORT, or ray://HOST[:PORT]) as a host and port; ``address`` is what the user wrote."""
    client = text.startswith("ray://")
    rest = text.removeprefix("ray://").rstrip("/")
    host, sep, port = rest.rpartition(":")
    if client and not sep:
        host, port = rest, str(CLIENT_PORT)
    if not host or not port.isdigit():
        raise UserError(f"--address {address!r} is not auto, HOST:PORT (a head node's GCS, e.g. 10.0.0.5:6379) "
                        "or ray://HOST:10001 (Ray Client)")
    return host.strip("[]"), int(port)


def check_address(address: str) -> None:
    """A :class:`UserError` unless something accepts a connection at ``address`` within
    :data:`PROBE_SECONDS`. ``ray.init`` itself waits minutes on a port where nothing listens (it
    retries the GCS for a long while), so the bench asks the port first."""
    text = address
    if address == "auto":
        try:
            from ray._private.services import get_ray_address_from_environment

            found = get_ray_address_from_environment("auto", None)  # RAY_ADDRESS, or what `ray start` left here
        except ConnectionError:
            found = None
        except (ImportError, TypeError):  # a Ray whose internals differ: ray.init("auto") itself says it at once
            return
        if not found or found == "auto":
            raise UserError("--address auto found no running Ray cluster on this machine; start one with "
                            "`ray start --head` (and `ray start --address HEAD:6379` on the other nodes), or give "
                            "--address HOST:PORT")
        text = found
    host, port = _host_port(address, text)
    try:
        socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
    except OSError as e:
        why = f"no answer in {PROBE_SECONDS:g} s" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise UserError(f"--address {address}: nothing answers at {host}:{port} ({why}); start Ray there "
                        "(`ray start --head`) or fix the address") from None


class RayBackend(Backend):
    """Cells as Ray tasks (one CPU each). ``storage="object-store"`` ships demos through Ray's
    object store and files back to the driver even when the workers could see ``--out``."""

    name = "ray"

    def __init__(self, *, workers: int, address: str | None = None, retries: int = DEFAULT_RETRIES,
                 threads: int = 1, storage: str = "auto") -> None:
        if storage not in ("auto", "object-store"):
            raise ValueError(f"storage must be 'auto' or 'object-store', got {storage!r}")
        self.workers, self.address, self.retries, self.threads, self.storage = workers, address, retries, threads, storage
        self._owned = False  # whether this backend called ray.init (and so must call ray.shutdown)
        self._local = False  # whether that ray.init started a local instance of `workers` CPUs
        self._remote: Any = None
        self._refs: dict[Any, Cell] = {}
        self._demo_refs: dict[str, Any] = {}
        self._token_file: Path | None = None
        self._token = ""

    def start(self) -> None:
        import ray

        if ray.is_initialized():  # a library user's (or a test's) own connection: used as it is, and kept
            if self.address is not None:
                check_address(self.address)
        elif self.address is not None:
            check_address(self.address)
            try:
                ray.init(address=self.address, logging_level=logging.WARNING)
            except Exception as e:  # noqa: BLE001 - whatever ray.init raises, the user's fix is the address
                ray.shutdown()
                raise UserError(f"--address {self.address}: could not connect to a Ray cluster there "
                                f"({type(e).__name__}: {' '.join(str(e).split())}); a cluster with token "
                                "authentication also needs RAY_AUTH_MODE=token and its token here") from None
            self._owned = True
        else:
            # "local": a new instance even where RAY_ADDRESS names a cluster (that takes --address).
            # Ray runs workers at nice 15 by default, so on a machine shared with other work its
            # cells would yield to it; the local pool's run at the user's priority, and so do these.
            ray.init(address="local", num_cpus=self.workers, include_dashboard=False, logging_level=logging.WARNING,
                     _system_config={"worker_niceness": 0})
            self._owned = self._local = True
        self._remote = ray.remote(num_cpus=1, max_retries=0, retry_exceptions=False)(_ray_cell)

    def describe(self) -> str:
        if self._local:
            return f"a local Ray instance with {self.workers} CPU{'s' * (self.workers != 1)}"
        where = f"the Ray cluster at {self.address}" if self.address else "the running Ray instance"
        return f"{where} ({self.slots()} CPUs), one task per cell"

    def open(self, *, n_cells: int, out: Path, demo_files: Mapping[str, Path]) -> None:
        import ray

        from imitlab.bench.runner import CELLS_DIR
        from imitlab.utils import atomic_write_text

        self._token = "" if self.storage == "object-store" else uuid.uuid4().hex
        if self._token:
            self._token_file = out.resolve() / CELLS_DIR / TOKEN_FILE
            atomic_write_text(self._token_file, self._token)
        # Put once here, fetched by a worker only if it cannot read --out (nested in a dict, so Ray
        # does not fetch them for every task).
        self._demo_refs = {env: ray.put(Path(path).read_bytes()) for env, path in demo_files.items()}

    def slots(self) -> int:
        if self._local:
            return self.workers
        import ray

        try:
            return max(1, int(ray.cluster_resources().get("CPU", 1)))
        except Exception:  # noqa: BLE001 - a cluster that cannot say: one at a time still progresses
            return 1

    def submit(self, cell: Cell, *, runner: CellRunner, kwargs: dict[str, Any]) -> None:
        kwargs = {**kwargs, "out_dir": str(Path(kwargs["out_dir"]).resolve())}  # workers' cwd is not the driver's
        token_file = str(self._token_file) if self._token_file else ""
        ref = self._remote.remote(runner, cell, kwargs, token_file, self._token, self._demo_refs, self.threads)
        self._refs[ref] = cell

    def next_outcome(self) -> CellOutcome:
        import ray
        from ray.exceptions import RayError, RayTaskError

        done: list[Any] = []
        while not done:  # short waits, so that Ctrl-C reaches the driver at once
            done, _ = ray.wait(list(self._refs), num_returns=1, timeout=1.0)
        ref = done[0]
        cell = self._refs.pop(ref)
        try:
            result = ray.get(ref)
        except RayTaskError as e:  # raised outside the cell's own code (e.g. imitlab missing on a node)
            return CellOutcome(cell, ok=False, error=_first_line(e), traceback=str(e))
        except RayError as e:  # the worker process or its node died, or its result was lost
            return CellOutcome(cell, ok=False, error=f"{type(e).__name__}: {_first_line(e)}", traceback=str(e), lost=True)
        if result["ok"]:
            return CellOutcome(cell, ok=True, record=result["record"], files=result.get("files", {}))
        return CellOutcome(cell, ok=False, error=result["error"], traceback=result["traceback"])

    def abort(self) -> None:
        import ray

        for ref in self._refs:
            try:
                ray.cancel(ref, force=True)  # kills the worker: a cell's checkpoint stays in OUT/cells/
            except Exception:  # noqa: BLE001 - finished meanwhile, or its node is gone
                pass
        self._refs.clear()

    def close(self) -> None:
        import ray

        if self._token_file is not None:
            self._token_file.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # cells/ goes too if no checkpoint is left in it
                self._token_file.parent.rmdir()
            self._token_file = None
        self._demo_refs.clear()
        if self._owned:
            ray.shutdown()
            self._owned = self._local = False


def _first_line(e: BaseException) -> str:
    lines = [line for line in str(e).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(e).__name__


# ------------------------------------------------------------------------ in the Ray worker
def _ray_cell(runner: CellRunner, cell: Cell, kwargs: dict[str, Any], token_file: str, token: str,
              demo_refs: dict[str, Any], threads: int) -> dict[str, Any]:
    """One cell in a Ray worker: in ``--out`` itself if this worker sees it, else in a scratch
    directory with the demo set from the object store and the written files sent back."""
    init_worker(threads)
    if token and _reads(token_file, token):
        return run_cell_safely(runner, cell, kwargs)
    demo = None
    if cell.env in demo_refs and ALGOS[cell.algo].uses_demos:
        import ray

        demo = ray.get(demo_refs[cell.env])
    return run_in_scratch(runner, cell, kwargs, demo=demo)


def _reads(path: str, token: str) -> bool:
    try:
        return Path(path).read_text() == token
    except OSError:
        return False


def run_in_scratch(runner: CellRunner, cell: Cell, kwargs: dict[str, Any], *, demo: bytes | None) -> dict[str, Any]:
    """Run a cell in a fresh directory holding only its demo set (``demo``: the bytes of
    ``demos/ENV.npz``); what it wrote there besides demos and checkpoints comes back in
    ``files`` (path relative to the directory -> bytes)."""
    from imitlab.bench.demos import DEMOS_DIR, demo_path
    from imitlab.bench.runner import CELLS_DIR

    with tempfile.TemporaryDirectory(prefix=f"imitlab-{cell.slug()}-") as tmp:
        root = Path(tmp)
        if demo is not None:
            path = demo_path(root, cell.env)
            path.parent.mkdir(parents=True)
            path.write_bytes(demo)
        result = run_cell_safely(runner, cell, {**kwargs, "out_dir": tmp})
        if result["ok"]:
            result["files"] = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
                               if p.is_file() and p.relative_to(root).parts[0] not in (DEMOS_DIR, CELLS_DIR)}
        return result

"""Small shared helpers: atomic file writes, seeding, version records."""

from __future__ import annotations

import json
import os
import platform
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write via ``write(tmp_path)`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.write(text)

    atomic_write(path, write)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def atomic_savez(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object stops numpy from appending ".npz" to the name
            # numpy's stub has a bool allow_pickle beside **kwds, which mypy fears the dict may fill
            np.savez_compressed(f, **arrays)  # type: ignore[arg-type]

    atomic_write(path, write)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python, numpy and torch; return a numpy Generator for the caller's own draws."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


# Physics engines behind gymnasium's env families: chaotic simulations replay differently under
# another release (or another CPU), so a run's record names the ones installed.
_ENGINES = {"mujoco": "mujoco", "Box2D": "box2d"}


def package_version(dist: str) -> str | None:
    """The installed version of distribution ``dist``, or None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's model name and widest vector extension (``/proc/cpuinfo`` on Linux; float kernels
    take other paths under AVX2 than under AVX-512), or the best ``platform`` gives elsewhere."""
    name = ""
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not name:
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    simd = next((label for flag, label in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("neon", "NEON")) if flag in flags), None)
    name = name or platform.processor() or platform.machine() or "unknown"
    return f"{name} ({simd})" if simd else name


def versions() -> dict[str, str]:
    """Versions of the packages a run's numbers depend on (physics engines where installed), and
    the CPU that computed them."""
    import gymnasium

    import imitlab

    record = {
        "imitlab": imitlab.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "gymnasium": gymnasium.__version__,
        "numpy": np.__version__,
    }
    for name, dist in _ENGINES.items():
        v = package_version(dist)
        if v is not None:
            record[name] = v
    record["platform"] = platform.platform()
    record["cpu"] = cpu_model()
    return record

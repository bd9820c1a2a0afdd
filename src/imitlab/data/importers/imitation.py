"""Trajectories saved by the ``imitation`` library (``imitation.data.serialize.save``) in and out.

That format is a HuggingFace ``datasets`` directory (``Dataset.save_to_disk``) with one row per
trajectory and the columns ``obs`` [T + 1, ...], ``acts`` [T, ...], ``infos`` (T jsonpickle
strings), ``terminal`` (bool) and, when recorded, ``rews`` [T]. It records no env id (so
``--env`` is required) and does not say how an episode ended: ``terminal`` is true for every
complete episode, whether the env terminated it or its time limit cut it. imitlab infers that from
the env's time limit (:func:`~imitlab.data.importers.arrays.infer_episode_ends`: a complete episode
as long as the limit was truncated, a shorter one terminated, a non-terminal one cut mid-way) and
records what it inferred in the provenance, which ``imitlab demos info`` shows.

``infos`` are never decoded: jsonpickle can build arbitrary objects, which imitlab does not do.
Writing with ``datasets`` alone gives directories that ``imitation.data.serialize.load`` reads.
Needs the ``datasets`` extra (``pip install 'imitlab[datasets]'``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from imitlab.data.demos import Demonstrations
from imitlab.data.importers.arrays import demos_from_arrays, max_episode_steps
from imitlab.errors import UserError

PREFIX = "imitation:"
_INSTALL = "pip install 'imitlab[datasets]'"
_COLUMNS = ("obs", "acts", "terminal")


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise UserError(f"reading and writing the imitation library's trajectories needs the datasets package: {_INSTALL}") from None
    return datasets


@contextlib.contextmanager
def _quiet(datasets: Any) -> Iterator[None]:
    """No progress bars from ``datasets`` while imitlab reads or writes (restored after)."""
    was = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was:
            datasets.enable_progress_bars()


def is_imitation_dir(path: Path) -> bool:
    """Whether ``path`` looks like a directory written by ``Dataset.save_to_disk``."""
    return (path / "state.json").is_file() and (path / "dataset_info.json").is_file()


def import_imitation(source: str, *, env_id: str | None, time_limit: int | None = None) -> Demonstrations:
    """Demonstrations from an ``imitation`` trajectories directory (``imitation:PATH`` or PATH).

    ``env_id`` is required (the format records none); how episodes ended is inferred from its
    time limit (or ``time_limit``), see the module docstring.
    """
    path = Path(source[len(PREFIX):] if source.startswith(PREFIX) else source)
    name = f"imitation trajectories {str(path)!r}"
    if not path.is_dir():
        raise UserError(f"{name} not found: give the directory that imitation.data.serialize.save wrote")
    if not is_imitation_dir(path):
        raise UserError(f"{name} is not a datasets directory (no state.json and dataset_info.json in it); give the "
                        "directory that imitation.data.serialize.save wrote")
    if env_id is None:
        raise UserError(f"{name} do not record their environment; pass --env with the gymnasium id they were recorded in")
    datasets = _datasets()
    with _quiet(datasets):
        try:
            ds = datasets.load_from_disk(str(path))
        except Exception as e:  # noqa: BLE001 - datasets and pyarrow raise many kinds for a damaged directory
            raise UserError(f"cannot read {name}: {type(e).__name__}: {_one_line(e)}; give the directory that "
                            "imitation.data.serialize.save wrote") from None
        if not isinstance(ds, datasets.Dataset):
            raise UserError(f"{name} hold several splits ({', '.join(ds)}); give one split's directory")
        missing = [c for c in _COLUMNS if c not in ds.column_names]
        if missing:
            raise UserError(f"{name} lack the columns {missing} (they have {ds.column_names}); give trajectories saved "
                            "by imitation.data.serialize.save")
        if len(ds) == 0:
            raise UserError(f"{name} hold no trajectories")
        has_rews = "rews" in ds.column_names
        columns = ["obs", "acts", "terminal"] + (["rews"] if has_rews else [])
        obs, acts, rews, complete, lengths = [], [], [], [], []
        try:
            for i, row in enumerate(ds.select_columns(columns).with_format("numpy")):
                o, a = _array(row["obs"], name, i, "obs"), _array(row["acts"], name, i, "acts")
                if len(o) != len(a) + 1:
                    raise UserError(f"{name}: trajectory {i} has {len(o)} observations for {len(a)} actions; a trajectory "
                                    "holds one more observation than actions (its final one)")
                if len(a) == 0:
                    raise UserError(f"{name}: trajectory {i} has no actions")
                obs.append(o)
                acts.append(a)
                if has_rews:
                    rews.append(_array(row["rews"], name, i, "rews"))
                complete.append(bool(row["terminal"]))
                lengths.append(len(a))
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - a damaged arrow file fails while it is read
            raise UserError(f"cannot read {name}: {type(e).__name__}: {_one_line(e)}") from None
    complete_arr = np.array(complete)
    fragments = np.flatnonzero(~complete_arr[:-1])
    note = [f"{len(fragments)} trajectories before the last are not terminal (fragments of episodes, the first is "
            f"trajectory {int(fragments[0])}): imported as episodes cut mid-way"] if len(fragments) else []
    for parts, col in ((obs, "obs"), (acts, "acts")):
        if len({(p.shape[1:], p.dtype.kind) for p in parts}) != 1:
            raise UserError(f"{name}: {col} differ in shape between trajectories; give trajectories of one env")
    from imitlab.data.importers.arrays import infer_episode_ends
    from imitlab.envs.vector import check_env_id

    check_env_id(env_id)
    limit = time_limit if time_limit is not None else max_episode_steps(env_id)
    lengths_arr = np.array(lengths)
    term, trunc, sentence = infer_episode_ends(lengths_arr, complete_arr, time_limit=limit, env_id=env_id)
    demos = demos_from_arrays(
        np.concatenate(obs), np.concatenate(acts),
        env_id=env_id, episode_lengths=lengths_arr, terminated=term, truncated=trunc,
        rews=np.concatenate(rews) if has_rews else None, source=str(path.resolve()), source_format="imitation",
        details={"columns": ds.column_names, "trajectories": len(ds), "time_limit": limit},
        what=name, fix=f"give trajectories recorded in {env_id} (or pass the --env they were recorded in)",
    )
    prov = demos.metadata["provenance"]
    prov["inferred"].append(sentence)
    if note:
        prov.setdefault("notes", []).extend(note)
    return demos


def _array(x: Any, name: str, i: int, col: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.hasobject:  # lists of unequal length inside one trajectory
        raise UserError(f"{name}: trajectory {i}'s {col} are ragged (rows of unequal length); give arrays of one shape")
    return arr


def _one_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    line = lines[0] if lines else ""
    return line if len(line) <= 160 else line[:157] + "..."


def export_imitation(demos: Demonstrations, dest: str | os.PathLike) -> Path:
    """Write ``demos`` as an ``imitation`` trajectories directory at ``dest`` (which must not
    exist), atomically: written beside, then renamed. ``terminal`` is true for every episode that
    ended (terminated or truncated) and false for one cut mid-way; ``infos`` are empty (the
    jsonpickle of ``{}``); observations are the flat ones (imitation supports no dict observations)."""
    dest = Path(str(dest)[len(PREFIX):] if str(dest).startswith(PREFIX) else dest)
    if dest.exists():
        raise UserError(f"{str(dest)!r} already exists; give a new directory for the trajectories")
    datasets = _datasets()
    columns: dict[str, list[Any]] = {
        "obs": [t.obs for t in demos.trajectories],
        "acts": [t.acts for t in demos.trajectories],
        "infos": [["{}"] * len(t) for t in demos.trajectories],
        "terminal": [bool(t.terminated or t.truncated) for t in demos.trajectories],
    }
    if demos.returns() is not None:
        columns["rews"] = [t.rews for t in demos.trajectories]
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp"))
    try:
        with _quiet(datasets):
            datasets.Dataset.from_dict(columns).save_to_disk(str(tmp / "ds"))
        os.rename(tmp / "ds", dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest

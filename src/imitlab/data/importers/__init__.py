"""Bring your own data: demonstrations from Minari datasets, the ``imitation`` library's
trajectories and ``.npz`` files of plain arrays, and back out to those formats.

``import_demos(SOURCE)`` picks the format from the source: ``minari:ID`` (the local Minari
root), ``imitation:PATH``, ``npz:PATH``, or a path (a Minari dataset directory, a directory written
by ``datasets``' ``save_to_disk``, a ``.npz`` file). Every import is checked as a demo file is and
records where it came from in ``metadata["provenance"]`` (shown by ``imitlab demos info``).
``export_demos(demos, FORMAT, DEST)`` writes the other way; imitlab -> format -> imitlab round
trips are exact (for ``imitation``, whose format does not say how an episode ended, when
truncations come from the env's time limit, as they do in demos imitlab records).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from imitlab.data.demos import Demonstrations
from imitlab.data.importers.arrays import demos_from_arrays, demos_to_arrays, infer_episode_ends
from imitlab.errors import UserError

FORMATS = ("minari", "imitation", "npz")

__all__ = ["FORMATS", "demos_from_arrays", "demos_to_arrays", "detect_format", "export_demos", "import_demos",
           "infer_episode_ends"]


def detect_format(source: str) -> str:
    """The format of ``source`` (one of :data:`FORMATS`), from its prefix or what the path holds."""
    for fmt in FORMATS:
        if source.startswith(fmt + ":"):
            return fmt
    from imitlab.data.importers.imitation import is_imitation_dir
    from imitlab.data.importers.minari import is_minari_dir

    path = Path(source)
    if path.is_dir():
        if is_minari_dir(path):
            return "minari"
        if is_imitation_dir(path):
            return "imitation"
        raise UserError(f"{source!r} is a directory but neither a Minari dataset (metadata.json) nor one written by "
                        "imitation.data.serialize.save (state.json); give minari:ID, a dataset directory or an .npz")
    if path.is_file():
        if path.suffix == ".npz":
            return "npz"
        raise UserError(f"{source!r} is not an .npz file; imitlab imports minari:ID, Minari dataset directories, "
                        "imitation's trajectory directories and .npz files of arrays")
    raise UserError(f"{source!r} not found; give minari:DATASET_ID (a dataset in the local Minari root), a Minari "
                    "dataset directory, an imitation trajectories directory or an .npz file")


def import_demos(source: str, *, env_id: str | None = None, format: str | None = None, **options: Any) -> Demonstrations:
    """Demonstrations from ``source`` in ``format`` (detected when None).

    Options: for ``npz``, ``keys`` (role -> array name) and ``drop_last_step``; for
    ``imitation``, ``time_limit`` (default: the env's). ``env_id`` is required where the format
    records none (``imitation``; ``npz`` without an ``env_id`` array) and otherwise overrides the
    recorded one (the spaces must fit).
    """
    fmt = format or detect_format(source)
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "minari":
        from imitlab.data.importers.minari import PREFIX, import_minari

        _no_options(fmt, options)
        return import_minari(source if source.startswith(PREFIX) or Path(source).exists() else PREFIX + source, env_id=env_id)
    if fmt == "imitation":
        from imitlab.data.importers.imitation import import_imitation

        _no_options(fmt, {k: v for k, v in options.items() if k != "time_limit"})
        return import_imitation(source, env_id=env_id, time_limit=options.get("time_limit"))
    from imitlab.data.importers.npz import import_npz

    _no_options(fmt, {k: v for k, v in options.items() if k not in ("keys", "drop_last_step")})
    return import_npz(source, env_id=env_id, keys=options.get("keys"), drop_last_step=bool(options.get("drop_last_step")))


_OPTION_NAMES = {"keys": "the array keys (--obs-key ...)", "drop_last_step": "--drop-last-step",
                 "time_limit": "--time-limit", "data_format": "--data-format"}


def _no_options(fmt: str, options: dict[str, Any]) -> None:
    extra = sorted(_OPTION_NAMES.get(k, k) for k, v in options.items() if v not in (None, False, {}))
    if extra:
        raise UserError(f"{', '.join(extra)} do not apply to the {fmt} format; leave them out")


def export_demos(demos: Demonstrations, format: str, dest: str | os.PathLike, **options: Any) -> str:
    """Write ``demos`` to ``dest`` in ``format`` (one of :data:`FORMATS`); returns where it went
    (a Minari dataset id, or a path). Options: for ``minari``, ``data_format`` (``hdf5`` or
    ``arrow``)."""
    if format == "minari":
        from imitlab.data.importers.minari import export_minari

        return export_minari(demos, str(dest), data_format=options.get("data_format") or "hdf5")
    _no_options(format, options)
    if format == "imitation":
        from imitlab.data.importers.imitation import export_imitation

        return str(export_imitation(demos, dest))
    if format == "npz":
        from imitlab.data.importers.npz import export_npz

        return str(export_npz(demos, dest))
    raise UserError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")

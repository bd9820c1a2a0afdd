"""``.npz`` files of plain arrays with user-named keys in and out (loggers, robots, D4RL-style
dumps, Stable-Baselines3's ``ExpertDataSet`` layout: ``obs``, ``actions``, ``rewards``,
``episode_returns``, ``episode_starts``).

Each role is found under the key given for it, else under its usual names (first match):

==============  =================================  =============================================
role            usual names                        what it holds
==============  =================================  =============================================
obs             obs, observations                  one row per step, or imitlab's layout (each
                                                   episode's final observation included)
acts            acts, actions                      one row per step
next_obs        next_obs, next_observations        one row per step (gives final observations)
rews            rews, rewards                      one per step
boundaries      episode_lengths / lengths,         exactly one: see
                episode_starts, dones              :mod:`imitlab.data.importers.arrays`
terminated      terminated, terminals              per step or per episode
truncated       truncated, timeouts                per step or per episode
env_id          env_id                             a string, used when ``--env`` is not given
==============  =================================  =============================================

With neither boundaries nor ``dones``, per-step ``terminated``/``truncated`` (D4RL's terminals and
timeouts) mark the episodes' ends. Files are read without unpickling (an array of Python objects
is refused), after checking that each array's declared size is what the file stores.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from imitlab.data.demos import Demonstrations, read_npz_arrays
from imitlab.data.importers.arrays import demos_from_arrays
from imitlab.errors import UserError
from imitlab.utils import atomic_savez

PREFIX = "npz:"
ROLES: dict[str, tuple[str, ...]] = {
    "obs": ("obs", "observations"),
    "acts": ("acts", "actions"),
    "next_obs": ("next_obs", "next_observations"),
    "rews": ("rews", "rewards"),
    "lengths": ("episode_lengths", "lengths"),
    "episode_starts": ("episode_starts",),
    "dones": ("dones",),
    "terminated": ("terminated", "terminals"),
    "truncated": ("truncated", "timeouts"),
}
_BOUNDARIES = ("lengths", "episode_starts", "dones")
_OPTION = {"obs": "--obs-key", "acts": "--acts-key", "next_obs": "--next-obs-key", "rews": "--rews-key",
           "lengths": "--lengths-key", "episode_starts": "--episode-starts-key", "dones": "--dones-key",
           "terminated": "--terminated-key", "truncated": "--truncated-key"}


def import_npz(
    source: str | os.PathLike,
    *,
    env_id: str | None = None,
    keys: dict[str, str] | None = None,
    drop_last_step: bool = False,
) -> Demonstrations:
    """Demonstrations from an ``.npz`` of arrays (``npz:PATH`` or PATH).

    Args:
        source: the file.
        env_id: the gymnasium id; default: the file's ``env_id`` array.
        keys: role -> key in the file, for the roles of :data:`ROLES` (``obs``, ``acts``,
            ``next_obs``, ``rews``, ``lengths``, ``episode_starts``, ``dones``, ``terminated``,
            ``truncated``); roles not given are looked up under their usual names.
        drop_last_step: with one observation per step and no next observations, drop each
            episode's last step (its final observation is unknown).
    """
    path = Path(str(source)[len(PREFIX):] if str(source).startswith(PREFIX) else source)
    name = f"array file {str(path)!r}"
    if not path.is_file():
        raise UserError(f"{name} not found")
    keys = dict(keys or {})
    unknown = sorted(set(keys) - set(ROLES))
    if unknown:
        raise UserError(f"unknown array roles {unknown}; the roles are {sorted(ROLES)}")
    arrays, names = read_npz_arrays(path, None, what=name, fix="give an .npz written by numpy.savez of plain arrays")
    if "meta" in names and {"lengths", "terminated", "truncated"} <= set(names):
        raise UserError(f"{name} is already an imitlab demo file: use it as it is (imitlab demos info {path})")
    given = [role for role in _BOUNDARIES if role in keys]
    if len(given) > 1:
        raise UserError(f"give one of {', '.join(_OPTION[r] for r in _BOUNDARIES)}, not {len(given)}")
    used: dict[str, str] = {}
    for role, usual in ROLES.items():
        if role in keys:
            if keys[role] not in arrays:
                raise UserError(f"{name} has no array {keys[role]!r} ({_OPTION[role]}); it holds {sorted(names)}")
            used[role] = keys[role]
        elif not (role in _BOUNDARIES and given):
            found = next((k for k in usual if k in arrays), None)
            if found is not None:
                used[role] = found
    for role in ("obs", "acts"):
        if role not in used:
            raise UserError(f"{name} has no {role} array (looked for {list(ROLES[role])}); it holds {sorted(names)}: "
                            f"name it with {_OPTION[role]}")
    boundary = next((r for r in _BOUNDARIES if r in used), None)
    for r in _BOUNDARIES:
        if r != boundary:
            used.pop(r, None)
    dones = None
    if boundary is None:
        flags = [arrays[used[r]] for r in ("terminated", "truncated") if r in used]
        n = len(arrays[used["acts"]]) if arrays[used["acts"]].ndim else 0
        if not flags or any(f.shape != (n,) for f in flags):
            raise UserError(f"{name} does not say where episodes end: name an array with --lengths-key, "
                            f"--episode-starts-key or --dones-key (it holds {sorted(names)})")
        dones = np.logical_or.reduce([f.astype(bool) for f in flags])
    if env_id is None:
        stored = arrays.get("env_id")
        if stored is None or stored.ndim != 0 or stored.dtype.kind != "U":
            raise UserError(f"{name} does not record its environment; pass --env with the gymnasium id it was recorded in")
        env_id = str(stored)
    a = {role: arrays[key] for role, key in used.items()}
    details = {"keys": used}
    return demos_from_arrays(
        a["obs"], a["acts"], env_id=env_id, next_obs=a.get("next_obs"), rews=a.get("rews"),
        episode_lengths=a.get("lengths"), episode_starts=a.get("episode_starts"),
        dones=a.get("dones", dones), terminated=a.get("terminated"), truncated=a.get("truncated"),
        drop_last_step=drop_last_step, source=str(path.resolve()), source_format="npz", details=details,
        what=name, fix="check the keys (--obs-key ...) and --env",
    )


def export_npz(demos: Demonstrations, dest: str | os.PathLike) -> Path:
    """Write ``demos`` as an ``.npz`` of per-step arrays (``obs``, ``next_obs``, ``acts``,
    ``rews``, ``episode_starts``, ``terminated``, ``truncated``, and ``env_id``) that
    :func:`import_npz` reads back exactly with its default keys; atomically."""
    dest = Path(str(dest)[len(PREFIX):] if str(dest).startswith(PREFIX) else dest)
    arrays: dict[str, Any] = dict(demos.to_arrays(per_step=True))
    arrays["env_id"] = np.array(demos.env_id)
    atomic_savez(dest, **arrays)
    return dest

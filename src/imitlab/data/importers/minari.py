"""Minari datasets (the Farama standard that d3rlpy, TorchRL and AgileRL read) in and out.

A Minari episode (``EpisodeData``) holds ``observations`` [T + 1] (the first to the final one, a
dict of arrays for a Dict space), ``actions``, ``rewards``, ``terminations`` and ``truncations``
[T]: exactly imitlab's :class:`~imitlab.data.demos.Trajectory`, so the mapping is one to one; the
dataset's recorded env spec gives the env id. Nothing is ever downloaded: ``minari:ID`` is read
from the local Minari root (``$MINARI_DATASETS_PATH``, else ``~/.minari/datasets``), and an id
that is not there is an error that says how to fetch it.

Needs the ``minari`` extra (``pip install 'imitlab[minari]'``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from imitlab.data.demos import Demonstrations
from imitlab.data.importers.arrays import demos_from_arrays
from imitlab.envs.spaces import (
    bounds_difference,
    describe_layout,
    describe_space,
    flatten_observations,
    is_structured,
    layout_differences,
    layout_from_description,
    layout_summary,
    space_differences,
    space_from_description,
    space_summary,
    unflatten_observations,
)
from imitlab.errors import UserError

PREFIX = "minari:"
_INSTALL = "pip install 'imitlab[minari]'"


def _minari() -> Any:
    try:
        import minari
    except ImportError:
        raise UserError(f"reading and writing Minari datasets needs the minari package: {_INSTALL}") from None
    return minari


def minari_root() -> Path:
    """The local Minari root: ``$MINARI_DATASETS_PATH``, else ``~/.minari/datasets`` (as Minari's)."""
    env = os.environ.get("MINARI_DATASETS_PATH")
    return Path(env) if env else Path.home() / ".minari" / "datasets"


def _check_id(dataset_id: str) -> None:
    from minari.dataset.minari_dataset import parse_dataset_id

    try:
        parse_dataset_id(dataset_id)
    except (ValueError, TypeError):
        raise UserError(f"{dataset_id!r} is not a Minari dataset id; ids look like "
                        "'namespace/name-v0' (e.g. 'D4RL/door/human-v2')") from None


def is_minari_dir(path: Path) -> bool:
    """Whether ``path`` is a Minari dataset directory (``ID/`` or ``ID/data/``)."""
    return (path / "metadata.json").is_file() or (path / "data" / "metadata.json").is_file()


def _data_path(source: str) -> tuple[Path, str]:
    """``(directory holding metadata.json, how to name it)`` for ``minari:ID`` or a directory."""
    if source.startswith(PREFIX):
        dataset_id = source[len(PREFIX):]
        _check_id(dataset_id)
        root = minari_root()
        path = root / dataset_id / "data"
        if not (path / "metadata.json").is_file():
            raise UserError(f"Minari dataset {dataset_id!r} is not in the local Minari root {str(root)!r} "
                            f"($MINARI_DATASETS_PATH); imitlab never downloads: fetch it with 'minari download {dataset_id}' "
                            "(or point MINARI_DATASETS_PATH at the root that holds it), then import again")
        return path, f"Minari dataset {dataset_id!r}"
    path = Path(source)
    for candidate in (path / "data", path):
        if (candidate / "metadata.json").is_file():
            return candidate, f"Minari dataset {str(path)!r}"
    raise UserError(f"{source!r} is not a Minari dataset directory (no metadata.json in it or in its data/); "
                    "give 'minari:DATASET_ID' or the dataset's directory")


def _open(data_path: Path, name: str) -> Any:
    minari = _minari()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return minari.MinariDataset(data_path)
    except ImportError as e:  # h5py (the hdf5 format) or pyarrow (arrow) missing
        raise UserError(f"cannot read {name}: {e}; {_INSTALL} installs what it needs") from None
    except Exception as e:  # noqa: BLE001 - minari raises ValueError, AssertionError, KeyError, OSError ...
        raise UserError(f"cannot read {name}: {type(e).__name__}: {_one_line(e)}; give a dataset that "
                        "minari.load_dataset opens") from None


def _one_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    line = lines[0] if lines else ""
    return line if len(line) <= 160 else line[:157] + "..."


def _check_spaces(ds_obs: Any, ds_act: Any, env_id: str, name: str) -> tuple[list[str], dict[str, Any] | None]:
    """Refuse a dataset whose spaces do not fit ``env_id``'s; return notes on bounds that differ
    and the env's layout (Dict/Tuple observations) or None."""
    from imitlab.envs.dict_obs import _raw_spaces

    env_obs, env_act = _raw_spaces(env_id)
    notes: list[str] = []
    if is_structured(ds_obs) or is_structured(env_obs):
        if not (is_structured(ds_obs) and is_structured(env_obs)):
            have = layout_summary(describe_layout(ds_obs)) if is_structured(ds_obs) else space_summary(describe_space(ds_obs))
            want = layout_summary(describe_layout(env_obs)) if is_structured(env_obs) else space_summary(describe_space(env_obs))
            raise UserError(f"{name} observes {have}, but {env_id} observes {want}; pass the --env it was recorded in")
        diffs = layout_differences(describe_layout(ds_obs), describe_layout(env_obs))
        layout = describe_layout(env_obs)
    else:
        a, b = describe_space(ds_obs), describe_space(env_obs)
        diffs = space_differences(a, b, name="observation")
        bounds = bounds_difference(a, b, name="observation")
        if bounds and not diffs:
            notes.append(f"the dataset's observation bounds differ from {env_id}'s ({bounds}); {env_id}'s are kept")
        layout = None
    a, b = describe_space(ds_act), describe_space(env_act)
    diffs += space_differences(a, b, name="action")
    if diffs:
        raise UserError(f"{name}'s spaces do not fit {env_id} ({'; '.join(diffs[:3])}); "
                        "pass the --env it was recorded in")
    bounds = bounds_difference(a, b, name="action")
    if bounds:
        notes.append(f"the dataset's action bounds differ from {env_id}'s ({bounds}); {env_id}'s are kept")
    return notes, layout


def import_minari(source: str, *, env_id: str | None = None) -> Demonstrations:
    """Demonstrations from a Minari dataset: ``minari:ID`` (the local Minari root) or a dataset
    directory. The env id is the dataset's recorded one unless ``env_id`` is given (its spaces must
    then fit the dataset's); rewards, terminations and truncations are read, not inferred."""
    data_path, name = _data_path(source)
    ds = _open(data_path, name)
    spec = ds.spec.env_spec
    recorded = spec.id if spec is not None else None
    if env_id is None:
        if recorded is None:
            raise UserError(f"{name} records no environment; pass --env with the gymnasium id it was recorded in")
        env_id = recorded
    notes, layout = _check_spaces(ds.observation_space, ds.action_space, env_id, name)
    if recorded is not None and recorded != env_id:
        notes.append(f"the dataset was recorded in {recorded}; imported for {env_id}, whose spaces fit")
    metadata = ds.storage.metadata
    no_rewards = metadata.get("imitlab_rewards") is False  # written by export_minari for demos without rewards
    obs_parts, acts, rews, lengths, term, trunc = [], [], [], [], [], []
    empty = 0
    try:
        for ep in ds.iterate_episodes():
            if len(ep) == 0:
                empty += 1
                continue
            if layout is not None:
                try:
                    obs_parts.append(flatten_observations(layout, _as_batch(ep.observations)))
                except UserError as e:
                    raise UserError(f"{name}'s episode {ep.id} does not fit {env_id}'s observations: {e}") from None
            else:
                obs_parts.append(np.asarray(ep.observations))
            acts.append(np.asarray(ep.actions))
            rews.append(np.asarray(ep.rewards))
            lengths.append(len(ep))
            term.append(np.asarray(ep.terminations))
            trunc.append(np.asarray(ep.truncations))
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - h5py and pyarrow raise many kinds for a damaged file
        raise UserError(f"cannot read {name}: {type(e).__name__}: {_one_line(e)}; give a dataset that "
                        "minari.load_dataset opens") from None
    if not lengths:
        raise UserError(f"{name} holds no episodes with steps; nothing to import")
    if empty:
        notes.append(f"{empty} episodes without steps were left out")
    details = {k: metadata[k] for k in ("dataset_id", "minari_version", "data_format", "algorithm_name")
               if isinstance(metadata.get(k), str)}
    if recorded is not None:
        details["env_spec_id"] = recorded
    for k in ("total_episodes", "total_steps"):
        if isinstance(metadata.get(k), int):
            details[k] = metadata[k]
    if no_rewards:
        notes.append("the dataset was exported by imitlab from demos without rewards: its zero rewards were left out")
    source_name = source if source.startswith(PREFIX) else str(Path(source).resolve())
    demos = demos_from_arrays(
        _concat(obs_parts, name, "observations"), _concat(acts, name, "actions"), env_id=env_id,
        episode_lengths=np.array(lengths), terminated=np.concatenate(term), truncated=np.concatenate(trunc),
        rews=None if no_rewards else _concat(rews, name, "rewards"), source=source_name, source_format="minari",
        details=details, what=name, fix="give a dataset recorded in the env (or pass its --env)",
    )
    if notes:
        demos.metadata["provenance"].setdefault("notes", []).extend(notes)
    return demos


def _as_batch(obs: Any) -> Any:
    """Minari's structured observations of one episode: dicts/tuples of [T + 1, ...] arrays."""
    if isinstance(obs, dict):
        return {k: _as_batch(v) for k, v in obs.items()}
    if isinstance(obs, tuple | list):
        return tuple(_as_batch(v) for v in obs)
    return np.asarray(obs)


def _concat(parts: list[np.ndarray], name: str, what: str) -> np.ndarray:
    try:
        return np.concatenate(parts)
    except ValueError as e:
        raise UserError(f"{name}'s {what} differ in shape between episodes ({_one_line(e)})") from None


def check_new_dataset(dest: str) -> str:
    """The dataset id that ``dest`` names (``minari:`` optional), checked to be a valid id not yet
    in the local Minari root, with minari installed; a UserError otherwise."""
    _minari()
    dataset_id = dest[len(PREFIX):] if dest.startswith(PREFIX) else dest
    _check_id(dataset_id)
    root = minari_root()
    if (root / dataset_id).exists():
        raise UserError(f"Minari dataset {dataset_id!r} already exists in {str(root)!r}; choose another id "
                        f"(e.g. a new version) or delete it with 'minari delete {dataset_id}'")
    return dataset_id


def export_minari(demos: Demonstrations, dest: str, *, data_format: str = "hdf5") -> str:
    """Write ``demos`` as the Minari dataset ``dest`` (an id, ``minari:`` optional) in the local
    Minari root, atomically (written beside, then renamed); returns the id.

    Observations go out in the env's own space (a Dict/Tuple rebuilt from the recorded layout),
    every episode's termination and truncation as recorded; demos without rewards get zero
    rewards and ``imitlab_rewards: false`` in the dataset's metadata, which the import reads back.
    Images are stored without JPEG compression, so the arrays come back exactly.
    """
    minari = _minari()
    dataset_id = check_new_dataset(dest)
    from minari.data_collector.episode_buffer import EpisodeBuffer
    from minari.dataset.minari_dataset import parse_dataset_id
    from minari.dataset.minari_storage import MinariStorage

    if data_format not in ("hdf5", "arrow"):
        raise UserError(f"unknown Minari data format {data_format!r}; use 'hdf5' or 'arrow'")
    final = minari_root() / dataset_id
    obs_space = (layout_from_description(demos.obs_layout) if demos.obs_layout is not None
                 else space_from_description(demos.obs_space))
    act_space = space_from_description(demos.act_space)
    env_spec = _env_spec(demos.env_id)
    buffers = []
    for i, t in enumerate(demos.trajectories):
        n = len(t)
        obs: Any = t.obs if demos.obs_layout is None else unflatten_observations(demos.obs_layout, t.obs.reshape(len(t.obs), -1))
        term, trunc = np.zeros(n, bool), np.zeros(n, bool)
        term[-1], trunc[-1] = t.terminated, t.truncated
        rews = t.rews.astype(np.float64) if t.rews is not None else np.zeros(n)
        buffers.append(EpisodeBuffer(id=i, observations=obs, actions=t.acts, rewards=rews, terminations=term, truncations=trunc))
    namespace = parse_dataset_id(dataset_id)[0]
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                storage = MinariStorage.new(tmp / "data", observation_space=obs_space, action_space=act_space,
                                            env_spec=env_spec, data_format=data_format, jpeg_encoding=False)
            except TypeError:  # a Minari without the jpeg_encoding option (before 0.5.4) stores raw arrays
                storage = MinariStorage.new(tmp / "data", observation_space=obs_space, action_space=act_space,
                                            env_spec=env_spec, data_format=data_format)
            except ImportError as e:
                raise UserError(f"cannot write a Minari {data_format} dataset: {e}; {_INSTALL} installs what it needs") from None
            meta: dict[str, Any] = {
                "dataset_id": dataset_id,
                "minari_version": minari.__version__,
                "algorithm_name": "imitlab demos export",
                "description": f"imitlab demonstrations of {demos.env_id}: {demos.n_episodes} episodes, "
                               f"{demos.n_transitions} steps",
            }
            if demos.returns() is None:
                meta["imitlab_rewards"] = False
            storage.update_metadata(meta)
            storage.update_episodes(buffers)
        if namespace is not None:
            from minari.namespace import create_namespace, list_local_namespaces

            if namespace not in list_local_namespaces():
                create_namespace(namespace)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dataset_id


def _env_spec(env_id: str) -> Any:
    import gymnasium as gym

    try:
        return gym.spec(env_id)
    except gym.error.Error:
        return None

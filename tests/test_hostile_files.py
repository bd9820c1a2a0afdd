"""Every file a user can hand imitlab fails cleanly (issue #10).

From a valid tiny demo file (CartPole-v1 and Pendulum-v1), policy file (CartPole-v1, and a
Pendulum-v1 one with a critic section) and expert-training checkpoint (CartPole-v1 PPO), made once
per session, this module generates damaged and foreign variants: truncated, flipped bytes (in
array data, pickles and zip directories), arrays or keys dropped or renamed, wrong dtypes and
shapes, nan/inf in observations, actions and weights, lengths that do not add up, huge declared
sizes (npy headers, zip records, spaces, layer sizes, lengths), pickled objects, and files made for
another env. Each is fed, in-process through ``imitlab.cli.main``, to every command that reads that
kind of file:

- 48 demo files x 5 commands (``demos info``, ``train bc``, ``train gail``, ``train gail-offline``,
  ``train dagger --demos``) = 240;
- 41 policy files x 5 commands (``eval --policy``, ``demos collect --expert``, ``train dagger
  --expert``, ``train aggrevated --expert``, ``train gail --init-from``) = 205;
- 20 checkpoints x 5 commands (``--resume`` of ``expert train``, ``train gail``, ``train
  gail-offline``, ``train dagger``, ``train aggrevated``) = 100;

109 files, 545 file x command runs in all, plus 3 through the installed ``imitlab`` executable.
Each must exit with status 2 and exactly one line on stderr (``imitlab: error: ...``) that names
the problem (a phrase per file is checked), no traceback and no warning, and write nothing: the
``--out`` path is absent afterwards and the directories holding the files are byte for byte
unchanged. The one exception is a valid demo file of another env, which ``demos info`` (it takes
no --env) describes.
No file is ever unpickled: the pickled objects here record it if they are.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from imitlab.cli import main

# ------------------------------------------------------------------------------ pickled-object trap
UNPICKLED: list[str] = []


def _spring() -> str:
    UNPICKLED.append("unpickled")
    return "trap"


class Trap:
    """Pickles to a call of :func:`_spring`: any load that unpickles it leaves a mark in UNPICKLED."""

    def __reduce__(self):
        return (_spring, ())


# --------------------------------------------------------------------------------------- byte edits
def _truncate(fraction: float) -> Callable[[Path, Path], None]:
    def make(base: Path, out: Path) -> None:
        data = base.read_bytes()
        out.write_bytes(data[: int(len(data) * fraction)])

    return make


def _member_spans(path: Path) -> dict[str, tuple[int, int]]:
    """Each zip member's (offset of its stored bytes, their length)."""
    data = path.read_bytes()
    spans = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
            spans[info.filename] = (info.header_offset + 30 + name_len + extra_len, info.compress_size)
    return spans


def _flip_in_member(suffix: str, where: float = 0.5) -> Callable[[Path, Path], None]:
    """Flip every bit of one byte inside the stored bytes of the member whose name ends with ``suffix``."""

    def make(base: Path, out: Path) -> None:
        data = bytearray(base.read_bytes())
        (start, size), = [span for name, span in _member_spans(base).items() if name.endswith(suffix)]
        data[start + int(size * where)] ^= 0xFF
        out.write_bytes(bytes(data))

    return make


def _central_directory(data: bytes) -> int:
    eocd = data.rindex(b"PK\x05\x06")
    return struct.unpack("<I", data[eocd + 16 : eocd + 20])[0]


def _patch_central(offset_in_entry: int, value: bytes) -> Callable[[Path, Path], None]:
    """Overwrite bytes of the first central-directory entry (46-byte header, then the name)."""

    def make(base: Path, out: Path) -> None:
        data = bytearray(base.read_bytes())
        at = _central_directory(bytes(data)) + offset_in_entry
        data[at : at + len(value)] = value
        out.write_bytes(bytes(data))

    return make


def _write(content: bytes) -> Callable[[Path, Path], None]:
    return lambda base, out: out.write_bytes(content)


# ------------------------------------------------------------------------------- demo (.npz) edits
def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _save_arrays(out: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(out, "wb") as f:  # a file object: numpy would add ".npz" to a name
        np.savez(f, **arrays)


def _demo_edit(edit: Callable[[dict[str, np.ndarray]], None]) -> Callable[[Path, Path], None]:
    def make(base: Path, out: Path) -> None:
        arrays = _arrays(base)
        edit(arrays)
        _save_arrays(out, arrays)

    return make


def _meta_edit(edit: Callable[[dict], object], *, replace: bool = False) -> Callable[[Path, Path], None]:
    """Edit the JSON metadata in place (or, with ``replace``, swap it for what ``edit`` returns)."""

    def change(arrays):
        meta = json.loads(str(arrays["meta"]))
        new = edit(meta)
        arrays["meta"] = np.array(json.dumps(new if replace else meta))

    return _demo_edit(change)


def _set(key: str, value: Callable[[dict[str, np.ndarray]], object]):
    def change(arrays):
        arrays[key] = value(arrays)

    return _demo_edit(change)


def _drop(key: str):
    return _demo_edit(lambda a: a.pop(key))


def _rename(key: str, new: str):
    return _demo_edit(lambda a: a.__setitem__(new, a.pop(key)))


def _at(key: str, index, value, dtype=None):
    """``arrays[key]`` (cast to ``dtype`` first, if given) with ``value`` at ``index``."""

    def change(arrays):
        arr = arrays[key].astype(dtype) if dtype else arrays[key].copy()
        arr[index] = value
        arrays[key] = arr

    return _demo_edit(change)


def _huge_npy_header(base: Path, out: Path) -> None:
    """``obs.npy`` whose header declares 10^12 rows while the member holds a few bytes."""
    arrays = _arrays(base)
    arrays.pop("obs")
    _save_arrays(out, arrays)
    with zipfile.ZipFile(out, "a") as zf, zf.open("obs.npy", "w") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 4)})
        f.write(b"\0" * 64)


def _del_meta(key):
    return lambda m: m.pop(key)


def _meta_set(key, value):
    return lambda m: m.__setitem__(key, value)


# ---------------------------------------------------------------------------- torch-file edits
def _payload(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def _torch_edit(edit: Callable[[dict], object], *, replace: bool = False) -> Callable[[Path, Path], None]:
    """Load a torch file, edit its payload in place (or, with ``replace``, swap it for what
    ``edit`` returns) and save it again, as a well-formed torch file."""

    def make(base: Path, out: Path) -> None:
        payload = _payload(base)
        new = edit(payload)
        torch.save(new if replace else payload, out)

    return make


def _sd(edit: Callable[[dict], None], section: str | None = None) -> Callable[[Path, Path], None]:
    """Edit a policy file's state_dict (or its critic section's)."""

    def change(payload):
        edit((payload[section] if section else payload)["state_dict"])

    return _torch_edit(change)


def _first_weight(sd: dict) -> str:
    return next(k for k in sd if k.endswith("weight"))


def _nan_weight(sd):
    sd[_first_weight(sd)][0, 0] = float("nan")


def _double_weights(sd):
    k = _first_weight(sd)
    sd[k] = sd[k].double()


def _reshape_weight(sd):
    k = _first_weight(sd)
    sd[k] = sd[k][:, :-1].clone()


def _rename_weight(sd):
    k = _first_weight(sd)
    sd[k.replace("weight", "kernel")] = sd.pop(k)


def _copy(base: Path, out: Path) -> None:
    shutil.copy(base, out)


def _checkpoint_learner(edit: Callable[[dict], None]):
    return _torch_edit(lambda state: edit(state["learner"]))


def _resaved_elsewhere(base: Path, out: Path) -> None:
    """A checkpoint, intact and digested, of a run with other settings (another env): as if
    another run's checkpoint.pt had been copied in."""
    from imitlab.checkpoint import load_checkpoint, save_checkpoint

    state = load_checkpoint(base.parent)
    for key in ("format", "version"):
        state.pop(key)
    state["config"]["env_id"] = "Acrobot-v1"
    save_checkpoint(out.parent, state)


# --------------------------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    name: str
    base: str  # key of the valid file it is made from (see the ``valid`` fixture)
    make: Callable[[Path, Path], None]
    expect: str  # a phrase the error line must hold (case-insensitive): it names the problem
    env: str = "CartPole-v1"


_CARTPOLE_NPZ = "cartpole_demos"
_PENDULUM_NPZ = "pendulum_demos"
DEMO_CASES = [
    Case("truncated_half", _CARTPOLE_NPZ, _truncate(0.5), "corrupt or not an .npz"),
    Case("truncated_head", _CARTPOLE_NPZ, _truncate(0.01), "corrupt or not an .npz"),
    Case("empty", _CARTPOLE_NPZ, _write(b""), "corrupt or not an .npz"),
    Case("text", _CARTPOLE_NPZ, _write(b"obs,acts\n1,2\n"), "corrupt or not an .npz"),
    Case("flipped_obs_data", _CARTPOLE_NPZ, _flip_in_member("obs.npy"), "corrupt"),
    Case("flipped_meta_data", _CARTPOLE_NPZ, _flip_in_member("meta.npy", 0.9), "corrupt"),
    Case("flipped_directory_name", _CARTPOLE_NPZ, _patch_central(46, b"X"), "missing arrays ['meta']"),
    Case("flipped_compression_method", _CARTPOLE_NPZ, _patch_central(10, b"\x63\x00"), "corrupt"),
    Case("huge_npy_header", _CARTPOLE_NPZ, _huge_npy_header, "declares shape"),
    Case("pickled_obs", _CARTPOLE_NPZ, _set("obs", lambda a: np.array([Trap()] * 3, dtype=object)), "pickled"),
    Case("dropped_obs", _CARTPOLE_NPZ, _drop("obs"), "missing arrays ['obs']"),
    Case("dropped_meta", _CARTPOLE_NPZ, _drop("meta"), "missing arrays ['meta']"),
    Case("renamed_acts", _CARTPOLE_NPZ, _rename("acts", "actions"), "missing arrays ['acts']"),
    Case("meta_not_json", _CARTPOLE_NPZ, _set("meta", lambda a: np.array("{format: demos")), "not json"),
    Case("meta_numbers", _CARTPOLE_NPZ, _set("meta", lambda a: np.arange(3)), "'meta' must be one json string"),
    Case("meta_json_list", _CARTPOLE_NPZ, _meta_edit(lambda m: [m], replace=True), "json list"),
    Case("meta_other_format", _CARTPOLE_NPZ, _meta_edit(_meta_set("format", "minari")), "format is 'minari'"),
    Case("meta_newer_version", _CARTPOLE_NPZ, _meta_edit(_meta_set("version", 99)), "upgrade imitlab"),
    Case("meta_without_act_space", _CARTPOLE_NPZ, _meta_edit(_del_meta("act_space")), "lacks 'act_space'"),
    Case("meta_without_env_id", _CARTPOLE_NPZ, _meta_edit(_del_meta("env_id")), "env_id"),
    Case("meta_space_of_unknown_type", _CARTPOLE_NPZ, _meta_edit(_meta_set("act_space", {"type": "Tuple"})), "type 'tuple'"),
    Case("meta_huge_discrete", _CARTPOLE_NPZ, _meta_edit(_meta_set("act_space", {"type": "Discrete", "n": 10**12})), "n=1000000000000"),
    Case("meta_huge_box", _CARTPOLE_NPZ,
         _meta_edit(lambda m: m["obs_space"].__setitem__("shape", [10**6, 10**6])), "entries"),
    Case("meta_box_object_dtype", _CARTPOLE_NPZ,
         _meta_edit(lambda m: m["obs_space"].__setitem__("dtype", "object")), "not a numeric dtype"),
    Case("meta_metadata_list", _CARTPOLE_NPZ, _meta_edit(_meta_set("metadata", [1, 2])), "'metadata'"),
    Case("string_obs", _CARTPOLE_NPZ, _set("obs", lambda a: a["obs"].astype(str)), "observations must be numbers"),
    Case("obs_flat", _CARTPOLE_NPZ, _set("obs", lambda a: a["obs"][:, 0].copy()), "observations have shape"),
    Case("obs_nan", _CARTPOLE_NPZ, _at("obs", (7, 2), np.nan), "observations contain nan or inf"),
    Case("obs_inf", _CARTPOLE_NPZ, _at("obs", (0, 0), -np.inf), "observations contain nan or inf"),
    Case("discrete_acts_nan", _CARTPOLE_NPZ, _at("acts", 5, np.nan, np.float64), "found nan"),
    Case("discrete_acts_fraction", _CARTPOLE_NPZ, _at("acts", 5, 0.5, np.float64), "found 0.5"),
    Case("discrete_acts_out_of_range", _CARTPOLE_NPZ, _at("acts", 5, 2), "in [0, 2), found 2"),
    Case("discrete_acts_negative", _CARTPOLE_NPZ, _at("acts", 0, -1), "found -1"),
    Case("discrete_acts_2d", _CARTPOLE_NPZ, _set("acts", lambda a: a["acts"][:, None].copy()), "one number per step"),
    Case("discrete_acts_text", _CARTPOLE_NPZ, _set("acts", lambda a: a["acts"].astype(str)), "must be integers"),
    Case("lengths_2d", _CARTPOLE_NPZ, _set("lengths", lambda a: a["lengths"][None, :].copy()), "one length per episode"),
    Case("lengths_fraction", _CARTPOLE_NPZ, _at("lengths", 0, 0.5, np.float64), "whole numbers"),
    Case("lengths_do_not_add_up", _CARTPOLE_NPZ, _set("lengths", lambda a: a["lengths"] - 1), "do not match the episode lengths"),
    Case("lengths_huge", _CARTPOLE_NPZ, _at("lengths", 0, 2**62), "episode lengths must be in"),
    Case("lengths_empty", _CARTPOLE_NPZ, _set("lengths", lambda a: np.zeros(0, np.int64)), "one length per episode"),
    Case("flags_short", _CARTPOLE_NPZ, _set("terminated", lambda a: a["terminated"][:1].copy()), "'terminated' has shape"),
    Case("flags_floats", _CARTPOLE_NPZ, _set("truncated", lambda a: a["truncated"] + 0.5), "true/false flags"),
    Case("rewards_nan", _CARTPOLE_NPZ, _at("rews", 3, np.nan), "rewards contain nan or inf"),
    Case("rewards_short", _CARTPOLE_NPZ, _set("rews", lambda a: a["rews"][:-1].copy()), "rewards have shape"),
    Case("continuous_acts_nan", _PENDULUM_NPZ, _at("acts", (4, 0), np.nan), "continuous actions contain nan or inf", "Pendulum-v1"),
    Case("continuous_acts_inf", _PENDULUM_NPZ, _at("acts", (9, 0), np.inf), "continuous actions contain nan or inf", "Pendulum-v1"),
    Case("continuous_acts_wide", _PENDULUM_NPZ, _set("acts", lambda a: np.repeat(a["acts"], 2, axis=1)), "continuous actions have shape",
         "Pendulum-v1"),
    # A valid file of another env: refused by every command that trains in --env.
    Case("another_env", _PENDULUM_NPZ, _copy, "do not fit CartPole-v1"),
]

_CARTPOLE_PT = "cartpole_policy"
_PENDULUM_PT = "pendulum_policy"
POLICY_CASES = [
    Case("truncated_half", _CARTPOLE_PT, _truncate(0.5), "not a zip archive"),
    Case("truncated_to_header", _CARTPOLE_PT, _truncate(0.02), "not a zip archive"),
    Case("empty", _CARTPOLE_PT, _write(b""), "not a zip archive"),
    Case("text", _CARTPOLE_PT, _write(b"hidden: [64, 64]\n"), "not a zip archive"),
    Case("flipped_weight_byte", _CARTPOLE_PT, _flip_in_member("data/2"), "is damaged"),
    Case("flipped_pickle_byte", _CARTPOLE_PT, _flip_in_member("data.pkl"), "is damaged"),
    Case("flipped_directory_name", _CARTPOLE_PT, _patch_central(50, b"\xff"), "is damaged or not a torch file"),
    Case("huge_declared_record", _CARTPOLE_PT, _patch_central(20, struct.pack("<II", 2**31, 2**31)), "is damaged or not a torch file"),
    Case("pickled_object", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("extra", {"note": Trap()})), "weights-only load refuses"),
    Case("plain_pickle", _CARTPOLE_PT, lambda b, o: o.write_bytes(__import__("pickle").dumps({"format": "imitlab.policy", "t": Trap()})),
         "not a zip archive"),
    Case("not_a_dict", _CARTPOLE_PT, _torch_edit(lambda p: [p], replace=True), "not an imitlab policy file"),
    Case("format_dropped", _CARTPOLE_PT, _torch_edit(lambda p: p.pop("format")), "not an imitlab policy file"),
    Case("newer_version", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("version", 7)), "upgrade imitlab"),
    Case("version_text", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("version", "1")), "format version '1'"),
    Case("obs_space_dropped", _CARTPOLE_PT, _torch_edit(lambda p: p.pop("obs_space")), "lacks its 'obs_space'"),
    Case("act_space_renamed", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("action_space", p.pop("act_space"))),
         "lacks its 'act_space'"),
    Case("obs_space_garbage", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("obs_space", "Box(4,)")), "not a space description"),
    Case("act_space_huge", _CARTPOLE_PT, _torch_edit(lambda p: p["act_space"].__setitem__("n", 10**12)), "n=1000000000000"),
    Case("obs_space_huge", _CARTPOLE_PT, _torch_edit(lambda p: p["obs_space"].__setitem__("shape", [2**40])), "entries"),
    Case("obs_space_discrete", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("obs_space", {"type": "Discrete", "n": 4})),
         "observe box spaces"),
    Case("unknown_kind", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("kind", "TransformerPolicy")), "unknown policy kind"),
    Case("kind_for_other_actions", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("kind", "GaussianPolicy")),
         "acts in a box space"),
    Case("hidden_mismatch", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("hidden", [32, 32])), "do not fit the network"),
    Case("hidden_large", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("hidden", [2**20])), "do not fit the network"),
    Case("hidden_huge", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("hidden", [2**40, 2**40])), "cannot build"),
    Case("hidden_text", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("hidden", "64,64")), "not a list of layer sizes"),
    Case("hidden_zero", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("hidden", [0])), "not a list of layer sizes"),
    Case("weights_dropped", _CARTPOLE_PT, _torch_edit(lambda p: p.pop("state_dict")), "has no weights"),
    Case("weight_dropped", _CARTPOLE_PT, _sd(lambda sd: sd.pop("net.0.bias")), "missing ['net.0.bias']"),
    Case("weight_renamed", _CARTPOLE_PT, _sd(_rename_weight), "unexpected ['net.0.kernel']"),
    Case("weight_float64", _CARTPOLE_PT, _sd(_double_weights), "torch.float64"),
    Case("weight_shape", _CARTPOLE_PT, _sd(_reshape_weight), "the network needs"),
    Case("weight_nan", _CARTPOLE_PT, _sd(_nan_weight), "contains nan or inf"),
    Case("weight_not_tensor", _CARTPOLE_PT, _sd(lambda sd: sd.__setitem__("net.0.bias", [0.0] * 8)), "not a dense tensor"),
    Case("obs_std_zero", _CARTPOLE_PT, _sd(lambda sd: sd["obs_std"].zero_()), "must be positive"),
    Case("env_id_number", _CARTPOLE_PT, _torch_edit(lambda p: p.__setitem__("env_id", 3)), "env_id=3"),
    Case("squash_text", _PENDULUM_PT, _torch_edit(lambda p: p.__setitem__("squash", "yes")), "squash='yes'", "Pendulum-v1"),
    Case("critic_hidden_mismatch", _PENDULUM_PT, _torch_edit(lambda p: p["critic"].__setitem__("hidden", [4])),
         "critic section", "Pendulum-v1"),
    Case("critic_weight_nan", _PENDULUM_PT, _sd(_nan_weight, "critic"), "critic section", "Pendulum-v1"),
    Case("critic_kind_unknown", _PENDULUM_PT, _torch_edit(lambda p: p["critic"].__setitem__("kind", "Ensemble")),
         "unknown critic kind", "Pendulum-v1"),
    # A valid policy of another env.
    Case("another_env", _PENDULUM_PT, _copy, "pendulum-v1"),
]

CHECKPOINT_CASES = [
    Case("truncated_half", "checkpoint", _truncate(0.5), "not a zip archive"),
    Case("empty", "checkpoint", _write(b""), "not a zip archive"),
    Case("text", "checkpoint", _write(b"step: 1024\n"), "not a zip archive"),
    Case("flipped_tensor_byte", "checkpoint", _flip_in_member("data/3"), "is damaged"),
    Case("flipped_pickle_byte", "checkpoint", _flip_in_member("data.pkl", 0.3), "is damaged"),
    Case("flipped_directory_name", "checkpoint", _patch_central(50, b"\xff"), "is damaged or not a torch file"),
    Case("huge_declared_record", "checkpoint", _patch_central(20, struct.pack("<II", 2**31, 2**31)), "is damaged or not a torch file"),
    Case("pickled_object", "checkpoint", _torch_edit(lambda s: s["run"].__setitem__("history", [Trap()])), "weights-only load refuses"),
    Case("a_policy_file", _CARTPOLE_PT, _copy, "not an imitlab checkpoint"),
    Case("version_1", "checkpoint", _torch_edit(lambda s: (s.pop("digest", None), s.__setitem__("version", 1))), "checkpoint version 1"),
    Case("digest_dropped", "checkpoint", _torch_edit(lambda s: s.pop("digest", None)), "does not match its digest"),
    Case("key_dropped", "checkpoint", _torch_edit(lambda s: s.pop("learner")), "does not match its digest"),
    Case("key_renamed", "checkpoint", _torch_edit(lambda s: s.__setitem__("runs", s.pop("run"))), "does not match its digest"),
    Case("weight_float64", "checkpoint", _checkpoint_learner(lambda lr: _double_weights(lr["policy"])), "does not match its digest"),
    Case("weight_shape", "checkpoint", _checkpoint_learner(lambda lr: _reshape_weight(lr["policy"])), "does not match its digest"),
    Case("weight_nan", "checkpoint", _checkpoint_learner(lambda lr: _nan_weight(lr["policy"])), "does not match its digest"),
    Case("optimizer_dropped", "checkpoint", _checkpoint_learner(lambda lr: lr["learner"].pop("optimizer")), "does not match its digest"),
    Case("step_huge", "checkpoint", _torch_edit(lambda s: s.__setitem__("step", 2**62)), "does not match its digest"),
    Case("rng_text", "checkpoint", _torch_edit(lambda s: s["rng"].__setitem__("python", "seed")), "does not match its digest"),
    # An intact checkpoint of another env's run.
    Case("another_env", "checkpoint", _resaved_elsewhere, "different settings (env_id)"),
]

STEPS = ["--steps", "64", "--eval-episodes", "1"]
DEMO_COMMANDS: dict[str, Callable[[str, str, str], list[str]]] = {
    "demos_info": lambda f, env, out: ["demos", "info", f],
    "train_bc": lambda f, env, out: ["train", "bc", "--env", env, "--demos", f, "--out", out, "--epochs", "1",
                                     "--eval-episodes", "1"],
    "train_gail": lambda f, env, out: ["train", "gail", "--env", env, "--demos", f, "--out", out, *STEPS],
    "train_gail_offline": lambda f, env, out: ["train", "gail-offline", "--env", env, "--demos", f, "--out", out,
                                               "--iterations", "1", "--eval-episodes", "1"],
    "train_dagger": lambda f, env, out: ["train", "dagger", "--env", env, "--expert", "zoo", "--demos", f, "--out", out,
                                         *STEPS],
}
POLICY_COMMANDS: dict[str, Callable[[str, str, str, str], list[str]]] = {
    "eval": lambda f, env, out, demos: ["eval", "--env", env, "--policy", f, "--episodes", "1"],
    "demos_collect": lambda f, env, out, demos: ["demos", "collect", "--env", env, "--expert", f, "--episodes", "1",
                                                 "--out", out + ".npz"],
    "train_dagger": lambda f, env, out, demos: ["train", "dagger", "--env", env, "--expert", f, "--out", out, *STEPS],
    "train_aggrevated": lambda f, env, out, demos: ["train", "aggrevated", "--env", env, "--expert", f, "--out", out, *STEPS],
    "train_gail_init_from": lambda f, env, out, demos: ["train", "gail", "--env", env, "--demos", demos, "--init-from", f,
                                                        "--out", out, *STEPS],
}
RESUME = ["expert", "train", "--env", "CartPole-v1", "--algo", "ppo", "--steps", "1024", "--eval-every", "1024"]
# Every command that continues a run from its checkpoint.pt (the hostile files are expert runs' checkpoints).
CHECKPOINT_COMMANDS: dict[str, Callable[[str, str], list[str]]] = {
    "expert_train": lambda run, demos: [*RESUME, "--out", run, "--resume"],
    "train_gail": lambda run, demos: [*DEMO_COMMANDS["train_gail"](demos, "CartPole-v1", run), "--resume"],
    "train_gail_offline": lambda run, demos: [*DEMO_COMMANDS["train_gail_offline"](demos, "CartPole-v1", run), "--resume"],
    "train_dagger": lambda run, demos: [*DEMO_COMMANDS["train_dagger"](demos, "CartPole-v1", run), "--resume"],
    "train_aggrevated": lambda run, demos: [*POLICY_COMMANDS["train_aggrevated"]("zoo", "CartPole-v1", run, demos), "--resume"],
}


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def valid(tmp_path_factory, cartpole_demos) -> dict[str, Path]:
    """The valid tiny files the hostile ones are made from."""
    from imitlab.critics import TwinQ
    from imitlab.data.collect import collect_demos
    from imitlab.envs import env_spaces
    from imitlab.policies import make_policy, save_policy

    root = tmp_path_factory.mktemp("valid")
    files = {"cartpole_demos": root / "cartpole.npz", "pendulum_demos": root / "pendulum.npz",
             "cartpole_policy": root / "cartpole.pt", "pendulum_policy": root / "pendulum.pt"}
    cartpole_demos.head(2).save(files["cartpole_demos"])
    rng = np.random.default_rng(0)
    collect_demos(lambda obs: rng.uniform(-2, 2, size=(len(obs), 1)), "Pendulum-v1", episodes=1).save(files["pendulum_demos"])
    torch.manual_seed(0)
    obs_space, act_space = env_spaces("CartPole-v1")
    save_policy(make_policy(obs_space, act_space, (8,)), files["cartpole_policy"], env_id="CartPole-v1")
    obs_space, act_space = env_spaces("Pendulum-v1")
    save_policy(make_policy(obs_space, act_space, (8,)), files["pendulum_policy"], env_id="Pendulum-v1",
                critic=TwinQ(obs_space, act_space, (8,)))
    run = root / "run"
    assert main([*RESUME, "--out", str(run)]) == 0
    files["checkpoint"] = run / "checkpoint.pt"
    return files


@pytest.fixture(scope="session")
def hostile(valid, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Every hostile file, each alone in its directory (a checkpoint in a copy of the whole run)."""
    root = tmp_path_factory.mktemp("hostile")
    files = {}
    for kind, cases in (("demo", DEMO_CASES), ("policy", POLICY_CASES), ("checkpoint", CHECKPOINT_CASES)):
        for case in cases:
            where = root / kind / case.name
            if kind == "checkpoint":
                shutil.copytree(valid["checkpoint"].parent, where)
                out = where / "checkpoint.pt"
            else:
                where.mkdir(parents=True)
                out = where / ("demos.npz" if kind == "demo" else "policy.pt")
            case.make(valid[case.base], out)
            files[kind, case.name] = out
    assert not UNPICKLED, "making the files unpickled a trap"
    return files


def _snapshot(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(directory.rglob("*"))}


def _refused(capsys, argv: list[str], watched: Path, out: Path | None, expect: str) -> str:
    """Run the CLI: exit 2, one line naming ``expect``, no warning, nothing written."""
    before = _snapshot(watched)
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(argv)
    stdout, stderr = capsys.readouterr()
    lines = stderr.splitlines()
    assert code == 2, f"exit {code}; stderr: {stderr}"
    assert len(lines) == 1 and lines[0].startswith("imitlab: error: "), stderr
    assert expect.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in stderr and stdout == ""
    assert not [str(w.message) for w in caught]
    assert _snapshot(watched) == before
    assert out is None or not out.exists()
    assert not UNPICKLED, "a file was unpickled"
    return lines[0]


# --------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("command", sorted(DEMO_COMMANDS))
@pytest.mark.parametrize("case", DEMO_CASES, ids=lambda c: c.name)
def test_hostile_demo_file(case, command, hostile, capsys, tmp_path):
    path = hostile["demo", case.name]
    out = tmp_path / "out"
    argv = DEMO_COMMANDS[command](str(path), case.env, str(out))
    if case.name == "another_env" and command == "demos_info":
        # The file itself is valid, and demos info takes no --env: it says which env it is for.
        assert main(argv) == 0
        assert "Pendulum-v1" in capsys.readouterr().out
        return
    _refused(capsys, argv, path.parent, out, case.expect)


@pytest.mark.parametrize("command", sorted(POLICY_COMMANDS))
@pytest.mark.parametrize("case", POLICY_CASES, ids=lambda c: c.name)
def test_hostile_policy_file(case, command, hostile, valid, capsys, tmp_path):
    path = hostile["policy", case.name]
    out = tmp_path / "out"
    demos = valid["pendulum_demos" if case.env == "Pendulum-v1" else "cartpole_demos"]
    argv = POLICY_COMMANDS[command](str(path), case.env, str(out), str(demos))
    _refused(capsys, argv, path.parent, out.with_suffix(".npz") if command == "demos_collect" else out, case.expect)


@pytest.mark.parametrize("command", sorted(CHECKPOINT_COMMANDS))
@pytest.mark.parametrize("case", CHECKPOINT_CASES, ids=lambda c: c.name)
def test_hostile_checkpoint(case, command, hostile, valid, capsys):
    run = hostile["checkpoint", case.name].parent
    argv = CHECKPOINT_COMMANDS[command](str(run), str(valid["cartpole_demos"]))
    # An intact checkpoint of another run is refused for its settings, which differ in more than the env here.
    expect = "different settings (" if case.name == "another_env" and command != "expert_train" else case.expect
    _refused(capsys, argv, run, None, expect)


def test_the_valid_files_work(valid, capsys, tmp_path):
    """The hostile files fail for what was done to them, not for the command lines: the files
    they were made from pass the same commands (the cheap ones)."""
    demos, policy = str(valid["cartpole_demos"]), str(valid["cartpole_policy"])
    assert main(DEMO_COMMANDS["demos_info"](demos, "CartPole-v1", "")) == 0
    assert main(DEMO_COMMANDS["train_bc"](demos, "CartPole-v1", str(tmp_path / "bc"))) == 0
    assert main(DEMO_COMMANDS["train_gail_offline"](demos, "CartPole-v1", str(tmp_path / "go"))) == 0
    for env, key in (("CartPole-v1", "cartpole_policy"), ("Pendulum-v1", "pendulum_policy")):
        assert main(POLICY_COMMANDS["eval"](str(valid[key]), env, "", "")) == 0
    assert main(POLICY_COMMANDS["demos_collect"](policy, "CartPole-v1", str(tmp_path / "d"), "")) == 0
    run = tmp_path / "run"
    shutil.copytree(valid["checkpoint"].parent, run)
    assert main([*RESUME, "--out", str(run), "--resume"]) == 0
    capsys.readouterr()


def test_installed_command_prints_one_line(hostile):
    """The same contract through the real entry point (warnings and all), one file of each kind."""
    exe = shutil.which("imitlab")
    assert exe, "the imitlab console script is not installed"
    runs = [
        ["demos", "info", str(hostile["demo", "discrete_acts_fraction"])],
        ["eval", "--env", "CartPole-v1", "--policy", str(hostile["policy", "pickled_object"]), "--episodes", "1"],
        [*RESUME, "--out", str(hostile["checkpoint", "weight_nan"].parent), "--resume"],
    ]
    for argv in runs:
        proc = subprocess.run([exe, *argv], capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("imitlab: error: "), proc.stderr

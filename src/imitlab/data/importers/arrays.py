"""Demonstrations from plain arrays and back: the conversion every importer ends in.

Two layouts of observations are accepted:

- imitlab's own: every episode's observations first to last, its final observation included
  (``sum(T_i + 1)`` rows, as :class:`~imitlab.data.demos.Trajectory` holds them);
- one row per step (``sum(T_i)`` rows, as D4RL, Stable-Baselines3 and most loggers write), with
  ``next_obs`` giving each step's next observation (an episode's final observation is its last
  step's ``next_obs``). Without ``next_obs`` an episode's final observation is unknown: pass
  ``drop_last_step=True`` to drop each episode's last step (the episodes then end cut, neither
  terminated nor truncated).

Episode boundaries are given by exactly one of ``episode_lengths`` [E], ``episode_starts`` [N]
(true on each episode's first step) or ``dones`` [N] (true on each episode's last step; a last
episode whose last step is not done was cut mid-way). How each episode ended is given by
``terminated`` and ``truncated``, per episode [E] or per step [N] (true only on an episode's last
step); when they are not given it is inferred from the env's time limit (:func:`infer_episode_ends`)
and the provenance says so.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from imitlab.data.demos import DEMOS_FORMAT, DEMOS_VERSION, Demonstrations
from imitlab.envs.spaces import describe_layout, describe_space, flatten_observations, is_structured, layout_summary
from imitlab.errors import UserError

# What a user does about arrays that do not fit: the default end of an error line.
FIX = "check the arrays (or the keys that name them) and --env"


class _Bad(Exception):
    """Why the arrays are unusable; :func:`demos_from_arrays` names the input and adds the fix
    (``fix`` replaces it where the problem has its own)."""

    def __init__(self, why: str, fix: str | None = None) -> None:
        super().__init__(why)
        self.fix = fix


def provenance(source: str, fmt: str, *, details: dict[str, Any] | None = None, inferred: list[str] | None = None,
               notes: list[str] | None = None) -> dict[str, Any]:
    """A ``metadata["provenance"]`` record: where demos came from (``source``), in what format,
    when they were made (``created``: imported or recorded, UTC) and by which imitlab, the format's
    own details (dataset id, keys used, ...), what was inferred rather than read (``inferred``) and
    anything else changed on the way (``notes``), one sentence each."""
    import imitlab

    record: dict[str, Any] = {
        "source": source,
        "format": fmt,
        "created": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "imitlab_version": imitlab.__version__,
    }
    if details:
        record["details"] = details
    record["inferred"] = list(inferred or [])
    if notes:
        record["notes"] = list(notes)
    return record


def max_episode_steps(env_id: str) -> int | None:
    """The time limit imitlab runs ``env_id`` with (:func:`imitlab.envs.vector.time_limit`; None
    when it has none or is unknown)."""
    from imitlab.envs.vector import time_limit

    try:
        return time_limit(env_id)
    except UserError:
        return None


def infer_episode_ends(lengths: np.ndarray, complete: np.ndarray, *, time_limit: int | None,
                       env_id: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``(terminated, truncated, sentence)`` for episodes whose end is known only to be complete
    (``complete[i]``: the episode ran to its end, by termination or by time limit) or not (cut
    mid-way: neither flag).

    A complete episode as long as the env's time limit is taken as truncated (the limit cut it;
    had the env terminated on that very step, gymnasium would say both, and bootstrapping from
    the final state is then the safe reading); a shorter one as terminated. Without a time limit
    every complete episode is taken as terminated. ``sentence`` says what was inferred, for the
    provenance.
    """
    lengths, complete = np.asarray(lengths), np.asarray(complete, dtype=bool)
    if time_limit is None:
        truncated = np.zeros(len(lengths), bool)
        rule = f"{env_id} has no time limit, so every complete episode was taken as terminated"
    else:
        truncated = complete & (lengths >= time_limit)
        rule = (f"complete episodes of {time_limit} steps ({env_id}'s time limit) were taken as truncated, "
                "shorter ones as terminated")
    terminated = complete & ~truncated
    cut = int((~complete).sum())
    sentence = (f"how episodes ended: {rule}: {int(terminated.sum())} terminated, {int(truncated.sum())} truncated"
                + (f", {cut} cut mid-way" if cut else ""))
    return terminated, truncated, sentence


def _as_bool_steps(x: Any, name: str, n: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.shape != (n,):
        raise _Bad(f"{name} has shape {arr.shape}, expected one flag per step ({n},)")
    if arr.dtype.kind not in "biuf" or (arr.dtype.kind != "b" and not np.isin(arr, (0, 1)).all()):
        raise _Bad(f"{name} must hold true/false flags (or 0/1), got dtype {arr.dtype}")
    return arr.astype(bool)


def _boundaries(n: int, episode_lengths: Any, episode_starts: Any, dones: Any) -> tuple[np.ndarray, bool, str]:
    """``(lengths, last_complete, how)`` from exactly one of the three ways of giving episodes."""
    given = [name for name, v in (("episode_lengths", episode_lengths), ("episode_starts", episode_starts),
                                  ("dones", dones)) if v is not None]
    if len(given) != 1:
        raise _Bad(f"give exactly one of episode_lengths, episode_starts or dones to say where episodes end, "
                        f"got {given or 'none'}")
    if n == 0:
        raise _Bad("the arrays hold no steps (no actions)")
    if episode_lengths is not None:
        lengths = np.asarray(episode_lengths)
        if lengths.ndim != 1 or len(lengths) == 0 or lengths.dtype.kind not in "iuf":
            raise _Bad(f"episode_lengths must list one whole number per episode, got shape {lengths.shape} "
                            f"and dtype {lengths.dtype}")
        if lengths.dtype.kind == "f" and (~np.isfinite(lengths) | (lengths != np.floor(lengths))).any():
            raise _Bad("episode_lengths must be whole numbers, found a fraction, nan or inf")
        if (lengths < 1).any() or lengths.astype(np.float64).sum() != n:
            raise _Bad(f"episode_lengths must be positive and add up to the {n} steps (actions), got "
                            f"{len(lengths)} lengths adding up to {lengths.astype(np.float64).sum():g}")
        return lengths.astype(np.int64), True, "episode_lengths"
    if episode_starts is not None:
        starts = _as_bool_steps(episode_starts, "episode_starts", n)
        if not starts[0]:
            raise _Bad("episode_starts[0] must be true (the first step starts an episode)")
        first = np.flatnonzero(starts)
        return np.diff(np.append(first, n)).astype(np.int64), True, "episode_starts"
    ends = _as_bool_steps(dones, "dones", n)
    last = np.flatnonzero(ends)
    bounds = np.append(last + 1, n) if not ends[-1] else last + 1
    return np.diff(np.concatenate([[0], bounds])).astype(np.int64), bool(ends[-1]), "dones"


def _episode_flags(x: Any, name: str, lengths: np.ndarray) -> np.ndarray | None:
    """Per-episode flags from per-episode [E] or per-step [N] ones (true only on a last step)."""
    if x is None:
        return None
    arr = np.asarray(x)
    e, n = len(lengths), int(lengths.sum())
    if arr.ndim == 1 and len(arr) == e:
        return _as_bool_steps(arr, name, e)
    if arr.ndim == 1 and len(arr) == n:
        flags = _as_bool_steps(arr, name, n)
        last = np.cumsum(lengths) - 1
        inside = np.flatnonzero(flags & ~np.isin(np.arange(n), last))
        if len(inside):
            t = int(inside[0])
            raise _Bad(f"{name} is true at step {t}, which is not the last step of its episode: the episode "
                            f"boundaries do not match the flags")
        return flags[last]
    raise _Bad(f"{name} has shape {arr.shape}: give one flag per episode ({e},) or per step ({n},)")


def _observations(obs: Any, layout: dict[str, Any] | None, name: str) -> np.ndarray:
    if isinstance(obs, Mapping | tuple):
        if layout is None:
            raise _Bad(f"{name} are a {type(obs).__name__} of arrays, but the env observes a Box; give one array")
        try:
            return flatten_observations(layout, obs)
        except UserError as e:
            raise _Bad(f"{name} do not fit the env's observations {layout_summary(layout)}: {e}") from None
    arr = np.asarray(obs)
    if arr.dtype.hasobject:
        raise _Bad(f"{name} must be a numeric array (one row per observation), not ragged lists or objects")
    return arr


def _spaces(env_id: str, obs_space: Any, act_space: Any, obs_layout: dict[str, Any] | None):
    """``(obs_space desc (flat Box), act_space desc, layout or None)``: given spaces win, the env
    fills in the rest."""
    if obs_space is None or act_space is None:
        from imitlab.envs.dict_obs import env_spaces_with_layout
        from imitlab.envs.vector import check_env_id

        check_env_id(env_id)
        env_obs, env_act, env_layout = env_spaces_with_layout(env_id)
        if obs_space is None:
            obs_space, obs_layout = env_obs, obs_layout if obs_layout is not None else env_layout
        if act_space is None:
            act_space = env_act
    if isinstance(obs_space, gym.Space):
        if is_structured(obs_space):
            obs_layout = describe_layout(obs_space)
            obs_space = gym.spaces.flatten_space(obs_space)
        obs_space = describe_space(obs_space)
    if isinstance(act_space, gym.Space):
        act_space = describe_space(act_space)
    return dict(obs_space), dict(act_space), obs_layout


def demos_from_arrays(
    obs: Any,
    acts: Any,
    *,
    env_id: str,
    episode_lengths: Any = None,
    episode_starts: Any = None,
    dones: Any = None,
    terminated: Any = None,
    truncated: Any = None,
    rews: Any = None,
    next_obs: Any = None,
    obs_space: gym.Space | dict[str, Any] | None = None,
    act_space: gym.Space | dict[str, Any] | None = None,
    obs_layout: dict[str, Any] | None = None,
    drop_last_step: bool = False,
    time_limit: int | None = None,
    metadata: dict[str, Any] | None = None,
    source: str | None = None,
    source_format: str = "arrays",
    details: dict[str, Any] | None = None,
    what: str = "the arrays",
    fix: str = FIX,
) -> Demonstrations:
    """Demonstrations from plain arrays (see the module docstring for the layouts), checked as a
    demo file is (shapes, dtypes, nan/inf, actions in the action space, lengths that add up).

    Args:
        obs: observations, imitlab's layout or one per step (see ``next_obs``); a dict (or tuple)
            of arrays for an env with Dict (Tuple) observations, flattened with its layout.
        acts: one action per step [N, ...].
        env_id: the gymnasium id the demos are for.
        episode_lengths, episode_starts, dones: exactly one, where episodes end.
        terminated, truncated: how each episode ended, per episode or per step; inferred from the
            env's time limit when both are left out (an incomplete last episode, from ``dones``,
            neither), and the complement of the other when one is given.
        rews: one reward per step (optional).
        next_obs: one next observation per step, with per-step ``obs``.
        obs_space, act_space: the spaces (gymnasium spaces or imitlab descriptions); taken from
            ``env_id`` when not given. A Dict/Tuple ``obs_space`` is flattened, its layout kept.
        obs_layout: the Dict/Tuple layout the flat observations follow, when ``obs_space`` is flat.
        drop_last_step: with per-step ``obs`` and no ``next_obs``, drop each episode's last step.
        time_limit: the time limit for inferring truncations (default: the env's registered one).
        metadata: extra metadata to keep; ``source``/``source_format``/``details``: the
            provenance record (``metadata["provenance"]``).
        what, fix: how an error names the input and what it tells the user to do.

    Raises:
        UserError: anything that does not fit, in one line naming the problem and ``fix``.
    """
    try:
        return _build(
            obs, acts, env_id=env_id, episode_lengths=episode_lengths, episode_starts=episode_starts, dones=dones,
            terminated=terminated, truncated=truncated, rews=rews, next_obs=next_obs, obs_space=obs_space,
            act_space=act_space, obs_layout=obs_layout, drop_last_step=drop_last_step, time_limit=time_limit,
            metadata=metadata, source=source, source_format=source_format, details=details, what=what, fix=fix,
        )
    except _Bad as e:
        raise UserError(f"{what}: {e}; {e.fix or fix}") from None


def _build(obs: Any, acts: Any, *, env_id: str, episode_lengths: Any, episode_starts: Any, dones: Any, terminated: Any,
           truncated: Any, rews: Any, next_obs: Any, obs_space: Any, act_space: Any, obs_layout: dict[str, Any] | None,
           drop_last_step: bool, time_limit: int | None, metadata: dict[str, Any] | None, source: str | None,
           source_format: str, details: dict[str, Any] | None, what: str, fix: str) -> Demonstrations:
    obs_desc, act_desc, layout = _spaces(env_id, obs_space, act_space, obs_layout)
    acts = np.asarray(acts)
    if acts.dtype.hasobject:
        raise _Bad("actions must be a numeric array, not ragged lists or objects")
    if acts.ndim == 0:
        raise _Bad("actions are a single value, not one row per step")
    n = len(acts)
    lengths, last_complete, how = _boundaries(n, episode_lengths, episode_starts, dones)
    e = len(lengths)
    obs_arr = _observations(obs, layout, "observations")
    notes: list[str] = []
    inferred: list[str] = []
    term = _episode_flags(terminated, "terminated", lengths)
    trunc = _episode_flags(truncated, "truncated", lengths)
    complete = np.ones(e, bool)
    complete[-1] = last_complete
    if term is not None and not last_complete and (term[-1] or (trunc is not None and trunc[-1])):
        raise _Bad("the last episode has no done flag on its last step, yet is marked as ended")
    if rews is not None:
        rews = np.asarray(rews)
        if rews.ndim != 1 or len(rews) != n:
            raise _Bad(f"rewards have shape {rews.shape}, expected one per action ({n},)")
        if rews.dtype.kind not in "biuf":
            raise _Bad(f"rewards must be numbers, got dtype {rews.dtype}")
        rews = rews.astype(np.float32)  # the file format's dtype: import then save reads back the same
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    if obs_arr.ndim >= 1 and len(obs_arr) == n + e:
        if next_obs is not None:
            raise _Bad(f"observations hold each episode's final one ({n + e} for {n} steps), so next observations "
                       "are not needed: leave them out")
        full_obs = obs_arr
    elif obs_arr.ndim >= 1 and len(obs_arr) == n:
        if next_obs is not None:
            nxt = _observations(next_obs, layout, "next observations")
            if nxt.shape != obs_arr.shape:
                raise _Bad(f"next observations have shape {nxt.shape}, observations {obs_arr.shape}; "
                                f"they must match")
            inner = np.ones(n, bool)
            inner[np.cumsum(lengths) - 1] = False  # last steps: their next obs is the final one
            idx = np.flatnonzero(inner)
            same = np.all(nxt[idx].reshape(len(idx), -1) == obs_arr[idx + 1].reshape(len(idx), -1), axis=1)
            if not same.all():
                t = int(idx[~same][0])
                ep = int(np.searchsorted(np.cumsum(lengths), t, side="right"))
                raise _Bad(f"the next observation of step {t} differs from the observation of step {t + 1}, "
                                f"inside episode {ep}: the episode boundaries ({how}) do not match the data")
            pieces = []
            for s, length in zip(starts.tolist(), lengths.tolist()):
                pieces += [obs_arr[s : s + length], nxt[s + length - 1 : s + length]]
            full_obs = np.concatenate(pieces)
        elif drop_last_step:
            keep_steps = np.ones(n, bool)
            keep_steps[np.cumsum(lengths) - 1] = False
            full_obs = obs_arr  # episode i's T_i observations are now its T_i - 1 steps plus a final one
            acts = acts[keep_steps]
            rews = None if rews is None else rews[keep_steps]
            short = lengths - 1
            dropped = int((short == 0).sum())
            if dropped:  # one-step episodes keep no step at all
                keep_obs = np.repeat(short > 0, lengths)
                full_obs, short = obs_arr[keep_obs], short[short > 0]
                if len(short) == 0:
                    raise _Bad("every episode is one step long, so dropping last steps leaves nothing")
            whole = f", which removed {dropped} one-step episodes" if dropped else ""
            notes.append(f"the source has no final observations: each episode's last step was dropped ({e} steps{whole}), "
                         "and the episodes end cut (neither terminated nor truncated)")
            lengths = short
            e = len(lengths)
            term, trunc, complete = np.zeros(e, bool), np.zeros(e, bool), np.zeros(e, bool)
        else:
            raise _Bad(f"observations are one per step ({n}), so each episode's final observation is "
                            f"missing: give the next observations (next_obs, --next-obs-key) or drop each episode's "
                            f"last step (drop_last_step=True, --drop-last-step)")
    else:
        raise _Bad(f"{len(obs_arr) if obs_arr.ndim else 'a single'} observations do not fit {n} actions in "
                        f"{e} episodes: give {n + e} (each episode's final observation included) or {n} (one per step, "
                        f"with next observations)")
    if term is None and trunc is None:
        term, trunc, sentence = infer_episode_ends(
            lengths, complete, time_limit=time_limit if time_limit is not None else max_episode_steps(env_id), env_id=env_id)
        inferred.append(sentence)
    elif term is None:
        assert trunc is not None
        term = complete & ~trunc
        inferred.append("terminated: every complete episode not marked truncated")
    elif trunc is None:
        trunc = complete & ~term
        inferred.append("truncated: every complete episode not marked terminated")
    meta_metadata = dict(metadata or {})
    if source is not None:
        meta_metadata["provenance"] = provenance(source, source_format, details=details, inferred=inferred, notes=notes)
    meta = {"format": DEMOS_FORMAT, "version": DEMOS_VERSION, "env_id": env_id, "obs_space": obs_desc,
            "act_space": act_desc, "metadata": meta_metadata}
    if layout is not None:
        meta["obs_layout"] = layout
    try:
        meta_json = json.dumps(meta)
    except (TypeError, ValueError) as e:
        raise _Bad(f"metadata must be plain JSON values ({e})") from None
    arrays = {"meta": np.array(meta_json), "obs": full_obs, "acts": acts, "lengths": lengths,
              "terminated": np.asarray(term, bool), "truncated": np.asarray(trunc, bool)}
    if rews is not None:
        arrays["rews"] = rews
    return Demonstrations._from_arrays(arrays, what, what=what, fix=fix)


def demos_to_arrays(demos: Demonstrations, *, per_step: bool = False) -> dict[str, np.ndarray]:
    """See :meth:`imitlab.data.demos.Demonstrations.to_arrays`."""
    trajs = demos.trajectories
    rews = None if demos.returns() is None else np.concatenate([t.rews for t in trajs]).astype(np.float32)  # type: ignore[misc]
    term = np.array([t.terminated for t in trajs], bool)
    trunc = np.array([t.truncated for t in trajs], bool)
    if not per_step:
        out = {"obs": np.concatenate([t.obs for t in trajs]), "acts": np.concatenate([t.acts for t in trajs]),
               "episode_lengths": demos.lengths(), "terminated": term, "truncated": trunc}
    else:
        lengths = demos.lengths()
        last = np.zeros(int(lengths.sum()), bool)
        last[np.cumsum(lengths) - 1] = True
        starts = np.zeros_like(last)
        starts[np.concatenate([[0], np.cumsum(lengths)[:-1]])] = True
        out = {"obs": np.concatenate([t.obs[:-1] for t in trajs]), "next_obs": np.concatenate([t.obs[1:] for t in trajs]),
               "acts": np.concatenate([t.acts for t in trajs]), "episode_starts": starts,
               "terminated": last & np.repeat(term, lengths), "truncated": last & np.repeat(trunc, lengths)}
    if rews is not None:
        out["rews"] = rews
    return out

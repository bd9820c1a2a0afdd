"""Checks shared by the algorithms' entry points, done before anything is written."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from imitlab.data.demos import (
    Demonstrations,
    Transitions,
    action_problem,
    observation_problem,
)
from imitlab.envs.spaces import describe_space
from imitlab.envs.vector import active_env_kwargs, env_spaces
from imitlab.errors import UserError


def expert_transitions(env_id: str, demos: Demonstrations | Transitions):
    """Validate ``demos`` against ``env_id``; return (transitions, obs_space, act_space)."""
    obs_space, act_space = env_spaces(env_id)
    if isinstance(demos, Demonstrations):
        demos.check_env(env_id, describe_space(obs_space), describe_space(act_space))
        recorded, now = demos.metadata.get("env_kwargs") or {}, active_env_kwargs(env_id)
        if recorded != now:
            warnings.warn(f"the demonstrations were recorded in {env_id} with env kwargs {recorded or 'none'}; "
                          f"training here uses {now or 'none'} (changed dynamics)", stacklevel=2)
        demos = demos.to_transitions()
    elif not isinstance(demos, Transitions):
        raise UserError(f"demos must be Demonstrations or Transitions, got {type(demos).__name__}")
    if len(demos) == 0:
        raise UserError("the demonstrations hold no transitions")
    if demos.obs.shape[1:] != obs_space.shape:
        raise UserError(f"demo observations have shape {demos.obs.shape[1:]}, {env_id} has {obs_space.shape}")
    return _checked_values(demos, env_id, obs_space, act_space), obs_space, act_space


def _checked_values(trans: Transitions, env_id: str, obs_space, act_space) -> Transitions:
    """``trans`` with its values checked against ``env_id``'s spaces (demos built in memory skip
    the checks a demo file gets) and its discrete actions as int64: a fractional action would be
    silently truncated by the losses, and a nan one would crash them."""
    obs_desc, act_desc = describe_space(obs_space), describe_space(act_space)
    for name, values in (("obs", trans.obs), ("next_obs", trans.next_obs)):
        problem = observation_problem(np.asarray(values), obs_desc)
        if problem:
            raise UserError(f"the demonstrations' {name} do not fit {env_id}: {problem}; record them again in {env_id}")
    acts = np.asarray(trans.acts)
    problem = action_problem(acts, act_desc)
    if problem:
        raise UserError(f"the demonstrations' actions do not fit {env_id}: {problem}; record them again in {env_id}")
    if act_desc["type"] == "Discrete" and acts.dtype != np.int64:
        trans = replace(trans, acts=acts.astype(np.int64))
    return trans




def obs_stats(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of observations, std floored so constant features do not blow up."""
    flat = obs.reshape(len(obs), -1).astype(np.float64)
    return flat.mean(0), np.maximum(flat.std(0), 1e-3)


def check_init_policy(policy, env_id: str, obs_space, act_space) -> None:
    """A warm-start policy must act in ``env_id``'s spaces."""
    from imitlab.envs.spaces import same_space, space_summary

    have_obs, have_act = describe_space(policy.observation_space), describe_space(policy.action_space)
    want_obs, want_act = describe_space(obs_space), describe_space(act_space)
    if not (same_space(have_obs, want_obs) and same_space(have_act, want_act)):
        raise UserError(
            f"the initial policy acts on {space_summary(have_obs)} -> {space_summary(have_act)}, "
            f"but {env_id} has {space_summary(want_obs)} -> {space_summary(want_act)}; "
            f"start from a run trained on {env_id}"
        )

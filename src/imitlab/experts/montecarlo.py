"""Q* by Monte-Carlo roll-outs of the expert, for experts without a critic.

From a restored env state, take the action to be valued, then let the expert act for the rest of
``horizon`` steps; the discounted sum of rewards estimates Q*(s, a) (exactly, for a deterministic
expert and env, up to the truncated tail ``gamma ** horizon``). All roll-outs run at once in one
numpy-batched env (imitlab's classic control: CartPole, Acrobot, Pendulum, MountainCar), whose
``state`` array can be set directly; gymnasium's own vector envs cannot be restored this way.
"""

from __future__ import annotations

from typing import TypeGuard

import numpy as np

from imitlab.envs.vector import RestorableVecEnv, VecEnv, make_vec_env
from imitlab.errors import UserError
from imitlab.experts import Expert, as_expert


def restorable(venv: VecEnv) -> TypeGuard[RestorableVecEnv]:
    """True if ``venv`` exposes its internal state as a settable array (a numpy-batched env)."""
    return isinstance(getattr(venv, "state", None), np.ndarray) and hasattr(venv, "steps")


def no_q_error(env_id: str) -> UserError:
    return UserError(
        f"AggreVaTeD needs Q*: the expert has no critic and {env_id}'s state cannot be restored for "
        "Monte-Carlo roll-outs (only imitlab's batched classic-control envs can); use an expert with a "
        "critic (zoo:dqn, zoo:sac, a DQN/SAC policy file, sb3:PATH of a DQN/SAC/TD3 zip)"
    )


def require_q(env_id: str, expert: Expert) -> None:
    """Refuse, before anything is written, an expert with no Q* on an env that cannot be restored
    for Monte-Carlo roll-outs (what AggreVaTeD needs)."""
    from imitlab.envs import env_spaces, is_discrete
    from imitlab.experts import has_q, has_q_values

    discrete = is_discrete(env_spaces(env_id)[1])
    if has_q_values(expert) if discrete else has_q(expert):
        return
    venv = make_vec_env(env_id, 1)
    ok = restorable(venv)
    venv.close()
    if not ok:
        raise no_q_error(env_id)


def monte_carlo_q(
    env_id: str,
    states: np.ndarray,
    first_actions: np.ndarray,
    expert: Expert,
    *,
    gamma: float,
    horizon: int,
    seed: int = 0,
) -> tuple[np.ndarray, int]:
    """Estimate Q*(s_i, a_i) for each restored state ``states[i]`` and action ``first_actions[i]``.

    Returns the estimates [B] and the env steps the roll-outs took. A termination ends a roll-out
    (value 0 after it); the env's own time limit is not applied (truncation is not part of the task).
    """
    expert = as_expert(expert)
    n = len(states)
    venv = make_vec_env(env_id, n)
    if not restorable(venv):
        venv.close()
        raise no_q_error(env_id)
    venv.reset(seed=seed)
    venv.state = np.array(states, dtype=venv.state.dtype, copy=True)
    venv.steps[:] = 0
    venv.max_episode_steps = horizon + 1  # roll-outs are cut by ``horizon``, not the env's limit
    q = np.zeros(n)
    alive = np.ones(n, bool)
    _, rew, term, _, obs = venv.step(first_actions)
    q += rew
    alive &= ~term
    steps = n
    discount = 1.0
    for _ in range(horizon - 1):
        if not alive.any():
            break
        discount *= gamma
        _, rew, term, _, obs = venv.step(np.asarray(expert.act(obs)))
        q += discount * rew * alive
        steps += int(alive.sum())
        alive &= ~term
    venv.close()
    return q, steps

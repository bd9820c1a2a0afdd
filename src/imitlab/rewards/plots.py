"""Pictures of a learned reward (``imitlab reward show``).

- Tabular envs: the learned reward table as a heatmap on the env's grid, beside the true reward.
- Low-dimensional states: a heatmap of the learned reward over two state dimensions (Pendulum-v1:
  angle x angular velocity; MountainCar-v0: position x velocity; any env: two dimensions the user
  names, the others held at the expert's mean), the expert's trajectories drawn on it.
- Any env: learned against true reward on expert and random transitions, with Pearson's and
  Spearman's correlation (:func:`imitlab.rewards.analysis.reward_correlation`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from imitlab.errors import UserError
from imitlab.rewards import LoadedReward, reward_values
from imitlab.utils import atomic_write


@dataclass(frozen=True)
class StateGrid:
    """Two coordinates of a state to draw a reward over, and how they map to observations."""

    names: tuple[str, str]
    ranges: tuple[tuple[float, float], tuple[float, float]]
    to_obs: Callable[[np.ndarray, np.ndarray], np.ndarray]
    """(x [N], y [N]) -> observations [N, d]."""
    from_obs: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    """observations [N, d] -> (x [N], y [N]), to draw trajectories."""


def _pendulum_grid() -> StateGrid:
    return StateGrid(
        names=("angle (rad, 0 = upright)", "angular velocity (rad/s)"), ranges=((-np.pi, np.pi), (-8.0, 8.0)),
        to_obs=lambda th, thdot: np.stack([np.cos(th), np.sin(th), thdot], -1).astype(np.float32),
        from_obs=lambda obs: (np.arctan2(obs[:, 1], obs[:, 0]), obs[:, 2]),
    )


def _dims_grid(dims: tuple[int, int], names: tuple[str, str], ranges, base: np.ndarray) -> StateGrid:
    i, j = dims

    def to_obs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        obs = np.repeat(base[None].astype(np.float32), len(x), 0)
        obs[:, i], obs[:, j] = x, y
        return obs

    return StateGrid(names=names, ranges=ranges, to_obs=to_obs, from_obs=lambda obs: (obs[:, i], obs[:, j]))


def state_grid(env_id: str, obs_dim: int, expert_obs: np.ndarray | None, dims: tuple[int, int] | None) -> StateGrid | None:
    """The grid to draw ``env_id``'s reward over: the env's natural one (Pendulum-v1, MountainCar-v0)
    unless ``dims`` names two observation dimensions; None where there is no sensible one (more than
    two dimensions and no ``dims``)."""
    if dims is None and env_id == "Pendulum-v1":
        return _pendulum_grid()
    if dims is None and env_id == "MountainCar-v0":
        return _dims_grid((0, 1), ("position", "velocity"), ((-1.2, 0.6), (-0.07, 0.07)), np.zeros(2))
    if dims is None:
        if obs_dim != 2:
            return None
        dims = (0, 1)
    if len(set(dims)) != 2 or not all(0 <= d < obs_dim for d in dims):
        raise UserError(f"--dims {dims[0]},{dims[1]} must name two different observation dimensions in 0..{obs_dim - 1}")
    if expert_obs is None or not len(expert_obs):
        raise UserError("--dims needs expert states to set the ranges and the other dimensions: pass --demos")
    lo, hi = expert_obs.min(0), expert_obs.max(0)
    pad = 0.1 * np.maximum(hi - lo, 1e-6)
    ranges = tuple((float(lo[d] - pad[d]), float(hi[d] + pad[d])) for d in dims)
    return _dims_grid(dims, (f"observation[{dims[0]}]", f"observation[{dims[1]}]"), ranges, expert_obs.mean(0))


def _grid_rewards(reward: LoadedReward, grid: StateGrid, act_space: Any, n: int = 101) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """The learned reward over an n x n grid: r(s) where it is state-only, else its mean over actions
    (every discrete action; 9 evenly spaced values of a 1-D Box; the Box's midpoint otherwise)."""
    import gymnasium as gym

    xs = np.linspace(*grid.ranges[0], n)
    ys = np.linspace(*grid.ranges[1], n)
    x, y = np.meshgrid(xs, ys)
    obs = grid.to_obs(x.ravel(), y.ravel())
    if reward.state_only:
        acts_list = [np.zeros((len(obs), *act_space.shape), act_space.dtype)]
        what = "r(s)"
    elif isinstance(act_space, gym.spaces.Discrete):
        acts_list = [np.full(len(obs), a, np.int64) for a in range(int(act_space.n))]
        what = "mean over actions of r(s, a)"
    elif act_space.shape == (1,):
        acts_list = [np.full((len(obs), 1), v, np.float32) for v in np.linspace(act_space.low[0], act_space.high[0], 9)]
        what = "mean over actions of r(s, a)"
    else:
        mid = ((act_space.low + act_space.high) / 2).astype(np.float32)
        acts_list = [np.repeat(mid[None], len(obs), 0)]
        what = "r(s, a) at the middle action"
    r = np.mean([reward_values(reward.module, obs, a) for a in acts_list], 0)
    return xs, ys, r.reshape(n, n), what


def draw_reward(
    reward: LoadedReward,
    out: str | os.PathLike,
    *,
    expert_trajectories: list[np.ndarray] | None,
    correlation: dict[str, Any] | None,
    scatter: dict[str, tuple[np.ndarray, np.ndarray]] | None,
    dims: tuple[int, int] | None = None,
) -> list[str]:
    """Write the reward's picture to ``out`` (PNG, atomically); returns the panels drawn.

    Args:
        reward: the learned reward.
        expert_trajectories: each expert episode's observations [T, d], drawn on the heatmap.
        correlation: :func:`~imitlab.rewards.analysis.reward_correlation`'s result (the scatter's legend).
        scatter: ``{"expert": (learned, true), "random": (learned, true)}`` rewards per transition.
        dims: two observation dimensions to draw the heatmap over (default: the env's natural pair).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from imitlab.envs.vector import env_spaces

    env_id = reward.env_id
    obs_space, act_space = env_spaces(env_id)
    panels: list[Callable[[Any], None]] = []
    names: list[str] = []
    if reward.meta["kind"] == "tabular":
        panels += _tabular_panels(reward, env_id)
        names += ["learned", "true"]
    else:
        expert_obs = np.concatenate(expert_trajectories) if expert_trajectories else None
        grid = state_grid(env_id, int(np.prod(obs_space.shape or ())), expert_obs, dims)
        if grid is not None:
            xs, ys, z, what = _grid_rewards(reward, grid, act_space)

            def heatmap(ax: Any) -> None:
                im = ax.pcolormesh(xs, ys, z, shading="auto", cmap="viridis")
                plt.colorbar(im, ax=ax, label="learned reward")
                for traj in (expert_trajectories or [])[:10]:
                    tx, ty = grid.from_obs(traj)
                    if env_id == "Pendulum-v1":  # the angle wraps: break the line where it jumps
                        tx = np.where(np.abs(np.diff(tx, prepend=tx[0])) > np.pi, np.nan, tx)
                    ax.plot(tx, ty, color="white", lw=0.8, alpha=0.8)
                ax.set_xlabel(grid.names[0])
                ax.set_ylabel(grid.names[1])
                ax.set_title(f"learned {what}" + (", expert trajectories in white" if expert_trajectories else ""))

            panels.append(heatmap)
            names.append("heatmap")
    if scatter:
        panels.append(lambda ax: _scatter(ax, scatter, correlation))
        names.append("scatter")
    if not panels:
        raise UserError(f"nothing to draw for {env_id}: pass --dims I,J and --demos for a heatmap")
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.3), squeeze=False)
    for panel, ax in zip(panels, axes[0]):
        panel(ax)
    algo = reward.meta.get("extra", {}).get("algo", "?")
    fig.suptitle(f"{env_id}: reward learned by {algo}" + (" (state-only)" if reward.state_only else ""))
    fig.tight_layout()
    atomic_write(out, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return names


def _scatter(ax: Any, scatter: dict[str, tuple[np.ndarray, np.ndarray]], correlation: dict[str, Any] | None) -> None:
    for name, color in (("random", "tab:gray"), ("expert", "tab:orange")):
        if name not in scatter:
            continue
        learned, true = scatter[name]
        entry = (correlation or {}).get(name) or {}
        if entry.get("pearson") is None:
            label = f"{name} states (correlation undefined)"
        else:
            label = f"{name} states: Pearson {entry['pearson']:.2f}, Spearman {entry['spearman']:.2f}"
        ax.scatter(true, learned, s=4, alpha=0.4, color=color, label=label)
    ax.set_xlabel("true reward (env)")
    ax.set_ylabel("learned reward")
    ax.set_title("learned vs true, per transition")
    ax.legend(fontsize=8, loc="best")


def _tabular_panels(reward: LoadedReward, env_id: str) -> list[Callable[[Any], None]]:
    import matplotlib.pyplot as plt

    from imitlab.envs.tabular import tabular_mdp

    mdp = tabular_mdp(env_id)
    module: Any = reward.module
    learned = module.table()
    true = mdp.true_table(module.form)
    if learned.ndim == 2:  # r[s, a]: show the best action's reward per state
        learned = learned.max(1)
        true = None if true is None else true.max(1)
    learned = np.where(mdp.reachable, learned, np.nan)  # walls and cells never entered have no reward to show
    shape = mdp.grid_shape or (1, mdp.n_states)

    def panel(values: np.ndarray | None, title: str) -> Callable[[Any], None]:
        def draw(ax: Any) -> None:
            if values is None:
                ax.text(0.5, 0.5, "the true reward has no such form", ha="center", va="center")
                ax.set_axis_off()
                return
            im = ax.imshow(np.asarray(values, np.float64).reshape(shape), cmap="viridis")
            plt.colorbar(im, ax=ax)
            if mdp.kinds is not None:
                for s, kind in enumerate(mdp.kinds.tolist()):
                    r, c = divmod(s, shape[1])
                    ax.text(c, r, kind, ha="center", va="center", color="white", fontsize=8)
            ax.set_title(title)
            ax.set_xticks([])
            ax.set_yticks([])

        return draw

    return [panel(learned, f"learned reward ({module.form})"), panel(true, "true reward")]

"""The bench's demonstration sets, made on demand from the shipped experts and cached.

One file per env, ``DIR/demos/ENV.npz``, holding as many episodes as the largest demo count asked
for; a cell with ``n`` demos trains on its first ``n`` episodes, so the smaller sets are nested in
the larger ones. Episode ``i`` is recorded alone with seed ``demo_seed + i``, so the first ``n``
episodes are the same whatever the file's size: growing ``--demos`` later extends the file without
changing the episodes earlier runs learned from.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imitlab.data.collect import collect_demos
from imitlab.data.demos import Demonstrations, load_demos
from imitlab.envs.spaces import describe_space
from imitlab.envs.vector import env_spaces
from imitlab.errors import UserError
from imitlab.experts import load_expert

DEMOS_DIR = "demos"


def demo_path(out_dir: str | os.PathLike, env_id: str) -> Path:
    return Path(out_dir) / DEMOS_DIR / f"{env_id}.npz"


def ensure_demos(out_dir: str | os.PathLike, env_id: str, n_episodes: int, *, demo_seed: int) -> Path:
    """Make sure ``DIR/demos/ENV.npz`` holds at least ``n_episodes`` episodes of the shipped expert
    (recording only the missing ones); returns its path. The file's metadata records the expert,
    the seed rule and the expert's mean and std return over its episodes."""
    path = demo_path(out_dir, env_id)
    have = load_demos(path) if path.is_file() else None
    if have is not None:
        if have.metadata.get("demo_seed") != demo_seed or have.env_id != env_id:
            raise UserError(f"{path} was made for {have.env_id} with demo seed {have.metadata.get('demo_seed')}, "
                            f"not {env_id} with {demo_seed}; delete it or use another --out")
        if have.n_episodes >= n_episodes:
            return path
    expert = load_expert("zoo", env_id)
    trajectories = list(have.trajectories) if have is not None else []
    for i in range(len(trajectories), n_episodes):
        trajectories += collect_demos(expert, env_id, episodes=1, seed=demo_seed + i).trajectories
    obs_space, act_space = (describe_space(s) for s in env_spaces(env_id))
    demos = Demonstrations(trajectories, env_id, obs_space, act_space)
    returns = _expert_returns(demos, path)
    demos.metadata.update({
        "expert": "zoo",
        "demo_seed": demo_seed,
        "seeds": f"episode i recorded alone with seed {demo_seed} + i",
        "expert_mean_return": float(returns.mean()),
        "expert_std_return": float(returns.std()),
    })
    demos.save(path)
    return path


def demo_subset(out_dir: str | os.PathLike, env_id: str, n_episodes: int) -> Demonstrations:
    """The first ``n_episodes`` episodes of the cached set (its expert return recomputed on them)."""
    path = demo_path(out_dir, env_id)
    demos = load_demos(path).head(n_episodes)
    returns = _expert_returns(demos, path)
    demos.metadata.update(expert_mean_return=float(returns.mean()), expert_std_return=float(returns.std()))
    return demos


def _expert_returns(demos: Demonstrations, path: Path) -> np.ndarray:
    """Each episode's return; a UserError if the cached file ``path`` recorded no rewards (the
    bench's own files always do: this is a file put in its place)."""
    returns = demos.returns()
    if returns is None:
        raise UserError(f"{path} holds episodes without rewards, so the expert's return is unknown; "
                        "delete it (the bench records the shipped expert's again) or use another --out")
    return returns

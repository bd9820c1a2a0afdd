"""The bench grid: which algorithms exist, what each cell is, its budget, and the checks that
refuse bad input before any work starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from imitlab.algorithms.registry import ALGORITHMS, AlgorithmSpec
from imitlab.errors import UserError

# The algorithms the bench runs: the registry's imitation algorithms, read live (an algorithm
# registered later is in it). Each says whether it learns from demos (``uses_demos``), its budget's
# unit (``unit``) and whether a cell cut off resumes (``resumable``).
ALGOS: Mapping[str, AlgorithmSpec] = ALGORITHMS

INTERACTIVE = 0  # the n_demos of a cell whose algorithm takes no demos
CURVE_POINTS = 10  # evaluations per run, so every run draws a learning curve of the same density

# gymnasium entry-point package -> the imitlab extra that installs what it needs
EXTRAS = {"box2d": "box2d", "mujoco": "mujoco"}


@dataclass(frozen=True)
class Cell:
    """One run of the grid. ``n_demos`` is 0 for interactive algorithms (no demos)."""

    algo: str
    env: str
    n_demos: int
    seed: int

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.algo, self.env, self.n_demos, self.seed)

    def slug(self) -> str:
        """A file name for the cell: algo-env-demos-seed."""
        return f"{self.algo}-{self.env}-{self.n_demos}-{self.seed}"

    def label(self) -> str:
        demos = "interactive" if self.n_demos == INTERACTIVE else f"{self.n_demos} demos"
        return f"{self.algo} on {self.env}, {demos}, seed {self.seed}"


def parse_names(text: str, *, what: str) -> list[str]:
    """A comma-separated list of names, duplicates dropped, order kept."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise UserError(f"--{what} needs at least one value, e.g. --{what} {'bc,gail' if what == 'algos' else 'CartPole-v1'}")
    return list(dict.fromkeys(names))


def parse_ints(text: str, *, what: str, minimum: int) -> list[int]:
    """A comma-separated list of integers >= ``minimum``, duplicates dropped, sorted."""
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UserError(f"--{what} takes comma-separated integers, e.g. --{what} 1,4,10; got {text!r}") from None
    if not values:
        raise UserError(f"--{what} needs at least one integer")
    bad = [v for v in values if v < minimum]
    if bad:
        raise UserError(f"--{what} values must be >= {minimum}, got {bad[0]}")
    return sorted(set(values))


def check_algos(algos: list[str]) -> None:
    unknown = [a for a in algos if a not in ALGOS]
    if unknown:
        raise UserError(f"unknown algorithm {unknown[0]!r}; choose from {', '.join(ALGOS)}")


def check_env_ready(env_id: str) -> None:
    """A UserError unless ``env_id`` is a registered gymnasium env whose dependencies are installed
    (naming the imitlab extra that installs them) and imitlab's task registry knows it."""
    from imitlab.envs.vector import check_env_id
    from imitlab.tasks import require_task

    spec = check_env_id(env_id)
    entry = spec.entry_point if isinstance(spec.entry_point, str) else ""
    try:
        gym.make(env_id).close()
    except gym.error.DependencyNotInstalled as e:
        extra = next((x for pkg, x in EXTRAS.items() if f".{pkg}." in entry or entry.startswith(f"{pkg}.")), None)
        fix = f"pip install 'imitlab[{extra}]' installs it" if extra else "install it"
        raise UserError(f"{env_id} needs a package that is not installed: {fix} ({e})") from None
    require_task(env_id)


def grid_cells(*, algos: list[str], envs: list[str], demos: list[int], seeds: list[int]) -> list[Cell]:
    """Every cell, env by env: demo-based algorithms once per demo count, interactive ones once."""
    cells = []
    for env in envs:
        for algo in algos:
            counts = demos if ALGOS[algo].uses_demos else [INTERACTIVE]
            for n in counts:
                for seed in seeds:
                    cells.append(Cell(algo, env, n, seed))
    return cells


def base_budget(algo: str, env_id: str | None) -> int:
    """The task default budget of ``algo`` on ``env_id``, or the algorithm's fallback.

    The bench's budgets and the ``imitlab train`` commands' defaults both come from here (it is
    :func:`imitlab.defaults.budget_for`, which reads the algorithm registry and the defaults table).
    ``env_id`` None gives the fallback: the budget of an env without task defaults.
    """
    from imitlab.defaults import budget_for

    budget = budget_for(algo, env_id)
    if budget is None:
        raise UserError(f"{algo} has no default budget; give one")
    return budget


def cell_budget(algo: str, env_id: str, scale: float) -> int:
    """The budget of a cell: the task default times ``scale``, at least 1."""
    return max(1, round(base_budget(algo, env_id) * scale))


def eval_every(budget: int) -> int:
    """Evaluate about :data:`CURVE_POINTS` times over a budget."""
    return max(1, budget // CURVE_POINTS)


def settings_record(*, budget_scale: float, eval_episodes: int, demo_seed: int) -> dict[str, Any]:
    """The settings that make runs comparable; a bench directory keeps one set of them."""
    return {"budget_scale": budget_scale, "eval_episodes": eval_episodes, "demo_seed": demo_seed}

"""A gridworld whose map is a text grid: the textbook's example for inverse RL, typed in.

``GridWorld-v0`` (registered with gymnasium when :mod:`imitlab.envs` is imported) is a grid of
cells, one character each, rows separated by newlines (or given as a list of strings); spaces
inside a row are ignored, so a map may be written ``"S . . G"``:

====  ===========================================================================================
``S``  a start cell (one or more: each episode starts in one of them, uniformly)
``.``  an open cell
``#``  a wall: moving into it (or off the grid) leaves the agent where it is
``+``  a bonus cell, worth crossing: entering it adds ``bonus_reward``
``-``  a penalty cell, to avoid: entering it adds ``penalty_reward``
``X``  a trap: entering it adds ``trap_reward`` and ends the episode
``G``  a goal: entering it adds ``goal_reward`` and ends the episode (at least one)
====  ===========================================================================================

Every move also earns ``step_reward`` (a small cost), so the reward of a step is
``step_reward + value(cell entered)``: a function of the state entered alone (a wall bump
re-enters the cell it starts from). With ``slip`` > 0 a move goes to either perpendicular
direction with probability ``slip / 2`` each (stochastic dynamics, as FrozenLake's ice).

A bonus cell cannot be made worth a detour without being worth circling back to: with a
stationary reward, a two-step detour through it earns what a two-step loop earns. So the default
bonus only offsets the step cost (entering it costs nothing), which decides between paths of the
same length and makes loops worthless; a bonus larger than ``-step_reward`` makes an agent that
can stay on the cell (by bumping into a wall) stay there until the time limit.

States are cell indices ``row * ncol + col`` (walls included, never occupied), as FrozenLake and
CliffWalking number theirs; actions are FrozenLake's: 0 left, 1 down, 2 right, 3 up. The known
dynamics are in ``env.unwrapped.P`` in gymnasium's toy-text layout (``P[s][a]`` is a list of
``(probability, next_state, reward, terminated)``), which :func:`imitlab.envs.tabular.tabular_mdp`
reads; ``desc`` holds the map as FrozenLake's does (an array of single bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from imitlab.errors import UserError

ENV_ID = "GridWorld-v0"
"""The gymnasium id of the gridworld (no namespace: bench and demo file names are built from env ids)."""
MAX_EPISODE_STEPS = 100
"""The time limit it is registered with (``gym.make(ENV_ID, max_episode_steps=N)`` changes it)."""

DEFAULT_GRID = "\n".join([
    "S . . . .",
    ". # - # .",
    ". + . - .",
    ". # + # .",
    "- . . . G",
])
"""The default map: the start and the goal in opposite corners, joined by routes of the same
length (8 moves) along the edges and through the middle; the middle one crosses both bonus cells
between penalty cells and walls, and is the one optimal route (return 0.4 against the edges' 0.2,
or less past the penalty cell in the corner)."""

CELL_KINDS = "S.#+-XG"
"""Every cell character, in the order of :func:`cell_features`' columns."""
TERMINAL_KINDS = "XG"
MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))  # (drow, dcol) of left, down, right, up
ACTION_NAMES = ("left", "down", "right", "up")
MAX_CELLS = 1 << 16
"""The largest map accepted (cells): the tabular solvers hold [cells, 4, cells] arrays."""

_COLORS = {  # rgb_array colours of the cell kinds
    "S": (200, 220, 255), ".": (245, 245, 245), "#": (60, 60, 60), "+": (120, 200, 120),
    "-": (240, 150, 120), "X": (170, 40, 40), "G": (255, 210, 60),
}


def parse_grid(grid: str | Sequence[str]) -> np.ndarray:
    """The map ``grid`` (rows separated by newlines, or a list of rows) as a [rows, cols] array of
    single characters; a UserError naming the problem if it is not a valid map."""
    if isinstance(grid, str):
        rows = grid.split("\n")
    elif isinstance(grid, Sequence) and all(isinstance(r, str) for r in grid):
        rows = list(grid)
    else:
        raise UserError(f"the gridworld's grid must be a string of rows separated by newlines or a list of rows, "
                        f"got {type(grid).__name__}")
    rows = ["".join(r.split()) for r in rows]
    rows = [r for r in rows if r]
    if not rows:
        raise UserError("the gridworld's grid is empty; give rows of cells, e.g. 'S..' and '..G'")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise UserError(f"the gridworld's grid rows have different lengths {sorted(widths)}; every row needs as many cells")
    if len(rows) * len(rows[0]) > MAX_CELLS:
        raise UserError(f"the gridworld's grid has {len(rows) * len(rows[0]):,} cells, more than the {MAX_CELLS:,} accepted")
    bad = sorted({c for r in rows for c in r} - set(CELL_KINDS))
    if bad:
        raise UserError(f"the gridworld's grid has unknown cell {bad[0]!r}; cells are S (start), . (open), # (wall), "
                        "+ (bonus), - (penalty), X (trap, ends the episode), G (goal, ends the episode)")
    cells = np.array([list(r) for r in rows])
    for kind, name in (("S", "start"), ("G", "goal")):
        if not (cells == kind).any():
            raise UserError(f"the gridworld's grid has no {name} cell {kind!r}; put at least one in it")
    return cells


def cell_features(cells: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """One-hot cell kinds [n_cells, len(CELL_KINDS)] (float64) and the kinds' names, so that a
    linear reward over them has one weight per kind (the gridworld's true reward is one)."""
    flat = cells.reshape(-1)
    return (flat[:, None] == np.array(list(CELL_KINDS))[None, :]).astype(np.float64), list(CELL_KINDS)


class GridWorldEnv(gym.Env):
    """The text-grid world (see the module docstring)."""

    metadata: dict[str, Any] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        grid: str | Sequence[str] = DEFAULT_GRID,
        *,
        step_reward: float = -0.1,
        goal_reward: float = 1.0,
        bonus_reward: float = 0.1,
        penalty_reward: float = -1.0,
        trap_reward: float = -1.0,
        slip: float = 0.0,
        render_mode: str | None = None,
    ) -> None:
        """
        Args:
            grid: the map (see the module docstring).
            step_reward: the reward of every move (a small cost: negative).
            goal_reward: added on entering a goal cell ``G``.
            bonus_reward: added on entering a bonus cell ``+``.
            penalty_reward: added on entering a penalty cell ``-``.
            trap_reward: added on entering a trap ``X``.
            slip: the probability that a move goes to a perpendicular direction instead (half each way).
            render_mode: ``"ansi"`` (text) or ``"rgb_array"`` (an image, 32 pixels a cell).
        """
        self.cells = parse_grid(grid)
        for name, value in (("step_reward", step_reward), ("goal_reward", goal_reward), ("bonus_reward", bonus_reward),
                            ("penalty_reward", penalty_reward), ("trap_reward", trap_reward), ("slip", slip)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
                raise UserError(f"the gridworld's {name} must be a finite number, got {value!r}")
        if not 0 <= slip <= 1:
            raise UserError(f"the gridworld's slip must be a probability in [0, 1], got {slip}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UserError(f"the gridworld renders {' or '.join(self.metadata['render_modes'])}, not {render_mode!r}")
        self.render_mode = render_mode
        self.nrow, self.ncol = self.cells.shape
        self.desc = self.cells.astype("S1")  # FrozenLake's layout
        n = self.nrow * self.ncol
        self.observation_space = gym.spaces.Discrete(n)
        self.action_space = gym.spaces.Discrete(4)
        values = {".": 0.0, "S": 0.0, "#": 0.0, "+": bonus_reward, "-": penalty_reward, "X": trap_reward, "G": goal_reward}
        flat = self.cells.reshape(-1)
        # the true reward: that of entering each cell, a function of the state entered
        self.state_rewards = np.array([step_reward + values[c] for c in flat], dtype=np.float64)
        starts = flat == "S"
        self.initial_state_distrib = starts / starts.sum()
        self.P = self._dynamics(float(slip))
        self.s = int(np.flatnonzero(starts)[0])
        self.lastaction: int | None = None

    def _move(self, s: int, a: int) -> int:
        row, col = divmod(s, self.ncol)
        r, c = row + MOVES[a][0], col + MOVES[a][1]
        if not (0 <= r < self.nrow and 0 <= c < self.ncol) or self.cells[r, c] == "#":
            return s
        return r * self.ncol + c

    def _dynamics(self, slip: float) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        flat = self.cells.reshape(-1)
        P: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {}
        for s in range(len(flat)):
            P[s] = {}
            for a in range(4):
                if flat[s] in TERMINAL_KINDS or flat[s] == "#":
                    # never acted in: an episode has ended there, and no move enters a wall
                    P[s][a] = [(1.0, s, 0.0, flat[s] in TERMINAL_KINDS)]
                    continue
                outcomes: dict[int, float] = {}
                for b, p in ((a, 1.0 - slip), ((a - 1) % 4, slip / 2), ((a + 1) % 4, slip / 2)):
                    if p > 0:
                        nxt = self._move(s, b)
                        outcomes[nxt] = outcomes.get(nxt, 0.0) + p
                P[s][a] = [(p, nxt, float(self.state_rewards[nxt]), bool(flat[nxt] in TERMINAL_KINDS))
                           for nxt, p in outcomes.items()]
        return P

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        super().reset(seed=seed)
        self.s = int(self.np_random.choice(len(self.initial_state_distrib), p=self.initial_state_distrib))
        self.lastaction = None
        return self.s, {"prob": 1.0}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        transitions = self.P[self.s][int(action)]
        i = int(self.np_random.choice(len(transitions), p=[t[0] for t in transitions])) if len(transitions) > 1 else 0
        p, s, r, terminated = transitions[i]
        self.s, self.lastaction = int(s), int(action)
        # truncation is the TimeLimit wrapper's (registered with MAX_EPISODE_STEPS)
        return self.s, float(r), bool(terminated), False, {"prob": p}

    def render(self) -> str | np.ndarray | None:
        if self.render_mode == "ansi":
            rows = [list(r) for r in self.cells]
            row, col = divmod(self.s, self.ncol)
            rows[row][col] = "@"
            head = "" if self.lastaction is None else f"  ({ACTION_NAMES[self.lastaction]})"
            return head + "\n" + "\n".join("".join(r) for r in rows) + "\n"
        if self.render_mode == "rgb_array":
            size = 32
            img = np.array([[_COLORS[c] for c in r] for r in self.cells], dtype=np.uint8)
            img = img.repeat(size, 0).repeat(size, 1)
            img[::size, :] = img[:, ::size] = 180  # grid lines
            row, col = divmod(self.s, self.ncol)
            q = size // 4
            img[row * size + q:(row + 1) * size - q, col * size + q:(col + 1) * size - q] = (30, 60, 200)
            return img
        return None


def register() -> None:
    """Register :data:`ENV_ID` with gymnasium (once; importing :mod:`imitlab.envs` does it)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="imitlab.envs.gridworld:GridWorldEnv", max_episode_steps=MAX_EPISODE_STEPS)


register()

"""Detour's teacher: a breadth-first search over the level, replayed as exact actions.

With time paused the planner reads the level, searches the fewest walks and jumps from the
spider's cell to the prey's (``search.find_path``) and replays them: a walk is two full-speed
steps (cell centre to cell centre), a jump one jump action and three flight steps. The world
is deterministic, so the plan runs exactly as searched.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from portia_envs.detour.config import JUMP_STEPS, WALK_SPEED
from portia_envs.detour.search import find_path
from portia_envs.detour.world import DISCRETE_ACTIONS

STAY = 0
WALK_STEPS = round(1 / WALK_SPEED)


def plan_cells(
    grid: NDArray[np.int8], start: tuple[int, int], goal: tuple[int, int]
) -> list[tuple[int, int, int]] | None:
    """Search a path of walks and jumps between two floor cells.

    Args:
        grid: The level, ``(size, size)``.
        start: ``(row, column)`` of the first cell.
        goal: ``(row, column)`` of the last cell.

    Returns:
        ``[(row, column, edge), ...]`` from start to goal, where ``edge`` is how the cell is
        entered (direction 0-3 north, east, south, west, plus 4 for a jump; -1 for the
        start), or None if the goal cannot be reached.
    """
    size = grid.shape[0]
    parent = np.empty(size * size, dtype=np.int32)
    edge = np.empty(size * size, dtype=np.int8)
    if not find_path(np.ascontiguousarray(grid), *start, *goal, parent, edge):
        return None
    cells = []
    cell = goal[0] * size + goal[1]
    while parent[cell] != cell:
        cells.append((cell // size, cell % size, int(edge[cell])))
        cell = parent[cell]
    cells.append((start[0], start[1], -1))
    return cells[::-1]


def plan_actions(cells: list[tuple[int, int, int]]) -> NDArray[np.int64]:
    """Turn a path from ``plan_cells`` into discrete actions, from the first cell's centre."""
    actions: list[int] = []
    for _, _, edge in cells[1:]:
        direction, jump = edge % 4, edge >= 4
        if jump:
            actions += [5 + direction] + [STAY] * (JUMP_STEPS - 1)
        else:
            actions += [1 + direction] * WALK_STEPS
    return np.array(actions, dtype=np.int64)


class DetourPlanner:
    """The Detour teacher: ``act(observation) -> action`` for ``Portia/Detour*`` envs.

    It reads the level from the env (the world is paused while it plans), replans whenever
    its plan has run out, and shows the plan through ``env.set_planned_path`` so that it is
    drawn when rendering.

    Args:
        env: A Detour env, wrapped or not.
    """

    def __init__(self, env: gymnasium.Env) -> None:
        self.env = env.unwrapped
        self._discrete = self.env.action_space.shape == ()
        self._queue: list[int] = []

    def reset(self) -> None:
        """Forget the plan (call at the start of each episode)."""
        self._queue = []

    def act(self, observation: Any) -> Any:
        """Return the next action of the plan, planning first if there is none."""
        if not self._queue:
            self._queue = self._plan()
        action = self._queue.pop(0) if self._queue else STAY
        if self._discrete:
            return np.int64(action)
        return DISCRETE_ACTIONS[action].astype(np.float32)

    def _plan(self) -> list[int]:
        """Plan from the spider's cell, which must be at rest at its centre, to the prey."""
        x, y, _, _, air, prey_x, prey_y = self.env.body
        row, col = int(y), int(x)
        if air > 0 or (x, y) != (col + 0.5, row + 0.5):
            return []
        cells = plan_cells(self.env.grid, (row, col), (int(prey_y), int(prey_x)))
        if cells is None:
            return []
        self.env.set_planned_path([(c + 0.5, r + 0.5) for r, c, _ in cells])
        return plan_actions(cells).tolist()

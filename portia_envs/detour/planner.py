"""Detour's teacher: a breadth-first search over the level, replayed as exact actions.

With time paused the planner reads the level, searches the fewest walks and jumps from the
spider's cell to the prey's (``search.find_path``) and replays them: a walk is two full-speed
steps (cell centre to cell centre), a jump one jump action and three flight steps. The world
is deterministic, so the plan runs exactly as searched. ``ImaginingPlanner``, the built-in
agent ``planner`` that ``portia bench`` scores, runs the same search over imagined futures
instead of the level, so it needs nothing but observations and ``imagine``.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from portia_envs.detour.config import JUMP_STEPS, WALK_SPEED
from portia_envs.detour.search import find_path
from portia_envs.detour.world import DISCRETE_ACTIONS, OBS_SIZE
from portia_envs.errors import InvalidTypeError

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


# A move of the search, as discrete actions from a cell's centre at rest: a walk (two
# full-speed steps), then a jump (the jump and its flight), per direction north, east,
# south, west: the order in which ``search.find_path`` tries them.
MOVES = tuple(
    move
    for direction in range(4)
    for move in ([1 + direction] * WALK_STEPS, [5 + direction] + [STAY] * (JUMP_STEPS - 1))
)
# Where the spider's position and flight steps sit in an observation (``world.observe``).
_POSITION = slice(OBS_SIZE - 5, OBS_SIZE - 3)
_AIR = OBS_SIZE - 1


class ImaginingPlanner:
    """The Detour planner for scored runs: the same search, over imagined futures.

    A scored agent sees observations and may ``imagine``, never the level. With time paused
    this planner searches, breadth first, the fewest walks and jumps that catch the prey,
    as ``DetourPlanner`` does on the grid, but learns where each move leads by imagining it
    from the current state: every layer of the search is one ``imagine`` call of all its
    candidate plans. A move whose future falls, or that ends off a cell's centre (a wall
    stopped it) or on a cell already reached, is dropped; the first plan whose future
    catches the prey is replayed. The world is deterministic, so it runs as imagined. Its
    thinking is counted like any agent's. Built-in agent ``planner``.

    Args:
        env: A ``TimePause`` around a Detour env (``Portia/Detour*``), as the harness gives
            agents: it serves ``imagine``; the level size is read from its env.

    Raises:
        InvalidTypeError: If ``env`` cannot imagine or is not a Detour env underneath.
    """

    def __init__(self, env: gymnasium.Env) -> None:
        from portia_envs.detour.env import DetourEnv

        if not callable(getattr(env, "imagine", None)) or not isinstance(env.unwrapped, DetourEnv):
            raise InvalidTypeError(
                f"ImaginingPlanner needs a Detour env behind wrappers.TimePause (it plans by "
                f"imagining), got {env}"
            )
        self.env = env
        self._size = env.unwrapped.config.size
        self._discrete = env.action_space.shape == ()
        self._queue: list[int] = []

    def reset(self, seed: int | None = None) -> None:
        """Forget the plan (the planner is deterministic: ``seed`` changes nothing)."""
        self._queue = []

    def act(self, observation: Any) -> Any:
        """Return the next action of the plan, searching first if there is none."""
        if not self._queue:
            self._queue = self._search(np.asarray(observation))
        action = self._queue.pop(0) if self._queue else STAY
        if self._discrete:
            return np.int64(action)
        return DISCRETE_ACTIONS[action].astype(np.float32)

    def _search(self, observation: NDArray[np.float32]) -> list[int]:
        """Return the actions of the fewest moves that catch the prey, or [] if none do."""
        start = self._cell(observation)
        if start is None:
            return []
        reached, layer = {start}, [[]]
        while layer:
            plans = [plan + move for plan in layer for move in MOVES]
            futures = self.env.imagine(self._sequences(plans))
            layer = []
            for index, plan in enumerate(plans):
                if futures["is_success"][index, -1]:
                    return plan
                if futures["terminated"][index, -1]:
                    continue
                cell = self._cell(futures["observation"][index, len(plan) - 1])
                if cell is not None and cell not in reached:
                    reached.add(cell)
                    layer.append(plan)
        return []

    def _sequences(self, plans: list[list[int]]) -> NDArray:
        """Return ``plans`` as one batch of action sequences, padded with staying."""
        horizon = max(len(plan) for plan in plans)
        batch = np.full((len(plans), horizon), STAY, dtype=np.int64)
        for index, plan in enumerate(plans):
            batch[index, : len(plan)] = plan
        return batch if self._discrete else DISCRETE_ACTIONS[batch].astype(np.float32)

    def _cell(self, observation: NDArray[np.float32]) -> tuple[int, int] | None:
        """Return ``(row, column)`` of the spider at rest at a cell's centre, else None."""
        if observation[_AIR] != 0:
            return None
        # Positions are multiples of a quarter cell; the observation holds them / size.
        x, y = np.round(observation[_POSITION].astype(np.float64) * self._size * 4) / 4
        if x % 1 != 0.5 or y % 1 != 0.5:
            return None
        return int(y), int(x)

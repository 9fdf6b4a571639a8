"""Breadth-first search over a Detour level: the planner's path and the prey's distance field.

The search graph's nodes are floor cells; its edges are a walk to a neighbouring floor cell
(north, east, south, west) and a jump of ``JUMP_CELLS`` cells in one of those directions to
a floor cell, over cells that are not walls (gaps are flown over).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from portia_envs.detour.config import FLOOR, JUMP_CELLS, WALL

WALK_EDGE, JUMP_EDGE = 0, 1
# North, east, south, west as (row, column) steps: the order of the discrete actions.
DIRECTIONS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]])


@njit(cache=True, nogil=True)
def find_path(
    grid: np.ndarray,
    start_row: int,
    start_col: int,
    goal_row: int,
    goal_col: int,
    parent: np.ndarray,
    edge: np.ndarray,
) -> bool:
    """Search the fewest walks and jumps from the start cell to the goal cell.

    Args:
        grid: The level, ``(size, size)`` int8.
        start_row: The start cell's row.
        start_col: Its column.
        goal_row: The goal cell's row.
        goal_col: Its column.
        parent: ``(size * size,)`` int32 out: each reached cell's predecessor (flat index),
            -1 where unreached, the start's own index at the start.
        edge: ``(size * size,)`` int8 out: how each reached cell was entered: the
            direction (0-3, as ``DIRECTIONS``) plus 4 for a jump.

    Returns:
        Whether the goal is reachable.
    """
    size = grid.shape[0]
    parent[:] = -1
    queue = np.empty(size * size, dtype=np.int32)
    start = start_row * size + start_col
    goal = goal_row * size + goal_col
    parent[start] = start
    queue[0] = start
    head, tail = 0, 1
    while head < tail:
        cell = queue[head]
        head += 1
        if cell == goal:
            return True
        row, col = cell // size, cell % size
        for d in range(4):
            dr, dc = DIRECTIONS[d, 0], DIRECTIONS[d, 1]
            for kind in range(2):
                reach = 1 if kind == WALK_EDGE else JUMP_CELLS
                r, c = row + dr * reach, col + dc * reach
                if r < 0 or r >= size or c < 0 or c >= size or grid[r, c] != FLOOR:
                    continue
                if kind == JUMP_EDGE:
                    clear = True
                    for k in range(1, JUMP_CELLS):
                        if grid[row + dr * k, col + dc * k] == WALL:
                            clear = False
                    if not clear:
                        continue
                nxt = r * size + c
                if parent[nxt] < 0:
                    parent[nxt] = cell
                    edge[nxt] = d + 4 * kind
                    queue[tail] = nxt
                    tail += 1
    return False


@njit(cache=True, nogil=True)
def distance_field(grid: np.ndarray, goal_row: int, goal_col: int, dist: np.ndarray) -> None:
    """Write each cell's walking distance in cells to the goal, ignoring gaps (-1: wall).

    Gaps count as passable: the distance is a hint of where the goal lies, not a plan.

    Args:
        grid: The level, ``(size, size)`` int8.
        goal_row: The goal cell's row.
        goal_col: Its column.
        dist: ``(size, size)`` int32 out.
    """
    size = grid.shape[0]
    dist[:, :] = -1
    queue = np.empty(size * size, dtype=np.int32)
    dist[goal_row, goal_col] = 0
    queue[0] = goal_row * size + goal_col
    head, tail = 0, 1
    while head < tail:
        cell = queue[head]
        head += 1
        row, col = cell // size, cell % size
        for d in range(4):
            r, c = row + DIRECTIONS[d, 0], col + DIRECTIONS[d, 1]
            if 0 <= r < size and 0 <= c < size and grid[r, c] != WALL and dist[r, c] < 0:
                dist[r, c] = dist[row, col] + 1
                queue[tail] = r * size + c
                tail += 1

"""Detour's physics and observations: numba kernels over batches of worlds.

A world is a ``size`` x ``size`` grid of cells (``FLOOR``, ``WALL``, ``GAP``), indexed
``grid[row, column]``, and a body vector ``(x, y, vx, vy, air, prey_x, prey_y)`` in cells:
``x`` grows along columns (east), ``y`` along rows (south); cell ``(r, c)`` spans
``[c, c + 1) x [r, r + 1)``. The spider is a square of half side ``HALF_SIZE`` that walls
stop; it walks at up to ``WALK_SPEED`` cells per step along each axis, or jumps:
``JUMP_STEPS`` steps of ``JUMP_SPEED`` in a fixed direction (3 cells), flying over gaps.
``air`` counts the flight steps still to come. Standing (not flying) with its centre in a
gap cell, it falls. It catches the prey when its centre comes within ``CATCH_RADIUS``.

Every kernel is compiled once per machine (``cache=True``) and releases the GIL, so a batch
may be split across threads. The single env and the vector env step through the same
``step_world`` and ``observe``, which is why their trajectories are identical.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from portia_envs.detour.config import (
    CATCH_RADIUS,
    GAP,
    HALF_SIZE,
    JUMP_SPEED,
    JUMP_STEPS,
    WALK_SPEED,
    WALL,
)
from portia_envs.detour.levels import load_level, next_level_seed

VIEW_RADIUS = 3
VIEW_SIDE = 2 * VIEW_RADIUS + 1
VIEW_CELLS = VIEW_SIDE * VIEW_SIDE
OBS_SIZE = 2 * VIEW_CELLS + 7
BODY_SIZE = 7

REWARD_CATCH = 1.0
REWARD_FALL = -1.0
REWARD_PROGRESS = 0.05
# Reward terms, in the order of the ``terms`` arrays: they sum to the reward.
REWARD_TERMS = ("reward_catch", "reward_fall", "reward_progress")

# Discrete action -> (ax, ay, jump): stay, walk N/E/S/W, jump N/E/S/W.
DISCRETE_ACTIONS = np.array(
    [
        [0.0, 0.0, 0.0],
        [0.0, -1.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [-1.0, 0.0, 0.0],
        [0.0, -1.0, 1.0],
        [1.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [-1.0, 0.0, 1.0],
    ]
)


@njit(cache=True, nogil=True)
def _move_x(grid: np.ndarray, x: float, y: float, dx: float) -> float:
    """Return ``x + dx``, stopped at the border of the first wall the square would enter."""
    nx = x + dx
    row0 = int(np.floor(y - HALF_SIZE))
    row1 = int(np.ceil(y + HALF_SIZE)) - 1
    if dx > 0.0:
        col = int(np.ceil(nx + HALF_SIZE)) - 1
        for row in range(row0, row1 + 1):
            if grid[row, col] == WALL:
                return col - HALF_SIZE
    elif dx < 0.0:
        col = int(np.floor(nx - HALF_SIZE))
        for row in range(row0, row1 + 1):
            if grid[row, col] == WALL:
                return col + 1.0 + HALF_SIZE
    return nx


@njit(cache=True, nogil=True)
def _move_y(grid: np.ndarray, x: float, y: float, dy: float) -> float:
    """Return ``y + dy``, stopped at the border of the first wall the square would enter."""
    ny = y + dy
    col0 = int(np.floor(x - HALF_SIZE))
    col1 = int(np.ceil(x + HALF_SIZE)) - 1
    if dy > 0.0:
        row = int(np.ceil(ny + HALF_SIZE)) - 1
        for col in range(col0, col1 + 1):
            if grid[row, col] == WALL:
                return row - HALF_SIZE
    elif dy < 0.0:
        row = int(np.floor(ny - HALF_SIZE))
        for col in range(col0, col1 + 1):
            if grid[row, col] == WALL:
                return row + 1.0 + HALF_SIZE
    return ny


@njit(cache=True, nogil=True)
def step_world(
    grid: np.ndarray,
    dist: np.ndarray,
    body: np.ndarray,
    ax: float,
    ay: float,
    jump: float,
    terms: np.ndarray,
) -> tuple[bool, bool]:
    """Advance one world by one step, in place.

    Args:
        grid: The level, ``(size, size)`` int8.
        dist: Walking distance in cells from each cell to the prey's (-1 for walls).
        body: ``(x, y, vx, vy, air, prey_x, prey_y)``, updated.
        ax: Walking velocity along x as a fraction of ``WALK_SPEED``, in [-1, 1].
        ay: The same along y.
        jump: A jump starts (on the ground, with a nonzero direction) when positive.
        terms: Written with the reward terms, in ``REWARD_TERMS`` order.

    Returns:
        ``(terminated, is_success)``: the prey was caught (success) or the spider fell.
    """
    x, y, vx, vy, air = body[0], body[1], body[2], body[3], body[4]
    if air > 0.0:
        air -= 1.0
    elif jump > 0.0 and ax * ax + ay * ay > 1e-12:
        norm = np.sqrt(ax * ax + ay * ay)
        vx = ax / norm * JUMP_SPEED
        vy = ay / norm * JUMP_SPEED
        air = JUMP_STEPS - 1.0
    else:
        vx = ax * WALK_SPEED
        vy = ay * WALK_SPEED
    before = dist[int(y), int(x)]
    x = _move_x(grid, x, y, vx)
    y = _move_y(grid, x, y, vy)
    after = dist[int(y), int(x)]
    dx, dy = x - body[5], y - body[6]
    caught = dx * dx + dy * dy < CATCH_RADIUS * CATCH_RADIUS
    fell = (not caught) and air == 0.0 and grid[int(y), int(x)] == GAP
    terms[0] = REWARD_CATCH if caught else 0.0
    terms[1] = REWARD_FALL if fell else 0.0
    terms[2] = REWARD_PROGRESS * (before - after) if before >= 0 and after >= 0 else 0.0
    body[0], body[1], body[2], body[3], body[4] = x, y, vx, vy, air
    return caught or fell, caught


@njit(cache=True, nogil=True)
def observe(grid: np.ndarray, body: np.ndarray, out: np.ndarray) -> None:
    """Write a world's observation (``OBS_SIZE`` values in [-1, 1]) into ``out``.

    Layout: the walls of the ``VIEW_SIDE`` x ``VIEW_SIDE`` cells around the spider's cell
    (row-major, north-west first; outside the level counts as wall), then its gaps, then
    the prey's offset ``(prey - position) / size``, the position ``/ size``, the velocity
    ``/ JUMP_SPEED`` and the flight steps to come ``/ (JUMP_STEPS - 1)``.
    """
    size = grid.shape[0]
    x, y = body[0], body[1]
    cx, cy = int(x), int(y)
    k = 0
    for dr in range(-VIEW_RADIUS, VIEW_RADIUS + 1):
        row = cy + dr
        for dc in range(-VIEW_RADIUS, VIEW_RADIUS + 1):
            col = cx + dc
            cell = WALL
            if 0 <= row < size and 0 <= col < size:
                cell = grid[row, col]
            out[k] = 1.0 if cell == WALL else 0.0
            out[VIEW_CELLS + k] = 1.0 if cell == GAP else 0.0
            k += 1
    base = 2 * VIEW_CELLS
    out[base] = (body[5] - x) / size
    out[base + 1] = (body[6] - y) / size
    out[base + 2] = x / size
    out[base + 3] = y / size
    out[base + 4] = body[2] / JUMP_SPEED
    out[base + 5] = body[3] / JUMP_SPEED
    out[base + 6] = body[4] / (JUMP_STEPS - 1.0)


@njit(cache=True, nogil=True)
def start_episodes(
    mask: np.ndarray,
    grid: np.ndarray,
    dist: np.ndarray,
    body: np.ndarray,
    levels: np.ndarray,
    streams: np.ndarray,
    level_low: int,
    level_count: int,
    density: float,
    gap_width: int,
    gap_chance: float,
    obs: np.ndarray,
) -> None:
    """Start a new episode in each world where ``mask`` is set, on its stream's next level.

    Args:
        mask: ``(n,)`` bool, the worlds to restart.
        grid: ``(n, size, size)`` int8 levels, rewritten where masked.
        dist: ``(n, size, size)`` int32 distances to the prey, rewritten where masked.
        body: ``(n, BODY_SIZE)`` bodies, rewritten where masked.
        levels: ``(n,)`` int64 level seeds, the drawn one written where masked.
        streams: ``(n,)`` uint64 level streams, advanced where masked.
        level_low: First level seed of the split.
        level_count: Number of level seeds in the split.
        density: Wall density of the generator.
        gap_width: Gap width of the generator, cells.
        gap_chance: Chance of a gap strip.
        obs: ``(n, OBS_SIZE)`` float32, the first observation written where masked.
    """
    for i in range(mask.shape[0]):
        if mask[i]:
            streams[i], levels[i] = next_level_seed(streams[i], level_low, level_count)
            load_level(levels[i], density, gap_width, gap_chance, grid[i], dist[i], body[i])
            observe(grid[i], body[i], obs[i])


@njit(cache=True, nogil=True)
def step_batch(
    actions: np.ndarray,
    grid: np.ndarray,
    dist: np.ndarray,
    body: np.ndarray,
    levels: np.ndarray,
    streams: np.ndarray,
    elapsed: np.ndarray,
    autoreset: np.ndarray,
    max_steps: int,
    level_low: int,
    level_count: int,
    density: float,
    gap_width: int,
    gap_chance: float,
    obs: np.ndarray,
    reward: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    success: np.ndarray,
    terms: np.ndarray,
) -> None:
    """Step every world once, with next-step autoreset; all outputs are written in place.

    A world flagged in ``autoreset`` (its previous step ended the episode) ignores its
    action and starts a new episode on its stream's next level: reward 0, not terminated,
    not truncated, the new episode's first observation. Any other world steps; it is
    truncated when ``elapsed`` reaches ``max_steps`` without termination, and flagged for
    autoreset when either happened.

    Args:
        actions: ``(n, 3)`` float64 ``(ax, ay, jump)``, already checked and clipped.
        grid: ``(n, size, size)`` int8 levels, rewritten on autoreset.
        dist: ``(n, size, size)`` int32 distances to the prey, rewritten on autoreset.
        body: ``(n, BODY_SIZE)`` bodies, updated.
        levels: ``(n,)`` int64 level seeds, updated on autoreset.
        streams: ``(n,)`` uint64 level streams, advanced on autoreset.
        elapsed: ``(n,)`` int64 steps taken in the current episode.
        autoreset: ``(n,)`` bool, read and updated.
        max_steps: The time limit, steps.
        level_low: First level seed of the split.
        level_count: Number of level seeds in the split.
        density: Wall density of the generator.
        gap_width: Gap width of the generator, cells.
        gap_chance: Chance of a gap strip.
        obs: ``(n, OBS_SIZE)`` float32 out.
        reward: ``(n,)`` float64 out.
        terminated: ``(n,)`` bool out.
        truncated: ``(n,)`` bool out.
        success: ``(n,)`` bool out.
        terms: ``(n, 3)`` float64 out, the reward terms.
    """
    for i in range(actions.shape[0]):
        if autoreset[i]:
            streams[i], levels[i] = next_level_seed(streams[i], level_low, level_count)
            load_level(levels[i], density, gap_width, gap_chance, grid[i], dist[i], body[i])
            elapsed[i] = 0
            terms[i, :] = 0.0
            reward[i] = 0.0
            terminated[i] = False
            truncated[i] = False
            success[i] = False
            autoreset[i] = False
        else:
            done, caught = step_world(
                grid[i], dist[i], body[i], actions[i, 0], actions[i, 1], actions[i, 2], terms[i]
            )
            elapsed[i] += 1
            reward[i] = terms[i, 0] + terms[i, 1] + terms[i, 2]
            terminated[i] = done
            truncated[i] = (not done) and elapsed[i] >= max_steps
            success[i] = caught
            autoreset[i] = done or truncated[i]
        observe(grid[i], body[i], obs[i])


@njit(cache=True, nogil=True)
def rollout_batch(
    grid: np.ndarray,
    dist: np.ndarray,
    body: np.ndarray,
    actions: np.ndarray,
    obs: np.ndarray,
    reward: np.ndarray,
    terminated: np.ndarray,
    success: np.ndarray,
    terms: np.ndarray,
) -> None:
    """Roll out open-loop action sequences from one world's state, leaving it untouched.

    After a sequence terminates, its later entries repeat the terminal observation with
    reward 0 and ``terminated`` True.

    Args:
        grid: The world's level.
        dist: Its distances to the prey.
        body: Its body, copied for each sequence.
        actions: ``(batch, horizon, 3)`` float64, checked and clipped.
        obs: ``(batch, horizon, OBS_SIZE)`` float32 out.
        reward: ``(batch, horizon)`` float64 out.
        terminated: ``(batch, horizon)`` bool out.
        success: ``(batch, horizon)`` bool out.
        terms: ``(batch, horizon, 3)`` float64 out.
    """
    for b in range(actions.shape[0]):
        world = body.copy()
        done = False
        caught = False
        for t in range(actions.shape[1]):
            if done:
                obs[b, t] = obs[b, t - 1]
                terms[b, t, :] = 0.0
            else:
                done, caught = step_world(
                    grid,
                    dist,
                    world,
                    actions[b, t, 0],
                    actions[b, t, 1],
                    actions[b, t, 2],
                    terms[b, t],
                )
                observe(grid, world, obs[b, t])
            reward[b, t] = terms[b, t, 0] + terms[b, t, 1] + terms[b, t, 2]
            terminated[b, t] = done
            success[b, t] = caught

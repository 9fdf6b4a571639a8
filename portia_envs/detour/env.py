"""Detour: a jumping spider sees its prey and must find the way around walls and over gaps."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from portia_envs.detour.config import FLOOR, GAP, JUMP_STEPS, WALL
from portia_envs.detour.search import distance_field
from portia_envs.detour.world import (
    BODY_SIZE,
    DISCRETE_ACTIONS,
    OBS_SIZE,
    REWARD_TERMS,
    rollout_batch,
)
from portia_envs.detour.worlds import Worlds
from portia_envs.errors import InvalidActionError, InvalidParameterError, InvalidStateError

ACTION_TYPES = ("continuous", "discrete")
RENDER_MODES = ("human", "rgb_array")
# Simulated seconds per step: the pace of render_fps and of latency budgets.
DT = 0.1
INSTRUCTION = "catch the prey: go around the walls and jump over the gaps"
# The single env's own step count never truncates: its time limit is the TimeLimit wrapper's.
_NO_LIMIT = np.iinfo(np.int64).max
_RESET_OPTIONS = ("level",)
# What get_state()[i] holds, before the grid cells (row-major, from index 9).
STATE_FIELDS = ("size", "level", "x", "y", "vx", "vy", "air", "prey_x", "prey_y")
# Speeds no motion reaches (walking 0.5, jumping 0.75 cells per step), and the largest level
# seed a state holds exactly (a float64 holds every whole number up to 2**53).
MAX_SPEED = 1.0
MAX_LEVEL = 2**53


def detour_spaces(action_type: str) -> tuple[spaces.Space, spaces.Box]:
    """Return ``(action_space, observation_space)`` of one Detour world.

    Raises:
        InvalidParameterError: For an unknown ``action_type``.
    """
    if action_type not in ACTION_TYPES:
        raise InvalidParameterError(
            f"unknown action_type {action_type!r}; accepted: {', '.join(ACTION_TYPES)}"
        )
    observation_space = spaces.Box(-1.0, 1.0, (OBS_SIZE,), dtype=np.float32)
    if action_type == "discrete":
        return spaces.Discrete(len(DISCRETE_ACTIONS)), observation_space
    return spaces.Box(-1.0, 1.0, (3,), dtype=np.float32), observation_space


def to_motion(actions: Any, discrete: bool, leading: tuple[int, ...]) -> NDArray[np.float64]:
    """Check actions and turn them into ``(ax, ay, jump)`` rows (continuous ones clipped).

    Args:
        actions: One action or a batch with leading shape ``leading``: floats ``(*leading,
            3)`` in [-1, 1] (clipped), or ints ``leading`` in 0..8 for the discrete variant.
        discrete: Whether the actions are discrete.
        leading: The batch shape expected before the action's own shape.

    Returns:
        ``(*leading, 3)`` float64, C-contiguous.

    Raises:
        InvalidActionError: On a wrong shape or dtype, NaN, infinity or an unknown index.
    """
    array = np.asarray(actions)
    if discrete:
        accepted = (
            f"ints of shape {leading} in 0..{len(DISCRETE_ACTIONS) - 1} (0 stay, 1-4 walk "
            f"N/E/S/W, 5-8 jump N/E/S/W)"
        )
        if array.shape != leading or array.dtype.kind not in "iu":
            raise InvalidActionError(
                f"actions must be {accepted}; got shape {array.shape}, dtype {array.dtype}"
            )
        if array.size and (array.min() < 0 or array.max() >= len(DISCRETE_ACTIONS)):
            raise InvalidActionError(f"actions must be {accepted}; got {array}")
        return DISCRETE_ACTIONS[array]
    expected = (*leading, 3)
    if array.shape != expected or array.dtype.kind not in "iuf":
        raise InvalidActionError(
            f"actions must be floats of shape {expected} (ax, ay, jump) in [-1, 1]; "
            f"got shape {array.shape}, dtype {array.dtype}"
        )
    if not np.isfinite(array).all():
        raise InvalidActionError(
            f"actions contain NaN or infinite values: {array}; all must be finite"
        )
    return np.ascontiguousarray(np.clip(array, -1.0, 1.0), dtype=np.float64)


def check_detour_state(state: NDArray[np.float64], n: int) -> None:
    """Raise unless ``state`` (of the right length, for a level of size ``n``) is accepted.

    Args:
        state: ``(size, level, x, y, vx, vy, air, prey_x, prey_y, grid)``, as ``get_state``.
        n: The level's size in cells.

    Raises:
        InvalidStateError: Naming the first value not accepted, its index and field.
    """
    finite = np.isfinite(state)
    if not finite.all():
        _refuse(state, int(np.argmin(finite)), n, "finite values (no NaN or infinity)")
    level = state[1]
    if not (0 <= level <= MAX_LEVEL and level == int(level)):
        _refuse(state, 1, n, f"whole numbers from 0 to {MAX_LEVEL}")
    grid = state[2 + BODY_SIZE :]
    cells = (grid != FLOOR) & (grid != WALL) & (grid != GAP)
    if cells.any():
        accepted = "0 (floor), 1 (wall) or 2 (gap), no grid cells other than 0-2"
        _refuse(state, 2 + BODY_SIZE + int(np.argmax(cells)), n, accepted)
    for index in (4, 5):
        if abs(state[index]) > MAX_SPEED:
            _refuse(state, index, n, f"velocities within ±{MAX_SPEED:g} cells per step")
    air = state[6]
    if not (0 <= air < JUMP_STEPS and air == int(air)):
        _refuse(state, 6, n, f"whole numbers of flight steps from 0 to {JUMP_STEPS - 1}")
    for index in (2, 3, 7, 8):
        if not 0 < state[index] < n:
            _refuse(state, index, n, f"positions inside the {n}x{n} level, 0 < value < {n}")
    walls = grid.reshape(n, n) == WALL
    for who, (x, y) in (("spider", (2, 3)), ("prey", (7, 8))):
        if walls[int(state[y]), int(state[x])]:
            raise InvalidStateError(
                f"state[{x}], state[{y}] put the {who} at ({state[x]:g}, {state[y]:g}), in a "
                f"wall cell, outside the level's open cells; accepted: floor or gap cells. Pass "
                f"a vector from get_state() of this env"
            )


def _refuse(state: NDArray[np.float64], index: int, n: int, accepted: str) -> None:
    """Raise ``InvalidStateError`` for ``state[index]``, naming its field."""
    raise InvalidStateError(
        f"state[{index}] ({_state_field(index, n)}) is {state[index]:g}; accepted: {accepted}. "
        f"Pass a vector from get_state() of this env"
    )


def _state_field(index: int, n: int) -> str:
    """Return the name of ``get_state()[index]`` for a level of size ``n``."""
    if index < 2 + BODY_SIZE:
        return STATE_FIELDS[index]
    row, column = divmod(index - 2 - BODY_SIZE, n)
    return f"grid cell at row {row}, column {column}"


def level_stream(rng: np.random.Generator) -> np.uint64:
    """Draw the start of a level stream from a freshly seeded generator (one per world)."""
    return rng.integers(0, 2**63, dtype=np.uint64)


class DetourEnv(gymnasium.Env):
    """A spider on a grid level must catch its prey; the direct way is often blocked.

    Seen from above, a ``size`` x ``size`` level (11 by default) has walls (which stop the
    spider), gap cells (where a spider that is not flying falls) and the prey, visible from
    the start. Most levels have a wall across the level with one opening away from the
    straight line, some a gap strip to jump over (see ``portia_envs.detour.levels``).

    Observation (``Box(-1, 1, (105,), float32)``): the walls (49 values, 1 = wall) then the
    gaps (49) of the 7 x 7 cells centred on the spider's cell, row-major from the north-west
    (outside the level counts as wall); then the prey's offset from the spider / size (2),
    the spider's position / size (2), its velocity / 0.75 (2), and its flight steps to come
    / 3 (1). Position ``(x, y)`` is in cells, x east and y south.

    Action, ``action_type="continuous"``: ``Box(-1, 1, (3,))`` = ``(ax, ay, jump)``: walk at
    ``(ax, ay)`` x 0.5 cells per step (clipped to [-1, 1]); when ``jump > 0`` on the ground,
    jump instead towards ``(ax, ay)``: 4 steps of 0.75 cells (3 cells), over gaps, during
    which actions are ignored. ``action_type="discrete"``: ``Discrete(9)``: 0 stay, 1-4
    walk north, east, south, west at full speed, 5-8 jump that way.

    Reward, each term in ``info``: ``reward_catch`` +1 when the prey is caught (the
    spider's centre within 0.5 cells of it); ``reward_fall`` -1 when it falls into a gap;
    ``reward_progress`` 0.05 per cell that the step brings it closer to the prey by the
    shortest walk around walls (gaps counted as floor).

    Start: the spider at rest at the centre of its start cell on one border, the prey at
    the centre of a cell on the opposite border. ``terminated``: caught or fallen.
    ``truncated``: the time limit of the registered id (200 steps). ``dt`` = 0.1 s.

    ``reset(seed=s)`` seeds a stream of levels; each later ``reset()`` plays its next
    level, drawn uniformly from the split's level seeds. ``reset(options={"level": k})``
    plays level ``k`` of the split. ``info`` carries ``is_success``, ``level``,
    ``task_id``, ``instruction`` and the reward terms.

    Args:
        action_type: ``"continuous"`` or ``"discrete"``.
        suite: The Detour suite whose levels are played (``"detour-v0"``).
        split: ``"train"`` or ``"heldout"`` levels of the suite.
        difficulty: ``"easy"``, ``"medium"`` or ``"hard"``; None for the suite's.
        maze_density: Chance (0 to 0.4) that a free cell is a wall; None for the difficulty's.
        gap_width: Gap strip width in cells, 1 or 2; None for the difficulty's.
        size: Level side in cells, odd, 9 to 31; None for the suite's.
        render_mode: None, ``"human"`` (a pygame window) or ``"rgb_array"``.
        cell_px: Side of a cell in rendered pixels.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": round(1 / DT)}

    def __init__(
        self,
        *,
        action_type: str = "continuous",
        suite: str = "detour-v0",
        split: str = "train",
        difficulty: str | None = None,
        maze_density: float | None = None,
        gap_width: int | None = None,
        size: int | None = None,
        render_mode: str | None = None,
        cell_px: int = 40,
    ) -> None:
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise InvalidParameterError(
                f"unknown render_mode {render_mode!r}; accepted: None, {', '.join(RENDER_MODES)}"
            )
        self.action_space, self.observation_space = detour_spaces(action_type)
        self._worlds = Worlds(1, suite, split, difficulty, maze_density, gap_width, size)
        self.suite, self.config = self._worlds.suite, self._worlds.config
        self.split = split
        self.render_mode = render_mode
        self.cell_px = cell_px
        self.planned_path: NDArray[np.float64] | None = None
        self._discrete = action_type == "discrete"
        self._seeded = False
        self._started = False
        self._renderer: Any = None

    @property
    def dt(self) -> float:
        """Simulated seconds per step."""
        return DT

    @property
    def level(self) -> int:
        """The seed of the level being played."""
        return int(self._worlds.levels[0])

    @property
    def grid(self) -> NDArray[np.int8]:
        """The level, ``(size, size)`` of ``FLOOR``, ``WALL``, ``GAP`` (a read-only view)."""
        view = self._worlds.grid[0].view()
        view.flags.writeable = False
        return view

    @property
    def body(self) -> NDArray[np.float64]:
        """``(x, y, vx, vy, air, prey_x, prey_y)`` in cells (a copy)."""
        return self._worlds.body[0].copy()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Start an episode on the level stream's next level, or on ``options["level"]``.

        Raises:
            InvalidParameterError: For an unknown option or a level outside the split.
        """
        super().reset(seed=seed)
        options = {} if options is None else options
        unknown = sorted(set(options) - set(_RESET_OPTIONS))
        if unknown:
            raise InvalidParameterError(
                f"unknown reset option(s) {unknown}; accepted: {', '.join(_RESET_OPTIONS)}"
            )
        if seed is not None or not self._seeded:
            self._worlds.streams[0] = level_stream(self.np_random)
            self._seeded = True
        if "level" in options:
            obs = self._worlds.load(0, self._check_level(options["level"]))
        else:
            obs = self._worlds.start(np.ones(1, dtype=np.bool_))[0]
        self.planned_path = None
        self._started = True
        if self.render_mode == "human":
            self.render()
        info = {"is_success": False, **dict.fromkeys(REWARD_TERMS, 0.0)}
        return obs, {**info, **self._episode_info()}

    def step(self, action: Any) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        """Advance one step.

        Raises:
            InvalidStateError: If no episode has started (call ``reset`` first).
            InvalidActionError: On a wrong shape or dtype, NaN, infinity or unknown index.
        """
        if not self._started:
            raise InvalidStateError("call reset() before step()")
        motion = to_motion(action, self._discrete, ()).reshape(1, 3)
        obs, reward, terminated, _, success, terms = self._worlds.step(
            motion, np.zeros(1, dtype=np.bool_), _NO_LIMIT
        )
        info = {
            "is_success": bool(success[0]),
            **{name: float(terms[0, k]) for k, name in enumerate(REWARD_TERMS)},
            **self._episode_info(),
        }
        if self.render_mode == "human":
            self.render()
        return obs[0], float(reward[0]), bool(terminated[0]), False, info

    def rollout(self, actions: Any, *, nthread: int = 1) -> dict[str, NDArray]:
        """Roll out open-loop action sequences from the current state, the env untouched.

        Args:
            actions: ``(batch, horizon, 3)`` floats, or ``(batch, horizon)`` ints for the
                discrete variant.
            nthread: Threads that share the batch (the kernel releases the GIL).

        Returns:
            Arrays of leading shape ``(batch, horizon)``: ``observation`` (``(..., 105)``),
            ``reward``, ``terminated``, ``is_success`` and the reward terms. After a sequence
            terminates, its later entries repeat the terminal one with reward 0.

        Raises:
            InvalidStateError: If no episode has started (call ``reset`` first).
            InvalidActionError: On a malformed batch.
            InvalidParameterError: If ``nthread`` < 1.
        """
        if not self._started:
            raise InvalidStateError("call reset() before rollout()")
        leading = np.shape(actions)[:2]
        if len(leading) != 2 or min(leading) < 1:
            raise InvalidActionError(
                f"actions must have shape (batch >= 1, horizon >= 1"
                f"{'' if self._discrete else ', 3'}), got {np.shape(actions)}"
            )
        if nthread < 1:
            raise InvalidParameterError(f"nthread must be >= 1, got {nthread}")
        motion = to_motion(actions, self._discrete, leading)
        batch, horizon = leading
        out = {
            "observation": np.zeros((batch, horizon, OBS_SIZE), dtype=np.float32),
            "reward": np.zeros((batch, horizon)),
            "terminated": np.zeros((batch, horizon), dtype=np.bool_),
            "is_success": np.zeros((batch, horizon), dtype=np.bool_),
        }
        terms = np.zeros((batch, horizon, len(REWARD_TERMS)))

        def run(lo: int, hi: int) -> None:
            rollout_batch(
                self._worlds.grid[0],
                self._worlds.dist[0],
                self._worlds.body[0],
                motion[lo:hi],
                out["observation"][lo:hi],
                out["reward"][lo:hi],
                out["terminated"][lo:hi],
                out["is_success"][lo:hi],
                terms[lo:hi],
            )

        threads = min(nthread, batch)
        if threads == 1:
            run(0, batch)
        else:
            chunk = math.ceil(batch / threads)
            with ThreadPoolExecutor(threads) as pool:
                for future in [pool.submit(run, lo, lo + chunk) for lo in range(0, batch, chunk)]:
                    future.result()
        return {**out, **{name: terms[..., k] for k, name in enumerate(REWARD_TERMS)}}

    def get_state(self) -> NDArray[np.float64]:
        """Return the full state: ``(size, level, x, y, vx, vy, air, prey_x, prey_y, grid)``.

        ``set_state`` of this vector, on this env or a fresh one with the same arguments,
        continues the episode bit-identically. The level stream (used at reset) is not part
        of it, nor is the time limit's step count.
        """
        worlds = self._worlds
        return np.concatenate(
            [[self.config.size, worlds.levels[0]], worlds.body[0], worlds.grid[0].ravel()]
        )

    def set_state(self, state: Any) -> None:
        """Restore a state returned by ``get_state``, or refuse it and change nothing.

        Everything is checked before anything changes: the length and level size, that
        every value is finite, the level a whole number >= 0, velocities within
        ``±MAX_SPEED`` cells per step, ``air`` a whole number of flight steps from 0 to
        ``JUMP_STEPS - 1``, grid cells 0-2, and the spider and the prey inside the level,
        off its walls.

        Raises:
            InvalidStateError: Naming the first value not accepted, its index and field.
        """
        n = self.config.size
        size = 2 + BODY_SIZE + n * n
        state = np.asarray(state, dtype=np.float64)
        if state.shape != (size,) or state[0] != n:
            raise InvalidStateError(
                f"state must be a flat vector of {size} values from get_state() of a Detour "
                f"env of size {n}; got shape {state.shape}"
            )
        check_detour_state(state, n)
        body = state[2 : 2 + BODY_SIZE]
        worlds = self._worlds
        worlds.levels[0] = int(state[1])
        worlds.body[0] = body
        worlds.grid[0] = state[2 + BODY_SIZE :].reshape(n, n).astype(np.int8)
        distance_field(worlds.grid[0], int(body[6]), int(body[5]), worlds.dist[0])
        self._started = True

    def set_planned_path(self, points: Any) -> None:
        """Show a planned path when rendering: ``(k, 2)`` points ``(x, y)`` in cells, or None."""
        self.planned_path = None if points is None else np.asarray(points, dtype=np.float64)

    def render(self) -> NDArray[np.uint8] | None:
        """Return an RGB frame for ``"rgb_array"``; draw the window for ``"human"``."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called with render_mode=None; nothing to render")
            return None
        if self._renderer is None:
            from portia_envs.detour.render import DetourRenderer

            self._renderer = DetourRenderer(self.config.size, cell_px=self.cell_px)
        frame = self._renderer.draw(self._worlds.grid[0], self._worlds.body[0], self.planned_path)
        if self.render_mode == "human":
            self._renderer.show(self.metadata["render_fps"])
            return None
        return frame

    def close(self) -> None:
        """Close the window, if any."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def _check_level(self, level: Any) -> int:
        """Return ``level`` if it is an int seed of this env's split."""
        low, count = self._worlds.level_low, self._worlds.level_count
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            raise InvalidParameterError(f"options['level'] must be an int, got {level!r}")
        if not low <= level < low + count:
            raise InvalidParameterError(
                f"level {level} is not a {self.split} level of {self.suite.name}; "
                f"accepted: {low} to {low + count - 1}"
            )
        return int(level)

    def _episode_info(self) -> dict[str, Any]:
        """The info entries that hold for the whole episode."""
        return {
            "level": self.level,
            "task_id": f"{self.suite.name}/{self.split}",
            "instruction": INSTRUCTION,
        }

    def __getstate__(self) -> dict[str, Any]:
        # A window does not copy or pickle; a copy opens its own when it renders.
        return {**self.__dict__, "_renderer": None}

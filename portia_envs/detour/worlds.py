"""A batch of Detour worlds: their state, the levels they play, and the kernels that move them."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.detour.config import LevelConfig
from portia_envs.detour.levels import load_level
from portia_envs.detour.world import (
    BODY_SIZE,
    OBS_SIZE,
    REWARD_TERMS,
    observe,
    start_episodes,
    step_batch,
)
from portia_envs.errors import UnknownSuiteError
from portia_envs.suites import SUITES, DetourSuite, get_suite


class Worlds:
    """``num`` Detour worlds playing the levels of one split of a suite.

    The single env holds a batch of 1 and the vector env a batch of ``num_envs``; both
    start and step their worlds through this class, so they play the same levels alike.
    World ``i`` is row ``i`` of every array attribute.

    Args:
        num: Number of worlds.
        suite: The Detour suite whose levels are played.
        split: ``"train"`` or ``"heldout"`` levels of the suite.
        difficulty: ``"easy"``, ``"medium"`` or ``"hard"``; None for the suite's.
        maze_density: Overrides the difficulty's wall density.
        gap_width: Overrides the difficulty's gap width, cells.
        size: Level side in cells; None for the suite's.

    Attributes:
        num: Number of worlds.
        suite: The suite.
        config: The level generator's parameters.
        level_low: First level seed of the split.
        level_count: Number of level seeds in the split.
        grid: ``(num, size, size)`` int8 levels of ``FLOOR``, ``WALL``, ``GAP``.
        dist: ``(num, size, size)`` int32 walking distances to the prey (-1 for walls).
        body: ``(num, BODY_SIZE)`` bodies ``(x, y, vx, vy, air, prey_x, prey_y)``, cells.
        levels: ``(num,)`` int64 seeds of the levels being played.
        streams: ``(num,)`` uint64 level streams, each advanced by a level at every start.
        elapsed: ``(num,)`` int64 steps taken in the current episodes.

    Raises:
        UnknownSuiteError: For an unknown suite or split, or a suite that is not Detour's.
        UnknownTaskError: For an unknown difficulty.
        InvalidParameterError: For an override out of range.
    """

    def __init__(
        self,
        num: int,
        suite: str,
        split: str,
        difficulty: str | None,
        maze_density: float | None,
        gap_width: int | None,
        size: int | None,
    ) -> None:
        self.suite = _detour_suite(suite)
        self.level_low, self.level_count = self.suite.levels(split)
        self.config = LevelConfig.from_difficulty(
            self.suite.difficulty if difficulty is None else difficulty,
            size=self.suite.size if size is None else size,
            maze_density=maze_density,
            gap_width=gap_width,
        )
        # The kernels' arguments that draw a level: the split's seeds, the generator's parameters.
        self._draw = (
            self.level_low,
            self.level_count,
            self.config.maze_density,
            self.config.gap_width,
            self.config.gap_chance,
        )
        self.num = num
        n = self.config.size
        self.grid = np.zeros((num, n, n), dtype=np.int8)
        self.dist = np.zeros((num, n, n), dtype=np.int32)
        self.body = np.zeros((num, BODY_SIZE))
        self.levels = np.zeros(num, dtype=np.int64)
        self.streams = np.zeros(num, dtype=np.uint64)
        self.elapsed = np.zeros(num, dtype=np.int64)

    def start(self, mask: NDArray[np.bool_]) -> NDArray[np.float32]:
        """Start a new episode in each world where ``mask`` is set, on its stream's next level.

        Args:
            mask: ``(num,)`` bool, the worlds to restart.

        Returns:
            ``(num, OBS_SIZE)`` float32: the first observations of the restarted worlds
            (other rows are left unwritten).
        """
        obs = np.empty((self.num, OBS_SIZE), dtype=np.float32)
        start_episodes(
            mask, self.grid, self.dist, self.body, self.levels, self.streams, *self._draw, obs
        )
        self.elapsed[mask] = 0
        return obs

    def load(self, index: int, level: int) -> NDArray[np.float32]:
        """Start a new episode in world ``index`` on ``level``; its level stream is kept.

        Args:
            index: The world.
            level: A level seed of the split (checked by the caller).

        Returns:
            ``(OBS_SIZE,)`` float32: the episode's first observation.
        """
        config = self.config
        self.levels[index] = level
        load_level(
            level,
            config.maze_density,
            config.gap_width,
            config.gap_chance,
            self.grid[index],
            self.dist[index],
            self.body[index],
        )
        self.elapsed[index] = 0
        obs = np.empty(OBS_SIZE, dtype=np.float32)
        observe(self.grid[index], self.body[index], obs)
        return obs

    def step(
        self, motion: NDArray[np.float64], autoreset: NDArray[np.bool_], max_steps: int
    ) -> tuple[
        NDArray[np.float32],
        NDArray[np.float64],
        NDArray[np.bool_],
        NDArray[np.bool_],
        NDArray[np.bool_],
        NDArray[np.float64],
    ]:
        """Step every world once in one compiled call, with next-step autoreset.

        A world flagged in ``autoreset`` ignores its motion and starts a new episode on its
        stream's next level (reward 0, neither terminated nor truncated); any other world
        steps, and is truncated when its episode reaches ``max_steps`` steps without
        terminating (see ``world.step_batch``).

        Args:
            motion: ``(num, 3)`` float64 ``(ax, ay, jump)``, checked and clipped.
            autoreset: ``(num,)`` bool, read, then set where the step ended the episode.
            max_steps: The time limit, steps.

        Returns:
            ``(observation, reward, terminated, truncated, is_success, terms)``: new arrays
            with leading shape ``(num,)``; ``terms`` is ``(num, 3)``, in ``REWARD_TERMS`` order.
        """
        n = self.num
        obs = np.empty((n, OBS_SIZE), dtype=np.float32)
        reward = np.empty(n)
        terminated = np.empty(n, dtype=np.bool_)
        truncated = np.empty(n, dtype=np.bool_)
        success = np.empty(n, dtype=np.bool_)
        terms = np.empty((n, len(REWARD_TERMS)))
        step_batch(
            motion,
            self.grid,
            self.dist,
            self.body,
            self.levels,
            self.streams,
            self.elapsed,
            autoreset,
            max_steps,
            *self._draw,
            obs,
            reward,
            terminated,
            truncated,
            success,
            terms,
        )
        return obs, reward, terminated, truncated, success, terms


def _detour_suite(name: str) -> DetourSuite:
    """Return the Detour suite called ``name``.

    Raises:
        UnknownSuiteError: If there is no such suite, or it is not a Detour suite.
    """
    suite = get_suite(name)
    if not isinstance(suite, DetourSuite):
        known = sorted(n for n, s in SUITES.items() if isinstance(s, DetourSuite))
        raise UnknownSuiteError(
            f"suite {name!r} runs in {suite.env_id}, not in a Detour env; Detour suites: "
            f"{', '.join(known)}"
        )
    return suite

"""Many spider worlds' observations and scores in one pass, for the vector env."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.envs.spider import SpiderEnv
from portia_envs.tasks.spider import SpiderScores, observe_rows, score_rows


class SpiderWorlds:
    """The task of each of a vector env's spider worlds as arrays, observed and scored together.

    Row ``i`` mirrors world ``i``'s fly and wall (``refresh`` after the world resets).
    ``observe`` returns, for each row, what ``SpiderEnv.step`` returns for that world
    alone, to the last bit (the same per-row kernels).

    Args:
        worlds: The vector env's single envs.
    """

    def __init__(self, worlds: tuple[SpiderEnv, ...]) -> None:
        n = len(worlds)
        self._prey = np.zeros((n, 3))
        self._wall = np.zeros((n, 5))
        self._radius = np.zeros(n)
        for i, world in enumerate(worlds):
            self.refresh(i, world)

    def refresh(self, i: int, world: SpiderEnv) -> None:
        """Copy world ``i``'s current task into row ``i``."""
        self._prey[i] = world._prey
        self._wall[i] = world._wall
        self._radius[i] = world.success_radius_m

    def observe(
        self, sensors: NDArray[np.float64]
    ) -> tuple[dict[str, NDArray[np.float64]], SpiderScores]:
        """Return the observations (batched) and scores of sensor readings ``(n, readings)``."""
        vector, achieved, desired = observe_rows(sensors, self._prey, self._wall)
        observation = {"observation": vector, "achieved_goal": achieved, "desired_goal": desired}
        return observation, score_rows(vector, achieved, self._prey, self._radius)

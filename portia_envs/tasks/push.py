"""Push: slide the block along the table into a goal region."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.scenes.tabletop import BLOCK_HALF_M
from portia_envs.tasks.base import (
    BLOCK_START_RANGES,
    TABLE_GOAL_RANGES,
    ArmTask,
    describe_place,
    sample_goal_xy,
)

# The goal is at least this far (m) from the block's start, so no episode starts solved.
MIN_PUSH_DISTANCE_M = 0.1


class PushTask(ArmTask):
    """Push the block so that its centre lies inside the goal sphere on the table."""

    name = "push"
    moves_block = True
    approach_weight = 0.5
    default_ranges = {**BLOCK_START_RANGES, **TABLE_GOAL_RANGES}

    def sample_goal(
        self,
        rng: np.random.Generator,
        ranges: dict[str, tuple[float, float]],
        block_pos: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Draw a goal on the table, ``MIN_PUSH_DISTANCE_M`` or more from the block."""
        xy = sample_goal_xy(rng, ranges, block_pos, min_distance_m=MIN_PUSH_DISTANCE_M)
        return np.array([*xy, BLOCK_HALF_M])

    def instruction(self, goal: NDArray[np.float64]) -> str:
        """Return e.g. "push the red block to the green target on the near right"."""
        return f"push the red block to the green target {describe_place(goal)}"

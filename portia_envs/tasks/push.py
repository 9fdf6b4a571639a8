"""Push: slide the block along the table into a goal region."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.tasks.base import (
    BLOCK_RANGES,
    TABLE_GOAL_RANGES,
    ArmTask,
    TaskSample,
    describe_place,
    draw_block,
    parked_support_pose,
    sample_goal_xy,
)
from portia_envs.tasks.objects import block_name, default_objects

# The goal is at least this far (m) from the block's start, so no episode starts solved.
MIN_PUSH_DISTANCE_M = 0.1


class PushTask(ArmTask):
    """Push the block so that its centre lies inside the goal sphere on the table."""

    name = "push"
    achieved = "block"
    approach = "block"
    approach_weight = 0.5
    keeps_on_table = ("block",)
    default_ranges = {**BLOCK_RANGES, **TABLE_GOAL_RANGES}

    def draw(self, rng: np.random.Generator, ranges: dict[str, tuple[float, float]]) -> TaskSample:
        """Draw the block, then a goal on the table ``MIN_PUSH_DISTANCE_M`` or more from it."""
        objects = default_objects()
        block = draw_block(rng, ranges, objects)
        xy = sample_goal_xy(rng, ranges, block, min_distance_m=MIN_PUSH_DISTANCE_M)
        goal = np.array([*xy, block[2]])
        return TaskSample(goal, block, parked_support_pose(), 0.0, objects)

    def instruction(self, goal: NDArray[np.float64], objects: NDArray[np.float64]) -> str:
        """Return e.g. "push the small red block to the green target on the near right"."""
        return f"push the {block_name(objects)} to the green target {describe_place(goal)}"

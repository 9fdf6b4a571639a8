"""Pick-and-place: lift the block and hold it at a goal in the air."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.tasks.base import (
    BLOCK_START_RANGES,
    TABLE_GOAL_RANGES,
    ArmTask,
    describe_place,
    sample_goal_xy,
)

MIN_PICK_PLACE_DISTANCE_M = 0.05


class PickPlaceTask(ArmTask):
    """Grasp the block and carry it so that its centre lies inside the goal sphere.

    Goals are 0.1 m or more above the table by default: every one needs the block lifted.
    """

    name = "pick_place"
    moves_block = True
    approach_weight = 0.5
    default_ranges = {**BLOCK_START_RANGES, **TABLE_GOAL_RANGES, "goal_z": (0.1, 0.25)}

    def sample_goal(
        self,
        rng: np.random.Generator,
        ranges: dict[str, tuple[float, float]],
        block_pos: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Draw a goal above the table, ``MIN_PICK_PLACE_DISTANCE_M`` or more from the block."""
        xy = sample_goal_xy(rng, ranges, block_pos, min_distance_m=MIN_PICK_PLACE_DISTANCE_M)
        return np.array([*xy, rng.uniform(*ranges["goal_z"])])

    def instruction(self, goal: NDArray[np.float64]) -> str:
        """Return e.g. "pick up the red block and hold it at the green target on the left"."""
        return f"pick up the red block and hold it at the green target {describe_place(goal)}"

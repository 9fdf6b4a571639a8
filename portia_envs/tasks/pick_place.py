"""Pick-and-place: lift the block and hold it at a goal in the air."""

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

MIN_PICK_PLACE_DISTANCE_M = 0.05


class PickPlaceTask(ArmTask):
    """Grasp the block and carry it so that its centre lies inside the goal sphere.

    Goals are 0.1 m or more above the table by default: every one needs the block lifted.
    """

    name = "pick_place"
    achieved = "block"
    approach = "block"
    approach_weight = 0.5
    keeps_on_table = ("block",)
    default_ranges = {**BLOCK_RANGES, **TABLE_GOAL_RANGES, "goal_z": (0.1, 0.25)}

    def draw(self, rng: np.random.Generator, ranges: dict[str, tuple[float, float]]) -> TaskSample:
        """Draw the block, then a goal above the table ``MIN_PICK_PLACE_DISTANCE_M`` away."""
        objects = default_objects()
        block = draw_block(rng, ranges, objects)
        xy = sample_goal_xy(rng, ranges, block, min_distance_m=MIN_PICK_PLACE_DISTANCE_M)
        goal = np.array([*xy, rng.uniform(*ranges["goal_z"])])
        return TaskSample(goal, block, parked_support_pose(), 0.0, objects)

    def instruction(self, goal: NDArray[np.float64], objects: NDArray[np.float64]) -> str:
        """Return e.g. "pick up the red block and hold it at the green target on the left"."""
        return (
            f"pick up the {block_name(objects)} and hold it at the green target "
            f"{describe_place(goal)}"
        )

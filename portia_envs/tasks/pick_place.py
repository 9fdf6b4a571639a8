"""Pick-and-place: lift the block and hold it at a goal in the air."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.tasks.base import ArmTask, describe_place, sample_table_goal

# Goal height range above the table (m): every goal needs the block lifted off the table.
PICK_PLACE_HEIGHT_M = (0.1, 0.25)
MIN_PICK_PLACE_DISTANCE_M = 0.05


class PickPlaceTask(ArmTask):
    """Grasp the block and carry it so that its centre lies inside the goal sphere."""

    name = "pick_place"
    moves_block = True
    approach_weight = 0.5

    def sample_goal(self, rng: np.random.Generator, block_pos: NDArray[np.float64]) -> NDArray:
        """Draw a goal above the table region, ``PICK_PLACE_HEIGHT_M`` high."""
        xy = sample_table_goal(rng, block_pos, min_distance_m=MIN_PICK_PLACE_DISTANCE_M)
        return np.array([*xy, rng.uniform(*PICK_PLACE_HEIGHT_M)])

    def instruction(self, goal: NDArray[np.float64]) -> str:
        """Return e.g. "pick up the red block and hold it at the green target on the left"."""
        return f"pick up the red block and hold it at the green target {describe_place(goal)}"

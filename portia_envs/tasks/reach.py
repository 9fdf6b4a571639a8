"""Reach: bring the gripper to a point in the air above the table."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.tasks.base import ArmTask, describe_place

# Goal region (m): x, y, z ranges.
REACH_REGION_M = ((0.28, 0.56), (-0.25, 0.25), (0.05, 0.3))


class ReachTask(ArmTask):
    """Move the grip site into the goal sphere. The block waits out of the way."""

    name = "reach"
    moves_block = False
    approach_weight = 0.0

    def sample_goal(self, rng: np.random.Generator, block_pos: NDArray[np.float64]) -> NDArray:
        """Draw a goal uniformly in ``REACH_REGION_M``."""
        return np.array([rng.uniform(low, high) for low, high in REACH_REGION_M])

    def instruction(self, goal: NDArray[np.float64]) -> str:
        """Return e.g. "move the gripper to the green target, high up on the far left"."""
        height = "high up" if goal[2] > 0.2 else "low down" if goal[2] < 0.12 else "mid-height"
        return f"move the gripper to the green target, {height} {describe_place(goal)}"

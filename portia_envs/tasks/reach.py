"""Reach: bring the gripper to a point in the air above the table."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.tasks.base import (
    ArmTask,
    TaskSample,
    describe_place,
    parked_block_pose,
    parked_support_pose,
)
from portia_envs.tasks.objects import default_objects


class ReachTask(ArmTask):
    """Move the grip site into the goal sphere. The objects wait out of the way."""

    name = "reach"
    achieved = "grip"
    default_ranges = {"goal_x": (0.28, 0.56), "goal_y": (-0.25, 0.25), "goal_z": (0.05, 0.3)}

    def draw(self, rng: np.random.Generator, ranges: dict[str, tuple[float, float]]) -> TaskSample:
        """Draw a goal uniformly in the ``goal_x``, ``goal_y``, ``goal_z`` box."""
        goal = np.array([rng.uniform(*ranges[key]) for key in ("goal_x", "goal_y", "goal_z")])
        return TaskSample(goal, parked_block_pose(), parked_support_pose(), 0.0, default_objects())

    def instruction(self, goal: NDArray[np.float64], objects: NDArray[np.float64]) -> str:
        """Return e.g. "move the gripper to the green target, high up on the far left"."""
        height = "high up" if goal[2] > 0.2 else "low down" if goal[2] < 0.12 else "mid-height"
        return f"move the gripper to the green target, {height} {describe_place(goal)}"

"""Slide: send a slippery block across the table to a goal beyond the arm's reach."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.tasks.base import BLOCK_RANGES, describe_side
from portia_envs.tasks.objects import block_name
from portia_envs.tasks.push import PushTask


class SlideTask(PushTask):
    """Push the block so that it slides on and comes to rest inside the goal sphere.

    Drawn and scored as ``push``, over other ranges: the block is slippery (friction
    0.1-0.2 against the table) and the goals lie 0.68-0.81 m from the arm's base, past where
    the gripper reaches at table height (about 0.6 m), so the block has to be let go at the
    right speed.
    """

    name = "slide"
    default_ranges = {
        **BLOCK_RANGES,
        "block_x": (0.3, 0.38),
        "block_y": (-0.1, 0.1),
        "block_friction": (0.1, 0.2),
        "goal_x": (0.68, 0.8),
        "goal_y": (-0.15, 0.15),
    }

    def instruction(self, goal: NDArray[np.float64], objects: NDArray[np.float64]) -> str:
        """Return e.g. "slide the red block to the green target far out on the left"."""
        side = describe_side(goal[1])
        where = "straight ahead" if side == "centre" else f"on the {side}"
        return f"slide the {block_name(objects)} to the green target far out {where}"

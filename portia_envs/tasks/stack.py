"""Stack: put the block on top of the support block."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.tasks.base import (
    BLOCK_RANGES,
    ArmTask,
    TaskSample,
    draw_block,
    sample_goal_xy,
)
from portia_envs.tasks.objects import OBJECT_PARAMS, block_name, default_objects

# The two blocks start at least this far apart (m, centre to centre).
MIN_STACK_DISTANCE_M = 0.1
STACK_RADIUS_M = 0.02
# The grip site must be this far (m) from the block's centre: the block was let go.
STACK_RELEASE_M = 0.05


class StackTask(ArmTask):
    """Place the block on the support block, centred within 2 cm, and let go of it.

    The goal is the point a block's half-size above the support's top, wherever the
    support is: it moves if the support is knocked. Pick-and-place's skills (grasp, lift,
    carry, let go) aimed at another object. Success needs the grip site 5 cm or more from
    the block's centre: a block held in place is not a stack.
    """

    name = "stack"
    achieved = "block"
    approach = "block"
    approach_weight = 0.5
    goal_on_support = True
    success_radius_m = STACK_RADIUS_M
    release_m = STACK_RELEASE_M
    keeps_on_table = ("block", "support")
    default_ranges = {
        **BLOCK_RANGES,
        "block_hue": (0.9, 1.1),
        "support_x": (0.32, 0.54),
        "support_y": (-0.2, 0.2),
        "support_yaw": (-np.pi / 4, np.pi / 4),
        "support_size": (0.02, 0.025),
        "support_hue": (0.5, 0.72),
    }

    def draw(self, rng: np.random.Generator, ranges: dict[str, tuple[float, float]]) -> TaskSample:
        """Draw the block, then the support block ``MIN_STACK_DISTANCE_M`` or more from it."""
        objects = default_objects()
        block = draw_block(rng, ranges, objects)
        xy = sample_goal_xy(
            rng,
            ranges,
            block,
            min_distance_m=MIN_STACK_DISTANCE_M,
            keys=("support_x", "support_y"),
        )
        yaw = rng.uniform(*ranges["support_yaw"])
        objects[OBJECT_PARAMS.index("support_parked")] = 0.0
        for key in ("support_size", "support_hue"):
            objects[OBJECT_PARAMS.index(key)] = rng.uniform(*ranges[key])
        size = objects[OBJECT_PARAMS.index("support_size")]
        support = np.array([*xy, size, yaw])
        goal = np.array([*xy, 2 * size + block[2]])
        return TaskSample(goal, block, support, 0.0, objects)

    def instruction(self, goal: NDArray[np.float64], objects: NDArray[np.float64]) -> str:
        """Return e.g. "stack the red block on the large blue block"."""
        return f"stack the {block_name(objects)} on the {block_name(objects, 'support')}"

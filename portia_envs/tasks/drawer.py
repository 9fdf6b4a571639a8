"""Drawer: pull the cabinet's drawer open, or push it shut, to a given opening."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from portia_envs.errors import InvalidParameterError
from portia_envs.scenes.tabletop import DRAWER_TRAVEL_M, HANDLE_CLOSED_OFFSET_M
from portia_envs.tasks.base import (
    SAMPLE_TRIES,
    ArmTask,
    TaskSample,
    describe_side,
    parked_block_pose,
    parked_support_pose,
)
from portia_envs.tasks.objects import OBJECT_PARAMS, default_objects

# The goal opening is at least this far (m) from the start opening.
MIN_DRAWER_MOVE_M = 0.05
DRAWER_RADIUS_M = 0.02
# At or below this goal opening (m) the instruction says "close".
CLOSED_M = 0.02


class DrawerTask(ArmTask):
    """Move the drawer's handle into the goal: the drawer open by ``drawer_goal`` m (+-2 cm).

    The cabinet stands on the table, its front facing the arm; the drawer starts open by
    ``drawer_start`` and slides with friction ``drawer_friction`` (N). By default it starts
    (nearly) shut and must be opened; swapping the two ranges makes it a closing task.
    """

    name = "drawer"
    achieved = "handle"
    approach = "handle"
    approach_weight = 0.5
    success_radius_m = DRAWER_RADIUS_M
    default_ranges = {
        "cabinet_x": (0.58, 0.62),
        "cabinet_y": (-0.15, 0.15),
        "drawer_start": (0.0, 0.02),
        "drawer_goal": (0.1, DRAWER_TRAVEL_M - 0.01),
        "drawer_friction": (0.5, 2.0),
    }

    def draw(self, rng: np.random.Generator, ranges: dict[str, tuple[float, float]]) -> TaskSample:
        """Draw the cabinet's place, the drawer's friction, and start and goal openings.

        Raises:
            ValueError: If ``drawer_start`` and ``drawer_goal`` leave no pair
                ``MIN_DRAWER_MOVE_M`` apart, or reach past the drawer's travel.
        """
        for key in ("drawer_start", "drawer_goal"):
            low, high = ranges[key]
            if low < 0 or high > DRAWER_TRAVEL_M:
                raise InvalidParameterError(
                    f"{key} must lie in [0, {DRAWER_TRAVEL_M}] m, got {(low, high)}"
                )
        objects = default_objects()
        for key in ("cabinet_x", "cabinet_y", "drawer_friction"):
            objects[OBJECT_PARAMS.index(key)] = rng.uniform(*ranges[key])
        objects[OBJECT_PARAMS.index("cabinet_z")] = 0.0
        for _ in range(SAMPLE_TRIES):
            start, goal = rng.uniform(*ranges["drawer_start"]), rng.uniform(*ranges["drawer_goal"])
            if abs(goal - start) >= MIN_DRAWER_MOVE_M:
                return TaskSample(
                    handle_goal(objects, goal),
                    parked_block_pose(),
                    parked_support_pose(),
                    float(start),
                    objects,
                )
        raise InvalidParameterError(
            f"drawer_start {ranges['drawer_start']} and drawer_goal {ranges['drawer_goal']} "
            f"leave no openings {MIN_DRAWER_MOVE_M} m apart"
        )

    def parameters(self, sample: TaskSample) -> dict[str, float]:
        """Return the drawn parameters; ``drawer_goal`` is the opening the goal stands for."""
        return super().parameters(sample) | {
            "drawer_goal": goal_opening(sample.goal, sample.objects)
        }

    def instruction(self, goal: NDArray[np.float64], objects: NDArray[np.float64]) -> str:
        """Return e.g. "open the drawer on the left to 12 cm" or "close the drawer"."""
        side = describe_side(objects[OBJECT_PARAMS.index("cabinet_y")])
        where = "" if side == "centre" else f" on the {side}"
        opening = goal_opening(goal, objects)
        if opening <= CLOSED_M:
            return f"close the drawer{where}"
        return f"open the drawer{where} to {100 * opening:.0f} cm"


def handle_goal(objects: NDArray[np.float64], opening_m: float) -> NDArray[np.float64]:
    """Return where the handle is (m, world frame) with the drawer open by ``opening_m``."""
    cabinet = objects[[OBJECT_PARAMS.index(f"cabinet_{axis}") for axis in "xyz"]]
    return cabinet + HANDLE_CLOSED_OFFSET_M - np.array([opening_m, 0.0, 0.0])


def goal_opening(goal: NDArray[np.float64], objects: NDArray[np.float64]) -> float:
    """Return the drawer opening (m) at which the handle is at ``goal``."""
    return float(handle_goal(objects, 0.0)[0] - goal[0])

"""Handover: the giver brings the block to the handoff zone, the taker carries it to the goal.

How an instance is drawn, the one-line instruction, each agent's observation layout and the
team's scores, as pure functions of arrays with a leading batch axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from portia_envs.scenes.handover import (
    HANDOFF_CENTER,
    HANDOFF_RADIUS_M,
    HANDOVER_TABLE_CENTER_X_M,
    HANDOVER_TABLE_HALF_M,
)
from portia_envs.scenes.tabletop import BLOCK_HALF_M
from portia_envs.tasks.layout import part_bounds, part_slices
from portia_envs.tasks.observation import ARM_N_JOINTS, SCENE_LAYOUT, body_layout

TASK_ID = "handover"
# Each parameter's range (uniform). An arm's grip site reaches at most 0.76 m from its
# shoulder (0.25 m above its base). The block starts on the giver's side (x, y in m, yaw in
# rad), over 0.83 m from the taker's shoulder: its fingertips cannot touch it. The goal
# (x, y, z in m) lies on the taker's side, over 0.85 m from the giver's shoulder: a block in
# the giver's hand stays farther than the success radius from it.
HANDOVER_RANGES: dict[str, tuple[float, float]] = {
    "block_x": (0.2, 0.3),
    "block_y": (-0.15, 0.15),
    "block_yaw": (-np.pi / 4, np.pi / 4),
    "goal_x": (0.85, 0.92),
    "goal_y": (-0.15, 0.15),
    "goal_z": (0.1, 0.2),
}
# Weight of each approach term (per m of grip-to-block distance).
APPROACH_WEIGHT = 0.5
# A block is off the table once its centre is beyond the table top's edges or below this
# height (m).
TABLE_TOP_X_M = (
    HANDOVER_TABLE_CENTER_X_M - HANDOVER_TABLE_HALF_M[0],
    HANDOVER_TABLE_CENTER_X_M + HANDOVER_TABLE_HALF_M[0],
)
TABLE_TOP_HALF_Y_M = HANDOVER_TABLE_HALF_M[1]
FELL_Z_M = -0.1
# The block counts as handed over once its centre is this close to the zone's centre line
# (x, m) or past it, towards the taker.
HANDED_OVER_X_M = HANDOFF_CENTER[0] - HANDOFF_RADIUS_M

# (name, size, bound) of each part of an agent's observation vector, in order; all in the
# world frame. Bounds are limits no state reaches (as in ``tasks.observation``). The arm's
# parts, then the block's (block_pos, block_quat, block_vel, block_angvel), are the arm env's.
HANDOVER_OBSERVATION_LAYOUT = (
    *body_layout(ARM_N_JOINTS),
    *SCENE_LAYOUT[:4],
    ("goal_pos", 3, 10.0),
    ("partner_grip_pos", 3, 10.0),
    ("partner_opening", 1, 10.0),
    ("handoff_pos", 3, 10.0),
    ("block_rel_pos", 3, 20.0),
    ("role", 2, 1.0),
)
HANDOVER_OBSERVATION_SIZE = sum(size for _, size, _ in HANDOVER_OBSERVATION_LAYOUT)
HANDOVER_OBSERVATION_BOUND = part_bounds(HANDOVER_OBSERVATION_LAYOUT)
# Each part's slice of the vector, by name.
HANDOVER_PARTS = part_slices(HANDOVER_OBSERVATION_LAYOUT)


@dataclass(frozen=True)
class HandoverSample:
    """One handover instance, drawn at reset.

    Attributes:
        block_pose: The block's start x, y, z (m) and yaw (rad), shape ``(4,)``.
        goal: The goal's centre, shape ``(3,)``, m.
    """

    block_pose: NDArray[np.float64]
    goal: NDArray[np.float64]

    def parameters(self) -> dict[str, float]:
        """Return the value drawn for each of ``HANDOVER_RANGES``' parameters."""
        x, y, _, yaw = self.block_pose
        values = (x, y, yaw, *self.goal)
        return {name: float(value) for name, value in zip(HANDOVER_RANGES, values, strict=True)}


class HandoverScores(NamedTuple):
    """The team's verdict on a batch of states; every field has shape ``(n,)``.

    Attributes:
        reward_distance: Minus the block-to-goal distance, m.
        reward_giver_approach: Until the block is handed over, minus ``APPROACH_WEIGHT``
            times the giver's grip-to-block distance (m); 0 after.
        reward_taker_approach: Once the block is handed over, minus ``APPROACH_WEIGHT``
            times the taker's grip-to-block distance (m); 0 before.
        handed_over: The block's centre has reached the handoff zone's centre line to
            within the zone's radius, or passed it (``HANDED_OVER_X_M``).
        is_success: The block's centre lies within the success radius of the goal.
        terminated: The block left the table top.
    """

    reward_distance: NDArray[np.float64]
    reward_giver_approach: NDArray[np.float64]
    reward_taker_approach: NDArray[np.float64]
    handed_over: NDArray[np.bool_]
    is_success: NDArray[np.bool_]
    terminated: NDArray[np.bool_]

    @property
    def reward(self) -> NDArray[np.float64]:
        """The team reward: the sum of the three terms."""
        return self.reward_distance + self.reward_giver_approach + self.reward_taker_approach


def sample_handover(rng: np.random.Generator) -> HandoverSample:
    """Draw a block start and a goal uniformly from ``HANDOVER_RANGES``.

    Args:
        rng: The env's random generator.

    Returns:
        The instance; the block rests on the table.
    """
    r = HANDOVER_RANGES
    block_x, block_y, yaw = (rng.uniform(*r[key]) for key in ("block_x", "block_y", "block_yaw"))
    goal = np.array([rng.uniform(*r[key]) for key in ("goal_x", "goal_y", "goal_z")])
    return HandoverSample(np.array([block_x, block_y, BLOCK_HALF_M, yaw]), goal)


def score_handover(
    block_pos: NDArray[np.float64],
    giver_grip: NDArray[np.float64],
    taker_grip: NDArray[np.float64],
    goal: NDArray[np.float64],
    radius_m: float,
) -> HandoverScores:
    """Score a batch of states.

    Args:
        block_pos: The block's centre, shape ``(n, 3)``, m.
        giver_grip: The giver's grip site, shape ``(n, 3)``, m.
        taker_grip: The taker's grip site, shape ``(n, 3)``, m.
        goal: The goal's centre, shape ``(3,)`` or ``(n, 3)``, m.
        radius_m: The success radius, m.

    Returns:
        The scores, each of shape ``(n,)``.
    """
    block_pos = np.asarray(block_pos, dtype=np.float64)
    distance = np.linalg.norm(block_pos - goal, axis=-1)
    handed_over = block_pos[:, 0] >= HANDED_OVER_X_M
    giver = np.linalg.norm(giver_grip - block_pos, axis=-1)
    taker = np.linalg.norm(taker_grip - block_pos, axis=-1)
    off_table = (
        (block_pos[:, 0] < TABLE_TOP_X_M[0])
        | (block_pos[:, 0] > TABLE_TOP_X_M[1])
        | (np.abs(block_pos[:, 1]) > TABLE_TOP_HALF_Y_M)
        | (block_pos[:, 2] < FELL_Z_M)
    )
    return HandoverScores(
        reward_distance=-distance,
        reward_giver_approach=np.where(handed_over, 0.0, -APPROACH_WEIGHT * giver),
        reward_taker_approach=np.where(handed_over, -APPROACH_WEIGHT * taker, 0.0),
        handed_over=handed_over,
        is_success=distance < radius_m,
        terminated=off_table,
    )


def handover_instruction(goal: NDArray[np.float64]) -> str:
    """Return the one-line instruction, e.g. "... holds it at the green target on its left".

    Sides are the taker's: it faces -x, so its left is -y.
    """
    side = "on its left" if goal[1] < -0.05 else "on its right" if goal[1] > 0.05 else "ahead"
    return (
        "hand the red block over: the giver sets it down on the yellow handoff disc, then "
        f"the taker picks it up and holds it at the green target {side}"
    )

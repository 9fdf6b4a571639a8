"""The scripted push expert: get behind the block, then push it through its centre to the goal."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from portia_envs.experts.ik import (
    ArmIK,
    Descent,
    come_down_over,
    hand_rotation,
    joint_action,
    observation_parts,
)

# The closed pads form the pusher: a 2.4 cm square post whose tips are 0.01 m below the
# grip site.
PUSHER_HALF_M = 0.012
# The fingertips lean this far (rad) towards the goal, so that the pads touch the block
# low, with their tips only: pushed above half its height, a block on this table tips.
PUSH_LEAN_RAD = 0.35
# Grip site height while pushing, m: the leaning pads' lowest edge skims 5 mm above the table.
PUSH_Z_M = 0.018
# Below this grip site height (m) the pusher is down at the block's level.
LOW_Z_M = 0.033
# Grip site height for moving over the block, m, and the height below which the pusher
# must not move sideways far: the pads' tips clear the block's top.
SAFE_Z_M = 0.09
CLEAR_Z_M = 0.07
# Distance (m) from the block's face to the grip when pushing: half the pusher, and how far
# the leaning tips reach ahead of the grip site.
CONTACT_M = PUSHER_HALF_M + 0.003
# Distance (m) behind the block centre where the pusher comes down: clear of the block's
# corners at any yaw.
BEHIND_M = 0.055
# Largest distance (m) from the point behind the block at which to come down there.
DESCEND_TOL_M = 0.008
# A push carries on while the grip is this close (m) to the line from the block through
# the goal, between coming down behind the block and touching it.
PUSH_LATERAL_TOL_M = 0.02
PUSH_AHEAD_M = (-BEHIND_M - 0.01, -0.02)
# Down, farther than this behind the block centre (m), where the pusher cannot touch it,
# and off the line by up to this much (m): slide onto the line.
SLIDE_AHEAD_M = -0.05
SLIDE_LATERAL_TOL_M = 0.04
# Below the clear height, the pusher moves sideways only this close (m) to the point behind
# the block, from where it cannot reach the block.
CLOSE_IN_M = 0.02
# How far (m) ahead of the contact point the grip is asked to go while pushing; the push
# slows to a stop as the block reaches the goal.
PUSH_LEAD_M = 0.02
# The block is left alone when its centre is this close (m) to the goal.
DONE_M = 0.02
# Longest grip move asked for per control period (m): moving freely, and pushing.
MOVE_STEP_M = 0.03
PUSH_STEP_M = 0.01
# Coming down behind the block: rising first where too low to pass over it.
DESCENT = Descent(
    down_z=PUSH_Z_M,
    safe_z=SAFE_Z_M,
    clear_z=CLEAR_Z_M,
    descend_tol_m=DESCEND_TOL_M,
    close_in_m=CLOSE_IN_M,
    move_step_m=MOVE_STEP_M,
    descend_step_m=MOVE_STEP_M,
)
CLOSED = 1.0


def push_expert(observation: Mapping[str, NDArray], ik: ArmIK) -> NDArray[np.float32]:
    """Return the push expert's action for one observation (stateless).

    The gripper stays closed, its pads a pusher. With the pusher low behind the block on
    the line from the block through the goal, it pushes along that line; otherwise it rises,
    moves over to a point behind the block at a safe height and comes down there. As the
    line is recomputed from the block's position every step, a block that drifts off the
    line turns the push, or (drifting further) sends the pusher round to re-approach.

    Args:
        observation: An ``ArmEnv`` observation dict.
        ik: Inverse kinematics for the env's model.

    Returns:
        The action, shape ``(7,)``, values in [-1, 1].
    """
    parts = observation_parts(observation)
    joints, grip = parts["joint_pos"], parts["grip_pos"]
    block, goal = parts["block_pos"][:2], parts["desired_goal"][:2]
    to_goal = goal - block
    distance = float(np.linalg.norm(to_goal))
    if distance < DONE_M:
        # Stay put: turning or lifting the pusher here would knock the block off the goal.
        return joint_action(joints, CLOSED)

    along = to_goal / distance
    # The palm's short side leads, so that the leaning hand's palm stays clear of the block.
    yaw = ik.aligned_yaw(joints, float(np.arctan2(along[1], along[0])) + np.pi / 2, np.pi)
    rotation = hand_rotation(yaw, PUSH_LEAN_RAD * along)
    target, step = push_target(grip, block, along, distance, float(parts["block_size"][0]))
    return ik.action(joints, grip, target, rotation, gripper=CLOSED, max_step_m=step)


def push_target(
    grip: NDArray[np.float64],
    block: NDArray[np.float64],
    along: NDArray[np.float64],
    distance_m: float,
    block_half_m: float,
) -> tuple[NDArray[np.float64], float]:
    """Return where the pusher heads this step and how far it may move there.

    Low behind the block on the line from the block through the goal, it pushes along that
    line; low and clear behind the block, it slides onto the line; otherwise it rises,
    moves over a point behind the block and comes down there.

    Args:
        grip: The grip site, shape ``(3,)``, m.
        block: The block's centre on the table, x and y, shape ``(2,)``, m.
        along: The unit direction from the block to the goal, shape ``(2,)``.
        distance_m: The block's distance from the goal, m.
        block_half_m: The block's half-size, m.

    Returns:
        The grip site's target, shape ``(3,)``, m, and the longest move towards it in one
        control period, m.
    """
    across = np.array([-along[1], along[0]])
    offset = grip[:2] - block
    ahead, lateral = float(offset @ along), abs(float(offset @ across))
    low = grip[2] < LOW_Z_M
    behind = block - BEHIND_M * along
    if low and lateral < PUSH_LATERAL_TOL_M and PUSH_AHEAD_M[0] < ahead < PUSH_AHEAD_M[1]:
        lead = min(distance_m, PUSH_LEAD_M)
        contact = block_half_m + CONTACT_M
        return np.append(block + (lead - contact) * along, PUSH_Z_M), PUSH_STEP_M
    if low and ahead < SLIDE_AHEAD_M and lateral < SLIDE_LATERAL_TOL_M:
        # Clear of the block, behind it: slide onto the line at pushing height.
        return np.append(behind, PUSH_Z_M), PUSH_STEP_M
    return come_down_over(grip, behind, DESCENT)

"""The scripted pick-and-place expert: grasp the block from above, carry it to the goal, hold."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from portia_envs.experts.ik import ArmIK, hand_rotation, observation_parts

# Grip site height above the block centre when grasping, m. The fingertips reach 0.01 m
# below the site, so they stop 1 cm above the table and the pads cover most of the sides.
GRASP_HEIGHT_M = 0.0
# Grip site height above the block centre before descending, m: the open fingertips clear
# the block's top.
PREGRASP_HEIGHT_M = 0.08
# Largest horizontal grip-to-block error (m) at which to descend, and below which the
# gripper holds still and closes (with the grip this close in height, m, to grasping).
DESCEND_XY_TOL_M = 0.012
GRASP_XY_TOL_M = 0.006
GRASP_Z_TOL_M = 0.006
# Largest yaw error (rad) between fingers and block faces at which to descend.
DESCEND_YAW_TOL_RAD = 0.2
# Finger opening (m, per finger) relative to the block's half-size that means the block is
# between the pads and squeezed: the pads touch the block at its half-size and meet at 0.
HELD_FINGER_M = (-0.008, 0.01)
# Slower than this (m/s) the fingers have finished closing.
SETTLED_FINGER_SPEED = 0.05
# Block-to-grip offsets (m) compatible with a block held between the pads.
HELD_XY_TOL_M = 0.02
HELD_Z_RANGE_M = (-0.035, 0.02)
# Height (m) to lift the block's centre to before carrying it sideways, unless the goal
# is this close (m) straight above.
LIFT_HEIGHT_M = 0.07
ABOVE_GOAL_M = 0.02
# Below the pre-grasp height by this much (m), and farther than this (m) from above the
# block, the gripper rises before moving sideways.
CLEAR_DROP_M = 0.02
CLOSE_IN_M = 0.024
# Longest grip move asked for per control period (m) when moving freely, descending onto the
# block, and carrying it.
MOVE_STEP_M = 0.03
DESCEND_STEP_M = 0.015
CARRY_STEP_M = 0.025
OPEN, CLOSED = -1.0, 1.0


def pick_place_expert(observation: Mapping[str, NDArray], ik: ArmIK) -> NDArray[np.float32]:
    """Return the pick-and-place expert's action for one observation (stateless).

    Which phase to act in is read off the observation: a block squeezed between the pads is
    lifted, carried so that its centre lies at the goal, and held there; otherwise the open
    gripper goes above the block with its fingers square to the block's faces, descends,
    and closes once it is in place.

    Args:
        observation: An ``ArmEnv`` observation dict.
        ik: Inverse kinematics for the env's model.

    Returns:
        The action, shape ``(7,)``, values in [-1, 1].
    """
    return pick_place_action(observation_parts(observation), ik)


def pick_place_action(parts: Mapping[str, NDArray[np.float64]], ik: ArmIK) -> NDArray[np.float32]:
    """Return the pick-and-place expert's action for an observation split into named parts.

    What ``pick_place_expert`` does, for any env that observes the same quantities (the
    handover env's arms, say).

    Args:
        parts: The arm's ``joint_pos`` (6, rad), ``grip_pos`` (3, m), ``finger_pos`` (2, m)
            and ``finger_vel`` (2, m/s); the block's ``block_pos`` (3, m), ``block_quat``
            (4) and ``block_size`` (half-size, m); ``desired_goal`` (3, m), where the
            block's centre should end up. Positions in the world frame.
        ik: Inverse kinematics for the arm.

    Returns:
        The action, shape ``(7,)``, values in [-1, 1].
    """
    joints, grip = parts["joint_pos"], parts["grip_pos"]
    block, goal = parts["block_pos"], parts["desired_goal"]
    hand_yaw = ik.hand_yaw(joints)
    if held(parts):
        rel = block - grip
        if np.any(np.abs(parts["finger_vel"]) > SETTLED_FINGER_SPEED):
            # Still squeezing: lifting now would let the block slip.
            target = grip
        elif block[2] < LIFT_HEIGHT_M and np.linalg.norm(goal[:2] - block[:2]) > ABOVE_GOAL_M:
            # Aim a centimetre higher, so that the bounded steps do not stall short of it.
            target = grip + [0.0, 0.0, LIFT_HEIGHT_M + 0.01 - block[2]]
        else:
            target = goal - rel
        return ik.action(
            joints, grip, target, hand_rotation(hand_yaw), gripper=CLOSED, max_step_m=CARRY_STEP_M
        )

    # A cube looks the same every quarter turn: turn the fingers the least way to its faces.
    yaw = ik.aligned_yaw(joints, block_yaw(parts["block_quat"]), np.pi / 2)
    rotation = hand_rotation(yaw)
    xy_error = float(np.linalg.norm(block[:2] - grip[:2]))
    grasp = np.array([block[0], block[1], block[2] + GRASP_HEIGHT_M])
    if (
        xy_error < GRASP_XY_TOL_M
        and abs(grip[2] - grasp[2]) < GRASP_Z_TOL_M
        and abs(yaw - hand_yaw) < DESCEND_YAW_TOL_RAD
    ):
        return ik.action(joints, grip, grasp, rotation, gripper=CLOSED, max_step_m=DESCEND_STEP_M)
    if xy_error < DESCEND_XY_TOL_M and abs(yaw - hand_yaw) < DESCEND_YAW_TOL_RAD:
        return ik.action(joints, grip, grasp, rotation, gripper=OPEN, max_step_m=DESCEND_STEP_M)
    above = np.array([block[0], block[1], block[2] + PREGRASP_HEIGHT_M])
    if grip[2] < above[2] - CLEAR_DROP_M and xy_error > CLOSE_IN_M:
        # Too low to move sideways without knocking the block: rise first.
        above[:2] = grip[:2]
    return ik.action(joints, grip, above, rotation, gripper=OPEN, max_step_m=MOVE_STEP_M)


def block_yaw(block_quat: NDArray[np.float64]) -> float:
    """Return the yaw (rad) of the block's most horizontal axis, from its (w, x, y, z) quat."""
    w, x, y, z = block_quat
    axes = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)],
            [2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)],
            [2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
    axis = axes[np.argmin(np.abs(axes[:, 2]))]
    return float(np.arctan2(axis[1], axis[0]))


def held(parts: Mapping[str, NDArray[np.float64]]) -> bool:
    """Return whether the block sits squeezed between the closed pads."""
    rel = parts["block_pos"] - parts["grip_pos"]
    fingers = parts["finger_pos"] - parts["block_size"]
    return bool(
        np.linalg.norm(rel[:2]) < HELD_XY_TOL_M
        and HELD_Z_RANGE_M[0] < rel[2] < HELD_Z_RANGE_M[1]
        and np.all((HELD_FINGER_M[0] < fingers) & (fingers < HELD_FINGER_M[1]))
    )

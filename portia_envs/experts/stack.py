"""The scripted stack expert: pick the block up, lower it onto the support block, let go, rise."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from portia_envs.experts.ik import ArmIK, hand_rotation, nearest_yaw, observation_parts
from portia_envs.experts.pick_place import (
    CARRY_STEP_M,
    CLOSED,
    OPEN,
    SETTLED_FINGER_SPEED,
    block_yaw,
    held,
    pick_place_expert,
)

# Height (m) of the held block's centre above the goal while it is carried over the support:
# its bottom clears the support's top by this much.
CARRY_CLEARANCE_M = 0.02
# Largest horizontal block-to-goal error (m) and yaw error between the block's and the
# support's faces (rad) at which to lower the block onto the support.
LOWER_XY_TOL_M = 0.006
LOWER_YAW_TOL_RAD = 0.1
# The lowered block is aimed this far (m) below the goal, so that the bounded steps press it
# onto the support instead of stalling just short of it.
PRESS_M = 0.01
# A held block lower than half the carry clearance above the goal is lifted straight up,
# aimed this far (m) above the carry height, so that the bounded steps do not stall short.
LIFT_OVERSHOOT_M = 0.01
# Held this close (m) above the goal, or lower, the block rests on the support: let go.
SEATED_M = 0.003
# A block not held, this close to the goal (m, horizontally and vertically), has been put
# on the support.
PLACED_XY_TOL_M = 0.015
PLACED_Z_TOL_M = 0.008
# Opening (m, per finger) beyond the block's half-size at which the pads are clear of the
# block's sides and the hand may rise.
RELEASED_FINGER_M = 0.01
# Height (m) of the grip site above the goal where the hand waits once the block is placed.
RETREAT_HEIGHT_M = 0.1
# Longest grip move asked for per control period (m) when lowering the block onto the
# support, and when rising clear of the stack.
LOWER_STEP_M = 0.01
RETREAT_STEP_M = 0.02


def stack_expert(observation: Mapping[str, NDArray], ik: ArmIK) -> NDArray[np.float32]:
    """Return the stack expert's action for one observation (stateless).

    Which phase to act in is read off the observation. A block squeezed between the pads is
    lifted, carried above the support with its faces turned square to the support's, lowered
    until it rests on the support, and let go. Once it rests there unheld, the gripper opens
    fully, then rises straight up and waits. Otherwise the pick-and-place expert grasps it.

    Args:
        observation: An ``ArmEnv`` observation dict.
        ik: Inverse kinematics for the env's model.

    Returns:
        The action, shape ``(7,)``, values in [-1, 1].
    """
    parts = observation_parts(observation)
    joints, grip = parts["joint_pos"], parts["grip_pos"]
    block, goal = parts["block_pos"], parts["desired_goal"]
    hand_yaw = ik.hand_yaw(joints)
    is_held = held(parts)
    if not is_held and _placed(block, goal):
        target = grip
        if np.all(parts["finger_pos"] - parts["block_size"] > RELEASED_FINGER_M):
            target = np.array([grip[0], grip[1], goal[2] + RETREAT_HEIGHT_M])
        return ik.action(
            joints, grip, target, hand_rotation(hand_yaw), gripper=OPEN, max_step_m=RETREAT_STEP_M
        )
    if not is_held:
        return pick_place_expert(observation, ik)

    rel = block - grip
    # Turn the hand by the least turn that squares the block's faces with the support's.
    turn = nearest_yaw(
        block_yaw(parts["support_quat"]) - block_yaw(parts["block_quat"]), 0.0, np.pi / 2
    )
    yaw = ik.aligned_yaw(joints, hand_yaw + turn, np.pi / 2)
    rotation = hand_rotation(yaw)
    xy_error = float(np.linalg.norm(goal[:2] - block[:2]))
    gripper, step = CLOSED, CARRY_STEP_M
    if np.any(np.abs(parts["finger_vel"]) > SETTLED_FINGER_SPEED):
        # Still squeezing: lifting now would let the block slip.
        target = grip
    elif xy_error < LOWER_XY_TOL_M and abs(turn) < LOWER_YAW_TOL_RAD:
        if block[2] < goal[2] + SEATED_M:
            target, gripper = grip, OPEN
        else:
            target, step = goal - rel - [0.0, 0.0, PRESS_M], LOWER_STEP_M
    elif block[2] < goal[2] + CARRY_CLEARANCE_M / 2:
        # Too low to move sideways without knocking the support: lift first.
        height = goal[2] + CARRY_CLEARANCE_M + LIFT_OVERSHOOT_M
        target = grip + [0.0, 0.0, height - block[2]]
    else:
        target = goal - rel + [0.0, 0.0, CARRY_CLEARANCE_M]
    return ik.action(joints, grip, target, rotation, gripper=gripper, max_step_m=step)


def _placed(block: NDArray[np.float64], goal: NDArray[np.float64]) -> bool:
    """Return whether the block's centre is where a block resting on the support would be."""
    return bool(
        np.linalg.norm(block[:2] - goal[:2]) < PLACED_XY_TOL_M
        and abs(block[2] - goal[2]) < PLACED_Z_TOL_M
    )

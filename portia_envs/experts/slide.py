"""The scripted slide expert: push the block up to speed, then let it slide on into the goal.

The goal lies beyond the arm's reach, so the block has to be let go moving. A block sliding
freely at speed ``v`` stops after ``v**2 / (2 * mu * g)``; the expert pushes the block along
the line to the goal until its speed is the one that would stop it at the goal, or until
the pusher runs out of reach, and then lifts the pusher off. The friction ``mu`` is not
observed: the expert assumes the value that keeps the relative error of the stopping
distance smallest over the task's range, so pushing the block as close to the goal as the
arm reaches keeps the error small.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from portia_envs.embodiments.arm import FINGER_OPEN_M
from portia_envs.envs.arm import N_SUBSTEPS
from portia_envs.experts.ik import ArmIK, hand_rotation, joint_action, observation_parts
from portia_envs.experts.push import (
    CLEAR_Z_M,
    CONTACT_M,
    DONE_M,
    PUSH_AHEAD_M,
    PUSH_LATERAL_TOL_M,
    PUSH_LEAN_RAD,
    PUSH_Z_M,
    SAFE_Z_M,
    push_expert,
)
from portia_envs.scenes.tabletop import TIMESTEP_S

GRAVITY_M_S2 = 9.81
CONTROL_PERIOD_S = TIMESTEP_S * N_SUBSTEPS
# The block's friction against the table that the expert assumes. The task draws it from
# 0.1-0.2; a block sent off at the speed that stops it at the goal with friction mu' stops
# mu' / mu of the way there, and 2 / (1 / 0.1 + 1 / 0.2) makes that ratio at most a third
# off either way.
ASSUMED_FRICTION = 0.1333
# Distance of the block's centre from the base (m) at which the pusher lets go however fast
# the block is: the grip is then about 0.62 m out, with room left to stop before the arm's
# reach (about 0.66 m at table height, the fingertips leaning).
RELEASE_RADIUS_M = 0.66
# The block is pushed up to the speed that would stop it at the goal from this far (m)
# before the release point, so that it reaches that speed, and is let go, just before the
# pusher runs out of reach.
RELEASE_MARGIN_M = 0.01
# The pusher lets go once the block is this close (a fraction) to the speed that stops it at
# the goal: each hit of the pads raises the speed by a step.
RELEASE_SPEED_TOL = 0.03
# The push speeds up gradually while the block travels from this far (m) from the release
# point to this far, so that the pads keep up with the block instead of knocking it ahead.
RAMP_START_M = 0.3
RAMP_END_M = 0.08
# Speed (m/s) of the push while it starts and until the hand has turned square to the line
# and centred on it, and the largest rise in speed (m/s) asked for per control period in
# that time.
SLOW_SPEED = 0.15
SPEED_STEP = 0.1
# Largest yaw error (rad) of the hand, and largest offset (m) of the grip from the line, at
# which the push speeds up.
ALIGN_TOL_RAD = 0.1
CENTRE_TOL_M = 0.006
# The block's speed along the push per unit of grip speed asked for, measured by the grip's
# distance from the base (m). The position servos overshoot each control period's target,
# more so as the arm stretches: near the base the pads strike the block slower than the grip
# is asked to move, stretched out faster.
SPEED_GAIN_RADII_M = (0.36, 0.39, 0.42, 0.45, 0.48, 0.51, 0.54, 0.57, 0.60, 0.63)
SPEED_GAINS = (0.83, 0.855, 0.855, 0.869, 0.973, 1.043, 1.128, 1.216, 1.351, 1.458)
# Below this grip site height (m) the pusher is down at the block: the push lifts it a
# little as the arm stretches.
PUSH_LOW_Z_M = 0.045
# Coming down behind a block at rest, the pusher waits until it is this close (m) above its
# pushing height.
SETTLE_M = 0.008
# While pushing, the grip is aimed this many times its height error past the pushing height:
# the servos lag, and the hand rises as the arm stretches.
HEIGHT_GAIN = 1.0
# Farther than this (m) from touching the block, the pusher moves onto the line to the goal;
# touching it, it corrects this fraction of its offset from the line per control period.
TOUCH_M = 0.005
LATERAL_GAIN = 0.3
# A push carries on while the pusher is this far (m) behind the block, and, with the block
# faster than the slow speed, this far off the line.
CHASE_M = 0.15
FAST_LATERAL_TOL_M = 0.03
# Half-width (m) of a finger pad across the closing axis. The pads are opened so that
# together they span the block's face, which keeps the block from turning on them.
PAD_HALF_WIDTH_M = 0.006
# Letting go, the pusher backs this far (m) away from the block while rising, at most this
# far (m) per control period, and keeps its orientation: turning the leaning pads would drag
# the block.
RETREAT_M = 0.02
RISE_STEP_M = 0.03


def slide_expert(observation: Mapping[str, NDArray], ik: ArmIK) -> NDArray[np.float32]:
    """Return the slide expert's action for one observation (stateless).

    The push expert brings the pusher down behind the block on the line to the goal. From
    there the pads, opened to span the block's face, push along the line: slowly until
    the hand is square to the line and centred on it, then faster as the block nears the
    release point, up to the speed that stops the block at the goal. Once the block is that
    fast, or the pusher would run out of reach, the pusher lifts away and the block slides
    on by itself.

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
    gripper = pads_gripper(float(parts["block_size"][0]))
    if distance < DONE_M:
        # Stay put: moving the pusher here could knock the block off the goal.
        return joint_action(joints, gripper)

    along = to_goal / distance
    speed = float(parts["block_vel"][:2] @ along)
    remaining = release_distance(block, along)
    if remaining <= 0.0 or speed >= (1.0 - RELEASE_SPEED_TOL) * stopping_speed(distance):
        return let_go(joints, grip, block, gripper, ik)

    across = np.array([-along[1], along[0]])
    offset = grip[:2] - block
    ahead, lateral = float(offset @ along), float(offset @ across)
    lateral_tol = FAST_LATERAL_TOL_M if speed > SLOW_SPEED else PUSH_LATERAL_TOL_M
    pushing = -CHASE_M < ahead < PUSH_AHEAD_M[1] and abs(lateral) < lateral_tol
    if grip[2] >= PUSH_LOW_Z_M or not pushing:
        return push_expert(observation, ik)

    heading = float(np.arctan2(along[1], along[0]))
    yaw = ik.aligned_yaw(joints, heading + np.pi / 2, np.pi)
    hand_error = abs(wrap(ik.hand_yaw(joints) - heading - np.pi / 2, np.pi))
    aligned = hand_error < ALIGN_TOL_RAD and abs(lateral) < CENTRE_TOL_M
    gap = -ahead - float(parts["block_size"][0]) - CONTACT_M
    wanted = push_speed(distance, remaining, speed, aligned, gap < TOUCH_M)
    if grip[2] > PUSH_Z_M + SETTLE_M and speed < SLOW_SPEED:
        # Still coming down: the leaning pads would strike the block's top edge.
        wanted = 0.0
    gain = float(np.interp(np.linalg.norm(grip[:2]), SPEED_GAIN_RADII_M, SPEED_GAINS))
    waypoint = grip[:2] + CONTROL_PERIOD_S * wanted / gain * along
    # Clear of the block the pusher can move straight onto the line; touching it, a sideways
    # move drags the block along, so it closes in on the line gradually, between hits.
    waypoint -= (1.0 if gap > TOUCH_M else LATERAL_GAIN) * lateral * across
    height = PUSH_Z_M + HEIGHT_GAIN * (PUSH_Z_M - grip[2])
    rotation = hand_rotation(yaw, PUSH_LEAN_RAD * along)
    # The waypoint is already one control period's move: no further bound on its length.
    return ik.action(
        joints, grip, np.append(waypoint, height), rotation, gripper=gripper, max_step_m=np.inf
    )


def push_speed(
    distance: float, remaining: float, speed: float, aligned: bool, touching: bool
) -> float:
    """Return the block speed (m/s) that the next control period's push aims for.

    Args:
        distance: The block's distance from the goal, m.
        remaining: The block's distance from the release point, m.
        speed: The block's speed along the line to the goal, m/s.
        aligned: Whether the hand is square to the line and centred on it.
        touching: Whether the pusher touches the block.

    Returns:
        The speed, m/s: that which stops the block at the goal from just before the release
        point, ramped up as the block nears the release point, and never more than that which
        stops it at the goal from where it is.
    """
    target = min(stopping_speed(distance - remaining + RELEASE_MARGIN_M), stopping_speed(distance))
    if not (aligned or speed > SLOW_SPEED):
        target = SLOW_SPEED
    ramp = float(np.clip((RAMP_START_M - remaining) / (RAMP_START_M - RAMP_END_M), 0.0, 1.0))
    target = min(target, max(SLOW_SPEED, ramp * target))
    if speed < SLOW_SPEED and touching:
        # Starting off: speed up by steps, or the first hit sends the block off ahead.
        return min(target, max(speed, 0.0) + SPEED_STEP)
    return target


def let_go(
    joints: NDArray[np.float64],
    grip: NDArray[np.float64],
    block: NDArray[np.float64],
    gripper: float,
    ik: ArmIK,
) -> NDArray[np.float32]:
    """Return the action that lifts the pusher off the block and stops it there.

    Args:
        joints: Arm joint angles, shape ``(6,)``, rad.
        grip: Grip site position, shape ``(3,)``, m.
        block: The block's position on the table, shape ``(2,)``, m.
        gripper: Gripper command to hold, -1 open to +1 closed.
        ik: Inverse kinematics for the env's model.

    Returns:
        The action, shape ``(7,)``, values in [-1, 1].
    """
    target = np.append(grip[:2], SAFE_Z_M)
    away = grip[:2] - block
    if grip[2] < CLEAR_Z_M and np.any(away):
        target[:2] += RETREAT_M * away / float(np.linalg.norm(away))
    _, rotation = ik.grip_pose(joints)
    return ik.action(joints, grip, target, rotation, gripper=gripper, max_step_m=RISE_STEP_M)


def pads_gripper(block_half_size: float) -> float:
    """Return the gripper command that opens the pads to span a block face of a half-size (m)."""
    opening = max(block_half_size - 2.0 * PAD_HALF_WIDTH_M, 0.0)
    return 1.0 - 2.0 * opening / FINGER_OPEN_M


def stopping_speed(distance: float) -> float:
    """Return the speed (m/s) at which a block with the assumed friction stops after distance m."""
    return float(np.sqrt(2.0 * ASSUMED_FRICTION * GRAVITY_M_S2 * max(distance, 0.0)))


def release_distance(block: NDArray[np.float64], along: NDArray[np.float64]) -> float:
    """Return how far (m) the block is from where its line to the goal leaves the release radius.

    Args:
        block: The block's position on the table, shape ``(2,)``, m.
        along: Unit vector from the block towards the goal, shape ``(2,)``.

    Returns:
        The distance along the line, m; at most 0 once the block is beyond the radius.
    """
    if float(np.linalg.norm(block)) >= RELEASE_RADIUS_M:
        return 0.0
    reach = float(block @ along)
    return -reach + float(np.sqrt(reach**2 - float(block @ block) + RELEASE_RADIUS_M**2))


def wrap(angle: float, period: float) -> float:
    """Return the angle equivalent to ``angle`` modulo ``period`` in [-period / 2, period / 2)."""
    return (angle + period / 2) % period - period / 2

"""The scripted drawer expert: hook the closed pads behind the bar to pull, push it to close."""

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
from portia_envs.scenes.tabletop import HANDLE_RADIUS_M

# The closed pads form a 2.4 cm square post whose tips are 0.01 m below the grip site.
PAD_HALF_M = 0.012
# Grip site x relative to the bar's centre (m) where the pads come down: behind the bar, in
# the 4.2 cm gap between it and the drawer's front (6 mm from the bar, 12 mm from the front),
# to pull; in front of the bar, to push.
PULL_SLOT_M = 0.026
PUSH_SLOT_M = -0.035
# Grip site x relative to the bar's centre (m) with the pads touching the bar, pulling or
# pushing.
PULL_CONTACT_M = HANDLE_RADIUS_M + PAD_HALF_M
PUSH_CONTACT_M = -PULL_CONTACT_M
# Ranges of grip site x relative to the bar's centre (m) where the pads, down, engage it,
# with a few millimetres of slack: pulling, anywhere in the gap (the pads touch the bar at
# 0.02 and the drawer's front at 0.038); pushing, from touching the bar to 4 cm before it.
PULL_ENGAGED_M = (0.015, 0.045)
PUSH_ENGAGED_M = (-0.06, -0.015)
# Grip site height (m) where the pads come down to: their tips 4 mm below the bar's centre,
# and the palm (from 5.6 cm above the grip site) just above the cabinet's top (12 cm). The
# palm reaches 2 cm either side of the grip site along the drawer, so over the slot of a
# shut drawer it ends 4 mm short of the cabinet: a little off, lower, it would catch there.
SLOT_Z_M = 0.066
# Grip site height while moving the drawer, m: the pads span 5 to 11 cm, across the whole
# bar (5.2 to 6.8 cm), and the palm (from 11.6 cm) clears the drawer's front (11 cm).
ENGAGE_Z_M = 0.06
# Below this grip site height (m) the pads' tips are below the bar's centre.
LOW_Z_M = 0.07
# The pads stay engaged this close (m) to the bar's centre across the drawer: the posts
# stand 5 cm either side of it.
ENGAGED_LATERAL_TOL_M = 0.025
# Grip site height for moving over the cabinet, m, and the height below which the pads must
# not move sideways far: their tips clear the cabinet's top (12 cm).
SAFE_Z_M = 0.16
CLEAR_Z_M = 0.14
# Largest horizontal distance (m) from above the slot at which to come down there.
DESCEND_TOL_M = 0.008
# Below the clear height, the pads move sideways only this close (m) to above the slot.
CLOSE_IN_M = 0.02
# The drawer is left alone when the handle is this close (m, along the drawer) to the goal.
DONE_M = 0.005
# Longest grip move asked for per control period (m): moving freely, coming down, and moving
# the drawer.
MOVE_STEP_M = 0.03
DESCEND_STEP_M = 0.02
DRAG_STEP_M = 0.01
# Near the goal, the drawer moves at most this fraction of its distance to the goal per
# control period, but at least DRAG_MIN_STEP_M: let go of at full speed (0.25 m/s), the
# drawer coasts on by about a centimetre.
DRAG_SLOWDOWN = 0.25
DRAG_MIN_STEP_M = 0.002
# Coming down into the slot: rising first where too low to pass over the bar or cabinet.
DESCENT = Descent(
    down_z=SLOT_Z_M,
    safe_z=SAFE_Z_M,
    clear_z=CLEAR_Z_M,
    descend_tol_m=DESCEND_TOL_M,
    close_in_m=CLOSE_IN_M,
    move_step_m=MOVE_STEP_M,
    descend_step_m=DESCEND_STEP_M,
)
# Yaw of the fingers' closing axis (rad): along the bar, so that the palm's narrow side
# fits between the bar and the cabinet.
ALONG_BAR_YAW_RAD = np.pi / 2
CLOSED = 1.0


def drawer_expert(observation: Mapping[str, NDArray], ik: ArmIK) -> NDArray[np.float32]:
    """Return the drawer expert's action for one observation (stateless).

    The gripper stays closed, its pads a hook. To open the drawer, the pads come down from
    above into the gap between the bar and the drawer's front and pull the bar towards the
    arm (-x) until the handle reaches the goal; to close it, they come down in front of the
    bar and push it away. Pads down but on the wrong side of the bar (after an overshoot)
    rise, move over and come down on the right side. Within ``DONE_M`` of the goal the arm
    holds still.

    Args:
        observation: An ``ArmEnv`` observation dict.
        ik: Inverse kinematics for the env's model.

    Returns:
        The action, shape ``(7,)``, values in [-1, 1].
    """
    parts = observation_parts(observation)
    joints, grip = parts["joint_pos"], parts["grip_pos"]
    handle, goal = parts["handle_pos"], parts["desired_goal"]
    error = float(handle[0] - goal[0])
    if abs(error) < DONE_M:
        # Stay put: moving the pads now would drag the drawer off the goal.
        return joint_action(joints, CLOSED)

    pull = error > 0.0
    slot_m, contact_m = (PULL_SLOT_M, PULL_CONTACT_M) if pull else (PUSH_SLOT_M, PUSH_CONTACT_M)
    engaged_low, engaged_high = PULL_ENGAGED_M if pull else PUSH_ENGAGED_M
    rotation = hand_rotation(ik.aligned_yaw(joints, ALONG_BAR_YAW_RAD, np.pi))
    ahead = float(grip[0] - handle[0])
    lateral = abs(float(grip[1] - handle[1]))
    slot = np.array([handle[0] + slot_m, handle[1]])
    if grip[2] < LOW_Z_M and lateral < ENGAGED_LATERAL_TOL_M and engaged_low < ahead < engaged_high:
        target = np.array([goal[0] + contact_m, handle[1], ENGAGE_Z_M])
        step = float(np.clip(DRAG_SLOWDOWN * abs(error), DRAG_MIN_STEP_M, DRAG_STEP_M))
    else:
        target, step = come_down_over(grip, slot, DESCENT)
    return ik.action(joints, grip, target, rotation, gripper=CLOSED, max_step_m=step)

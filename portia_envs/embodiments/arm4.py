"""A four-hinge arm with the two-finger parallel gripper, its link lengths a parameter.

The arm has a base yaw and three pitch hinges in one vertical plane, and no roll: the
fingers always close along the arm's own plane, and the hand can point down (or lean in that
plane) but not turn. Its links are longer than the six-joint arm's and its hand shorter; the
lengths are data (``Arm4Lengths``), so a held-out body is a named set of lengths
(``ARM4_BODIES``).

At zero joint angles the arm points straight up; every link extends along its own +z axis.
Positive pitch tilts a link towards +x. The home pose holds the gripper pointing down above
the middle of the workspace, at ``HOME_GRIP_POS_M`` whatever the lengths.

Named elements (look them up by name, never by index), as on the six-joint arm:
    joints      base_yaw, shoulder_pitch, elbow_pitch, wrist_pitch (hinges, rad);
                finger_left, finger_right (slides, m: 0 closed, 0.04 open)
    actuators   one position servo per joint, same names (two for the fingers, one command)
    sites       grip (between the finger pads; the end effector)
    sensors     joint_pos_*, joint_vel_*, finger_pos_*, finger_vel_*, grip_pos, grip_vel
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from types import MappingProxyType

import mujoco
import numpy as np
from numpy.typing import NDArray

from portia_envs.embodiments.arm import (
    JOINT_RGBA,
    PALM_TO_GRIP_M,
    add_capsule,
    add_gripper,
    add_hinge_link,
    add_plinth,
    add_servos_and_sensors,
    joints_and_gripper_map,
)
from portia_envs.errors import InvalidParameterError

ARM4_JOINTS = ("base_yaw", "shoulder_pitch", "elbow_pitch", "wrist_pitch")
# Joint ranges in rad, in ARM4_JOINTS order.
ARM4_JOINT_RANGES = (
    (-2.9, 2.9),
    (-1.2, 1.9),
    (-0.6, 2.8),
    (-2.2, 2.2),
)
# Servo stiffness per hinge (N m / rad) and torque limits (N m), in ARM4_JOINTS order.
ARM4_KP = (400.0, 400.0, 300.0, 100.0)
ARM4_FORCE_LIMIT = (150.0, 150.0, 100.0, 40.0)
ACTION_SIZE = len(ARM4_JOINTS) + 1
# Where the home pose holds the grip site, pointing down, m (world frame).
HOME_GRIP_POS_M = (0.4, 0.0, 0.24)


@dataclass(frozen=True)
class Arm4Lengths:
    """The link lengths of a four-hinge arm, m (joint axis to joint axis).

    Attributes:
        shoulder_m: From the base (on the table) to the shoulder pitch axis.
        upper_arm_m: Shoulder pitch axis to elbow pitch axis.
        forearm_m: Elbow pitch axis to wrist pitch axis.
        hand_m: Wrist pitch axis to the palm; the grip site is ``PALM_TO_GRIP_M`` beyond.
    """

    shoulder_m: float = 0.2
    upper_arm_m: float = 0.38
    forearm_m: float = 0.34
    hand_m: float = 0.04

    def __post_init__(self) -> None:
        for name in ("shoulder_m", "upper_arm_m", "forearm_m", "hand_m"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidParameterError(
                    f"{name} must be a positive length in metres, got {value}"
                )

    @property
    def wrist_to_grip_m(self) -> float:
        """The wrist pitch axis to the grip site, m."""
        return self.hand_m + PALM_TO_GRIP_M


# The named four-hinge bodies: the default, and a held-out variant whose upper arm and
# forearm are 15% longer (the base and hand are the same).
ARM4_BODIES: MappingProxyType[str, Arm4Lengths] = MappingProxyType(
    {
        "arm4": Arm4Lengths(),
        "arm4_long": Arm4Lengths(upper_arm_m=0.38 * 1.15, forearm_m=0.34 * 1.15),
    }
)

_LINK_RGBA = (0.72, 0.78, 0.86, 1.0)
_Y, _Z = (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
_JOINT_RANGES = dict(zip(ARM4_JOINTS, ARM4_JOINT_RANGES, strict=True))


def add_arm4(spec: mujoco.MjSpec, lengths: Arm4Lengths) -> None:
    """Add the four-hinge arm, its servos and its sensors to ``spec``, at the world origin.

    Args:
        spec: The model under construction. Sensors are appended in the order the
            observation uses: joint positions, joint velocities, finger positions, finger
            velocities, grip site position, grip site velocity.
        lengths: The link lengths.
    """
    base = spec.worldbody.add_body(name="base", pos=[0, 0, 0])
    add_plinth(base)
    link = functools.partial(add_hinge_link, joint_ranges=_JOINT_RANGES)
    column = link(base, "column", pos=(0, 0, 0.0), joint="base_yaw", axis=_Z)
    add_capsule(column, "column", [0, 0, 0.06, 0, 0, lengths.shoulder_m - 0.05], 0.05, _LINK_RGBA)
    upper = link(
        column, "upper_arm", pos=(0, 0, lengths.shoulder_m), joint="shoulder_pitch", axis=_Y
    )
    add_capsule(upper, "upper_arm", [0, 0, 0, 0, 0, lengths.upper_arm_m], 0.04, _LINK_RGBA)
    forearm = link(upper, "forearm", pos=(0, 0, lengths.upper_arm_m), joint="elbow_pitch", axis=_Y)
    add_capsule(forearm, "forearm", [0, 0, 0, 0, 0, lengths.forearm_m], 0.033, _LINK_RGBA)
    wrist = link(forearm, "wrist", pos=(0, 0, lengths.forearm_m), joint="wrist_pitch", axis=_Y)
    add_capsule(wrist, "wrist", [0, 0, 0, 0, 0, 0.5 * lengths.hand_m], 0.026, JOINT_RGBA)
    # The hand is welded to the wrist: with no roll, the fingers close in the arm's plane.
    hand = wrist.add_body(name="hand", pos=[0, 0, lengths.hand_m], gravcomp=1.0)
    add_gripper(hand)
    add_servos_and_sensors(spec, ARM4_JOINTS, ARM4_KP, ARM4_FORCE_LIMIT)


def planar_angles(
    lengths: Arm4Lengths, reach_m: float, height_m: float, hand_angle_rad: float
) -> NDArray[np.float64]:
    """Return the pitch angles that put the grip site at a point of the arm's plane.

    The elbow bends forwards (elbow_pitch >= 0), the solution the joint ranges are made for.
    A point out of reach gets the arm stretched towards it.

    Args:
        lengths: The link lengths.
        reach_m: Horizontal distance of the grip site from the base yaw axis, m (in front).
        height_m: Height of the grip site above the table, m.
        hand_angle_rad: The hand's angle from pointing straight up, rad, positive towards
            the front: pi points it straight down; pi - a leans its fingertips a rad
            forwards.

    Returns:
        shoulder_pitch, elbow_pitch and wrist_pitch, shape ``(3,)``, rad (not clipped to
        the joint ranges).
    """
    hand = lengths.wrist_to_grip_m
    wrist_x = reach_m - hand * math.sin(hand_angle_rad)
    wrist_z = height_m - hand * math.cos(hand_angle_rad) - lengths.shoulder_m
    upper, fore = lengths.upper_arm_m, lengths.forearm_m
    distance_sq = wrist_x * wrist_x + wrist_z * wrist_z
    cos_elbow = (distance_sq - upper * upper - fore * fore) / (2.0 * upper * fore)
    elbow = math.acos(min(1.0, max(-1.0, cos_elbow)))
    shoulder = math.atan2(wrist_x, wrist_z) - math.atan2(
        fore * math.sin(elbow), upper + fore * math.cos(elbow)
    )
    return np.array([shoulder, elbow, hand_angle_rad - shoulder - elbow])


def home_qpos(lengths: Arm4Lengths) -> NDArray[np.float64]:
    """Return the home joint angles (``ARM4_JOINTS`` order, rad) of an arm of ``lengths``.

    The grip site sits at ``HOME_GRIP_POS_M``, the hand pointing straight down.
    """
    x, y, z = HOME_GRIP_POS_M
    pitches = planar_angles(lengths, math.hypot(x, y), z, math.pi)
    return np.array([math.atan2(y, x), *pitches])


def action_to_ctrl_map(model: mujoco.MjModel) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(A, b)`` with ``ctrl = action @ A.T + b`` for actions in ``[-1, 1]``.

    Action dimensions 0-3 are the joint position targets of ``ARM4_JOINTS``, -1 and +1
    being the ends of each joint's range. Dimension 4 is the gripper: -1 fully open (each
    finger at 0.04 m), +1 fully closed.

    Args:
        model: A compiled model containing the four-hinge arm.

    Returns:
        ``A`` of shape ``(nu, 5)`` and ``b`` of shape ``(nu,)``.
    """
    return joints_and_gripper_map(model, ARM4_JOINTS)

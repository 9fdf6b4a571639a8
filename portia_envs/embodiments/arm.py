"""A six-joint arm with a two-finger parallel gripper, built from primitive geometry in code.

At zero joint angles the arm points straight up; every link extends along its own +z axis.
Positive pitch tilts a link towards +x. The home pose holds the gripper pointing down above
the middle of the workspace.

Named elements (look them up by name, never by index):
    joints      base_yaw, shoulder_pitch, elbow_pitch, forearm_roll, wrist_pitch, wrist_roll
                (hinges, rad); finger_left, finger_right (slides, m: 0 closed, 0.04 open)
    actuators   one position servo per joint, same names (two for the fingers, one command)
    sites       grip (between the finger pads; the end effector)
    sensors     joint_pos_*, joint_vel_*, finger_pos_*, finger_vel_*, grip_pos, grip_vel

An arm added with a ``prefix`` (``add_arm(spec, prefix="left_")``) has that prefix on every
name (``left_base``, ``left_grip``, ``left_grip_pos``), so several arms share one model.

The four-hinge arm (``embodiments.arm4``) is built from the same pieces: the plinth, the
hinged links, the gripper (``add_gripper``), and its servos and sensors
(``add_servos_and_sensors``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import mujoco
import numpy as np
from numpy.typing import NDArray

from portia_envs.embodiments.parts import (
    add_joint_sensors,
    add_sensors,
    add_servo,
    position_target_map,
)

ARM_JOINTS = (
    "base_yaw",
    "shoulder_pitch",
    "elbow_pitch",
    "forearm_roll",
    "wrist_pitch",
    "wrist_roll",
)
FINGER_JOINTS = ("finger_left", "finger_right")
GRIP_SITE = "grip"
# Joint ranges in rad, in ARM_JOINTS order.
ARM_JOINT_RANGES = (
    (-2.9, 2.9),
    (-1.2, 1.9),
    (-0.6, 2.7),
    (-2.9, 2.9),
    (-2.2, 2.2),
    (-2.9, 2.9),
)
FINGER_OPEN_M = 0.04
# The palm's base to the grip site, m.
PALM_TO_GRIP_M = 0.08
HOME_ARM_QPOS = (0.0, 0.5, 1.6, 0.0, 1.0416, 0.0)
# Servo stiffness per joint (N m / rad for hinges, N / m for fingers) and torque limits.
ARM_KP = (400.0, 400.0, 300.0, 100.0, 100.0, 50.0)
ARM_FORCE_LIMIT = (150.0, 150.0, 100.0, 40.0, 40.0, 20.0)
FINGER_KP = 200.0
FINGER_FORCE_LIMIT = 10.0
ACTION_SIZE = len(ARM_JOINTS) + 1
# The colour of the joints' housings, the plinth and the palm.
JOINT_RGBA = (0.25, 0.27, 0.3, 1.0)

_HINGE = mujoco.mjtJoint.mjJNT_HINGE
_SLIDE = mujoco.mjtJoint.mjJNT_SLIDE
_CAPSULE = mujoco.mjtGeom.mjGEOM_CAPSULE
_BOX = mujoco.mjtGeom.mjGEOM_BOX
_CYLINDER = mujoco.mjtGeom.mjGEOM_CYLINDER
_LINK_RGBA = (0.85, 0.86, 0.88, 1.0)
_FINGER_RGBA = (0.2, 0.2, 0.22, 1.0)
_Y, _Z = (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
_JOINT_RANGES = dict(zip(ARM_JOINTS, ARM_JOINT_RANGES, strict=True))


def add_arm(
    spec: mujoco.MjSpec,
    *,
    prefix: str = "",
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0),
    yaw_rad: float = 0.0,
) -> None:
    """Add the arm, its servos and its sensors to ``spec``.

    With the defaults the arm stands at the world origin facing +x, its elements named as
    in the module docstring. Several arms share a model when each has its own ``prefix``.

    Args:
        spec: The model under construction. Sensors are appended in the order the
            observation uses: joint positions, joint velocities, finger positions, finger
            velocities, grip site position, grip site velocity.
        prefix: Prepended to the name of every element the arm adds (bodies, joints,
            geoms, sites, actuators, sensors), e.g. ``"left_"`` gives ``left_grip``.
        pos: Where the base stands in the world frame, m.
        yaw_rad: The base's turn about the vertical, rad: 0 faces +x (the arm's zero-yaw
            reach), pi faces -x.
    """
    base = spec.worldbody.add_body(name=f"{prefix}base", pos=list(pos))
    if yaw_rad != 0.0:
        base.quat = [np.cos(yaw_rad / 2), 0.0, 0.0, np.sin(yaw_rad / 2)]
    add_plinth(base, prefix)
    link = functools.partial(add_hinge_link, joint_ranges=_JOINT_RANGES, prefix=prefix)
    column = link(base, "column", pos=(0, 0, 0.0), joint="base_yaw", axis=_Z)
    add_capsule(column, f"{prefix}column", [0, 0, 0.06, 0, 0, 0.2], 0.05, _LINK_RGBA)
    upper = link(column, "upper_arm", pos=(0, 0, 0.25), joint="shoulder_pitch", axis=_Y)
    add_capsule(upper, f"{prefix}upper_arm", [0, 0, 0, 0, 0, 0.32], 0.04, _LINK_RGBA)
    forearm = link(upper, "forearm", pos=(0, 0, 0.32), joint="elbow_pitch", axis=_Y)
    add_capsule(forearm, f"{prefix}forearm", [0, 0, 0, 0, 0, 0.15], 0.035, _LINK_RGBA)
    twist = link(forearm, "forearm_twist", pos=(0, 0, 0.15), joint="forearm_roll", axis=_Z)
    add_capsule(twist, f"{prefix}forearm_twist", [0, 0, 0.01, 0, 0, 0.15], 0.03, JOINT_RGBA)
    wrist = link(twist, "wrist", pos=(0, 0, 0.15), joint="wrist_pitch", axis=_Y)
    add_capsule(wrist, f"{prefix}wrist", [0, 0, 0, 0, 0, 0.04], 0.028, _LINK_RGBA)
    hand = link(wrist, "hand", pos=(0, 0, 0.06), joint="wrist_roll", axis=_Z)
    add_gripper(hand, prefix)
    add_servos_and_sensors(spec, ARM_JOINTS, ARM_KP, ARM_FORCE_LIMIT, prefix=prefix)


def add_plinth(base: mujoco.MjsBody, prefix: str = "") -> None:
    """Add the plinth under an arm's column: drawn only, as the base is welded to the world."""
    base.add_geom(
        name=f"{prefix}base_plinth",
        type=_CYLINDER,
        size=[0.09, 0.03, 0],
        pos=[0, 0, 0.03],
        rgba=JOINT_RGBA,
        contype=0,
        conaffinity=0,
    )


def add_capsule(
    body: mujoco.MjsBody,
    name: str,
    fromto: list[float],
    radius_m: float,
    rgba: tuple[float, float, float, float],
) -> None:
    """Add a capsule geom ``name`` of ``radius_m`` (m) from and to the points ``fromto`` (m)."""
    body.add_geom(name=name, type=_CAPSULE, fromto=fromto, size=[radius_m, 0, 0], rgba=rgba)


def add_hinge_link(
    parent: mujoco.MjsBody,
    name: str,
    *,
    pos: tuple[float, float, float],
    joint: str,
    axis: tuple[float, float, float],
    joint_ranges: Mapping[str, tuple[float, float]],
    prefix: str = "",
) -> mujoco.MjsBody:
    """Add a gravity-compensated body ``name`` at ``pos`` turning on hinge ``joint``.

    Args:
        parent: The body it hangs from.
        name: The body's unprefixed name.
        pos: Where it sits in its parent's frame, m.
        joint: The hinge's unprefixed name.
        axis: The hinge's axis in the body's frame.
        joint_ranges: Each hinge's range (rad), by unprefixed name.
        prefix: Prepended to the body's and the hinge's names.

    Returns:
        The new body.
    """
    body = parent.add_body(name=f"{prefix}{name}", pos=list(pos), gravcomp=1.0)
    low, high = joint_ranges[joint]
    body.add_joint(
        name=f"{prefix}{joint}",
        type=_HINGE,
        axis=list(axis),
        range=[low, high],
        armature=0.05,
        damping=0.5,
    )
    return body


def add_gripper(hand: mujoco.MjsBody, prefix: str = "") -> None:
    """Add the palm, the two sliding fingers with their pads, and the grip site to ``hand``.

    Finger ``finger_left`` slides along the hand's +x, ``finger_right`` along -x, each 0
    (closed) to ``FINGER_OPEN_M`` (open); the grip site lies between the pads.

    Args:
        hand: The body the gripper is fixed to, its +z pointing out of the palm.
        prefix: Prepended to the name of every element added.
    """
    hand.add_geom(
        name=f"{prefix}palm",
        type=_BOX,
        size=[0.05, 0.02, 0.012],
        pos=[0, 0, 0.012],
        rgba=JOINT_RGBA,
    )
    for name, sign in (("finger_left", 1.0), ("finger_right", -1.0)):
        finger = hand.add_body(name=f"{prefix}{name}", pos=[0, 0, 0.03], gravcomp=1.0)
        finger.add_joint(
            name=f"{prefix}{name}",
            type=_SLIDE,
            axis=[sign, 0.0, 0.0],
            range=[0.0, FINGER_OPEN_M],
            armature=0.01,
            damping=2.0,
        )
        finger.add_geom(
            name=f"{prefix}{name}_pad",
            type=_BOX,
            size=[0.006, 0.012, 0.03],
            pos=[sign * 0.006, 0, 0.03],
            friction=[1.5, 0.01, 0.001],
            rgba=_FINGER_RGBA,
        )
    hand.add_site(
        name=f"{prefix}{GRIP_SITE}",
        pos=[0, 0, PALM_TO_GRIP_M],
        size=[0.008, 0, 0],
        rgba=(1, 0.5, 0, 0.6),
    )


def add_servos_and_sensors(
    spec: mujoco.MjSpec,
    joints: tuple[str, ...],
    kp: tuple[float, ...],
    force_limits: tuple[float, ...],
    *,
    prefix: str = "",
) -> None:
    """Add the servos and sensors of an arm with hinges ``joints`` and the gripper.

    Servos: one per hinge (stiffness ``kp``, N m / rad; torque limits ``force_limits``,
    N m), then one per finger. Sensors, in the order the observation uses: joint positions,
    joint velocities, finger positions, finger velocities, grip site position and velocity.

    Args:
        spec: The model under construction, holding the arm's joints and grip site.
        joints: The hinges' unprefixed names, in action order.
        kp: Each hinge servo's stiffness, in ``joints`` order.
        force_limits: Each hinge servo's torque limit, in ``joints`` order.
        prefix: The arm's name prefix.
    """
    for name, stiffness, limit in zip(joints, kp, force_limits, strict=True):
        add_servo(spec, f"{prefix}{name}", stiffness, limit)
    for name in FINGER_JOINTS:
        add_servo(spec, f"{prefix}{name}", FINGER_KP, FINGER_FORCE_LIMIT)
    add_joint_sensors(spec, joints, prefix=prefix)
    add_joint_sensors(spec, FINGER_JOINTS, prefix=prefix, name="{joint}_{kind}")
    add_sensors(
        spec,
        mujoco.mjtObj.mjOBJ_SITE,
        (
            ("grip_pos", mujoco.mjtSensor.mjSENS_FRAMEPOS, GRIP_SITE),
            ("grip_vel", mujoco.mjtSensor.mjSENS_FRAMELINVEL, GRIP_SITE),
        ),
        prefix=prefix,
    )


def action_to_ctrl_map(
    model: mujoco.MjModel, *, prefix: str = ""
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(A, b)`` with ``ctrl = action @ A.T + b`` for actions in ``[-1, 1]``.

    Action dimensions 0-5 are the joint position targets of ``ARM_JOINTS``, -1 and +1 being
    the ends of each joint's range. Dimension 6 is the gripper: -1 fully open (each finger
    at 0.04 m), +1 fully closed. The map is affine, so a whole batch of action sequences maps
    to controls in one matrix product.

    In a model with several arms, the map drives the one named ``prefix`` and leaves the
    rows of every other actuator zero, so the maps of all the arms add up.

    Args:
        model: A compiled model containing the arm.
        prefix: The arm's name prefix, as given to ``add_arm``.

    Returns:
        ``A`` of shape ``(nu, 7)`` and ``b`` of shape ``(nu,)``.
    """
    return joints_and_gripper_map(model, ARM_JOINTS, prefix=prefix)


def joints_and_gripper_map(
    model: mujoco.MjModel, joints: tuple[str, ...], *, prefix: str = ""
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(A, b)`` with ``ctrl = action @ A.T + b`` for an arm with hinges ``joints``.

    The first ``len(joints)`` action dimensions are the hinges' position targets (see
    ``parts.position_target_map``); the last is the gripper, -1 fully open (each finger at
    ``FINGER_OPEN_M``) to +1 fully closed.

    Args:
        model: A compiled model containing the arm.
        joints: The hinges' unprefixed names, in action order.
        prefix: The arm's name prefix.

    Returns:
        ``A`` of shape ``(nu, len(joints) + 1)`` and ``b`` of shape ``(nu,)``.
    """
    gripper = len(joints)
    matrix, offset = position_target_map(model, joints, gripper + 1, prefix=prefix)
    for name in FINGER_JOINTS:
        act = model.actuator(f"{prefix}{name}").id
        matrix[act, gripper] = -FINGER_OPEN_M / 2.0
        offset[act] = FINGER_OPEN_M / 2.0
    return matrix, offset

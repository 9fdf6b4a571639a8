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
"""

from __future__ import annotations

import mujoco
import numpy as np
from numpy.typing import NDArray

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
HOME_ARM_QPOS = (0.0, 0.5, 1.6, 0.0, 1.0416, 0.0)
# Servo stiffness per joint (N m / rad for hinges, N / m for fingers) and torque limits.
ARM_KP = (400.0, 400.0, 300.0, 100.0, 100.0, 50.0)
ARM_FORCE_LIMIT = (150.0, 150.0, 100.0, 40.0, 40.0, 20.0)
FINGER_KP = 200.0
FINGER_FORCE_LIMIT = 10.0
ACTION_SIZE = len(ARM_JOINTS) + 1

_HINGE = mujoco.mjtJoint.mjJNT_HINGE
_SLIDE = mujoco.mjtJoint.mjJNT_SLIDE
_CAPSULE = mujoco.mjtGeom.mjGEOM_CAPSULE
_BOX = mujoco.mjtGeom.mjGEOM_BOX
_CYLINDER = mujoco.mjtGeom.mjGEOM_CYLINDER
_LINK_RGBA = (0.85, 0.86, 0.88, 1.0)
_JOINT_RGBA = (0.25, 0.27, 0.3, 1.0)
_FINGER_RGBA = (0.2, 0.2, 0.22, 1.0)
_Y, _Z = (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


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
    # Drawn only: the column turns inside it, and the base is welded to the world.
    base.add_geom(
        name=f"{prefix}base_plinth",
        type=_CYLINDER,
        size=[0.09, 0.03, 0],
        pos=[0, 0, 0.03],
        rgba=_JOINT_RGBA,
        contype=0,
        conaffinity=0,
    )
    column = _link(base, prefix, "column", pos=(0, 0, 0.0), joint="base_yaw", axis=_Z)
    column.add_geom(
        name=f"{prefix}column",
        type=_CAPSULE,
        fromto=[0, 0, 0.06, 0, 0, 0.2],
        size=[0.05, 0, 0],
        rgba=_LINK_RGBA,
    )
    upper = _link(column, prefix, "upper_arm", pos=(0, 0, 0.25), joint="shoulder_pitch", axis=_Y)
    upper.add_geom(
        name=f"{prefix}upper_arm",
        type=_CAPSULE,
        fromto=[0, 0, 0, 0, 0, 0.32],
        size=[0.04, 0, 0],
        rgba=_LINK_RGBA,
    )
    forearm = _link(upper, prefix, "forearm", pos=(0, 0, 0.32), joint="elbow_pitch", axis=_Y)
    forearm.add_geom(
        name=f"{prefix}forearm",
        type=_CAPSULE,
        fromto=[0, 0, 0, 0, 0, 0.15],
        size=[0.035, 0, 0],
        rgba=_LINK_RGBA,
    )
    twist = _link(forearm, prefix, "forearm_twist", pos=(0, 0, 0.15), joint="forearm_roll", axis=_Z)
    twist.add_geom(
        name=f"{prefix}forearm_twist",
        type=_CAPSULE,
        fromto=[0, 0, 0.01, 0, 0, 0.15],
        size=[0.03, 0, 0],
        rgba=_JOINT_RGBA,
    )
    wrist = _link(twist, prefix, "wrist", pos=(0, 0, 0.15), joint="wrist_pitch", axis=_Y)
    wrist.add_geom(
        name=f"{prefix}wrist",
        type=_CAPSULE,
        fromto=[0, 0, 0, 0, 0, 0.04],
        size=[0.028, 0, 0],
        rgba=_LINK_RGBA,
    )
    hand = _link(wrist, prefix, "hand", pos=(0, 0, 0.06), joint="wrist_roll", axis=_Z)
    hand.add_geom(
        name=f"{prefix}palm",
        type=_BOX,
        size=[0.05, 0.02, 0.012],
        pos=[0, 0, 0.012],
        rgba=_JOINT_RGBA,
    )
    for name, sign in (("finger_left", 1.0), ("finger_right", -1.0)):
        finger = _link(
            hand,
            prefix,
            name,
            pos=(0, 0, 0.03),
            joint=name,
            axis=(sign, 0.0, 0.0),
            slide_range=(0.0, FINGER_OPEN_M),
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
        name=f"{prefix}{GRIP_SITE}", pos=[0, 0, 0.08], size=[0.008, 0, 0], rgba=(1, 0.5, 0, 0.6)
    )

    for name, kp, limit in zip(ARM_JOINTS, ARM_KP, ARM_FORCE_LIMIT, strict=True):
        _servo(spec, f"{prefix}{name}", kp, limit)
    for name in FINGER_JOINTS:
        _servo(spec, f"{prefix}{name}", FINGER_KP, FINGER_FORCE_LIMIT)

    for kind, sensor in (
        ("pos", mujoco.mjtSensor.mjSENS_JOINTPOS),
        ("vel", mujoco.mjtSensor.mjSENS_JOINTVEL),
    ):
        for name in ARM_JOINTS:
            spec.add_sensor(
                name=f"{prefix}joint_{kind}_{name}",
                type=sensor,
                objtype=mujoco.mjtObj.mjOBJ_JOINT,
                objname=f"{prefix}{name}",
            )
    for kind, sensor in (
        ("pos", mujoco.mjtSensor.mjSENS_JOINTPOS),
        ("vel", mujoco.mjtSensor.mjSENS_JOINTVEL),
    ):
        for name in FINGER_JOINTS:
            spec.add_sensor(
                name=f"{prefix}{name}_{kind}",
                type=sensor,
                objtype=mujoco.mjtObj.mjOBJ_JOINT,
                objname=f"{prefix}{name}",
            )
    for name, sensor in (
        ("grip_pos", mujoco.mjtSensor.mjSENS_FRAMEPOS),
        ("grip_vel", mujoco.mjtSensor.mjSENS_FRAMELINVEL),
    ):
        spec.add_sensor(
            name=f"{prefix}{name}",
            type=sensor,
            objtype=mujoco.mjtObj.mjOBJ_SITE,
            objname=f"{prefix}{GRIP_SITE}",
        )


def _link(
    parent: mujoco.MjsBody,
    prefix: str,
    name: str,
    *,
    pos: tuple[float, float, float],
    joint: str,
    axis: tuple[float, float, float],
    slide_range: tuple[float, float] | None = None,
) -> mujoco.MjsBody:
    """Add a gravity-compensated body with one joint (a hinge, or a slide if given a range).

    ``name`` and ``joint`` are unprefixed; the body and joint get ``prefix`` in front.
    """
    body = parent.add_body(name=f"{prefix}{name}", pos=list(pos), gravcomp=1.0)
    if slide_range is None:
        low, high = ARM_JOINT_RANGES[ARM_JOINTS.index(joint)]
        body.add_joint(
            name=f"{prefix}{joint}",
            type=_HINGE,
            axis=list(axis),
            range=[low, high],
            armature=0.05,
            damping=0.5,
        )
    else:
        body.add_joint(
            name=f"{prefix}{joint}",
            type=_SLIDE,
            axis=list(axis),
            range=list(slide_range),
            armature=0.01,
            damping=2.0,
        )
    return body


def _servo(spec: mujoco.MjSpec, joint: str, kp: float, force_limit: float) -> None:
    """Add a critically damped position servo on ``joint`` whose control range is the joint's.

    The actuator has the (prefixed) joint's name.
    """
    joint_range = spec.joint(joint).range
    actuator = spec.add_actuator(
        name=joint,
        target=joint,
        trntype=mujoco.mjtTrn.mjTRN_JOINT,
        ctrlrange=list(joint_range),
        forcerange=[-force_limit, force_limit],
    )
    actuator.set_to_position(kp=kp, dampratio=1.0)
    actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
    actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE


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
    matrix = np.zeros((model.nu, ACTION_SIZE))
    offset = np.zeros(model.nu)
    for i, name in enumerate(ARM_JOINTS):
        act = model.actuator(f"{prefix}{name}").id
        low, high = model.actuator_ctrlrange[act]
        matrix[act, i] = (high - low) / 2.0
        offset[act] = (high + low) / 2.0
    for name in FINGER_JOINTS:
        act = model.actuator(f"{prefix}{name}").id
        matrix[act, ACTION_SIZE - 1] = -FINGER_OPEN_M / 2.0
        offset[act] = FINGER_OPEN_M / 2.0
    return matrix, offset

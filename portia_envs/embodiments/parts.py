"""Parts every body is built from: position servos, joint and site sensors, the action map.

Each helper adds one kind of element to a ``mujoco.MjSpec`` under construction (or reads
one compiled model), named from its arguments, so that the bodies differ only in their
geometry and their numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import mujoco
import numpy as np
from numpy.typing import NDArray

# A joint's two readings, in the order the bodies' observations put them.
JOINT_SENSORS = (
    ("pos", mujoco.mjtSensor.mjSENS_JOINTPOS),
    ("vel", mujoco.mjtSensor.mjSENS_JOINTVEL),
)


def add_servo(spec: mujoco.MjSpec, joint: str, kp: float, force_limit: float) -> None:
    """Add a critically damped position servo on ``joint`` whose control range is the joint's.

    The actuator has the joint's name.

    Args:
        spec: The model under construction, holding ``joint`` already.
        joint: The joint's full (prefixed) name.
        kp: Stiffness, N m / rad for a hinge, N / m for a slide.
        force_limit: The largest torque (N m) or force (N) it exerts.
    """
    actuator = spec.add_actuator(
        name=joint,
        target=joint,
        trntype=mujoco.mjtTrn.mjTRN_JOINT,
        ctrlrange=list(spec.joint(joint).range),
        forcerange=[-force_limit, force_limit],
    )
    actuator.set_to_position(kp=kp, dampratio=1.0)
    actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
    actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE


def add_sensors(
    spec: mujoco.MjSpec,
    objtype: mujoco.mjtObj,
    sensors: Iterable[tuple[str, mujoco.mjtSensor, str]],
    *,
    prefix: str = "",
) -> None:
    """Add a sensor for each ``(name, type, object)``, in order; ``prefix`` before both names.

    Args:
        spec: The model under construction.
        objtype: What the sensors read: joints, sites, bodies.
        sensors: Each sensor's unprefixed name, type, and the unprefixed name of the
            object it reads.
        prefix: Prepended to every sensor's and object's name.
    """
    for name, sensor, obj in sensors:
        spec.add_sensor(
            name=f"{prefix}{name}", type=sensor, objtype=objtype, objname=f"{prefix}{obj}"
        )


def add_joint_sensors(
    spec: mujoco.MjSpec,
    joints: Iterable[str],
    *,
    prefix: str = "",
    name: str = "joint_{kind}_{joint}",
) -> None:
    """Add each joint's position sensors, then each joint's velocity sensors.

    Args:
        spec: The model under construction.
        joints: The joints' unprefixed names, in reading order.
        prefix: Prepended to every sensor's and joint's name.
        name: The sensor's unprefixed name, from ``kind`` (``"pos"`` or ``"vel"``) and
            ``joint``.
    """
    joints = tuple(joints)
    add_sensors(
        spec,
        mujoco.mjtObj.mjOBJ_JOINT,
        (
            (name.format(kind=kind, joint=joint), sensor, joint)
            for kind, sensor in JOINT_SENSORS
            for joint in joints
        ),
        prefix=prefix,
    )


def position_target_map(
    model: mujoco.MjModel, joints: Sequence[str], action_size: int, *, prefix: str = ""
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(A, b)`` with ``ctrl = action @ A.T + b``, action ``i`` aiming ``joints[i]``.

    Action dimension ``i`` is the position target of the servo named ``prefix + joints[i]``,
    -1 and +1 being the ends of its control range. Every other row and column is zero, for
    the caller to fill (a gripper) or for another body's map to add to.

    Args:
        model: A compiled model containing the servos.
        joints: The joints' unprefixed names, in action order.
        action_size: The body's action size, ``len(joints)`` or more.
        prefix: The body's name prefix.

    Returns:
        ``A`` of shape ``(nu, action_size)`` and ``b`` of shape ``(nu,)``.
    """
    matrix = np.zeros((model.nu, action_size))
    offset = np.zeros(model.nu)
    for i, name in enumerate(joints):
        act = model.actuator(f"{prefix}{name}").id
        low, high = model.actuator_ctrlrange[act]
        matrix[act, i] = (high - low) / 2.0
        offset[act] = (high + low) / 2.0
    return matrix, offset

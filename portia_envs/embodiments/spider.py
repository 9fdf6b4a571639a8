"""An eight-legged spider built from primitive geometry in code: a torso and eight two-joint legs.

The torso is a flattened ellipsoid on a free joint, its +x axis forward (the fangs), +y to
its left, +z up. Eight legs stand around its rim, four a side: L1 (front) to L4 (rear) on
the left, R1 to R4 on the right. Each leg has two hinges at the hip: ``yaw`` swings the
leg about the torso's z axis, positive towards the head on either side; ``lift`` raises
it, positive lifting the foot off the ground. A leg is one rigid piece from hip to foot: a
femur rising outwards to the knee, then a tibia reaching down and outwards to the foot,
whose tip carries the grip (high friction) that walking needs.

Named elements (look them up by name, never by index):
    joints      torso (free); leg_<L|R><1-4>_yaw and leg_<L|R><1-4>_lift (hinges, rad)
    actuators   one position servo per hinge, same names
    sites       torso (the torso's centre, its frame), fangs (front tip of the torso),
                foot_<L|R><1-4> (each foot's tip)
    sensors     joint_pos_<joint>, joint_vel_<joint> (each hinge, in ``SPIDER_JOINTS``
                order), torso_pos (world, m), torso_quat (world, w x y z), torso_vel
                (linear, m/s, torso frame), torso_angvel (rad/s, torso frame), fangs_pos
                (world, m)
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
from numpy.typing import NDArray

from portia_envs.embodiments.parts import (
    add_joint_sensors,
    add_sensors,
    add_servo,
    position_target_map,
)

# Legs in order: left front to rear, then right front to rear.
LEGS = ("L1", "L2", "L3", "L4", "R1", "R2", "R3", "R4")
# Each leg's two hinges, yaw then lift, leg by leg: the order of actions and of sensors.
SPIDER_JOINTS = tuple(f"leg_{leg}_{kind}" for leg in LEGS for kind in ("yaw", "lift"))
TORSO_JOINT = "torso"
TORSO_SITE = "torso"
FANGS_SITE = "fangs"
# Torso ellipsoid semi-axes (m): length, width, height; and its mass (kg).
TORSO_HALF_M = (0.1, 0.07, 0.035)
TORSO_MASS_KG = 0.5
# Where each leg's hip sits on the rim: the bearing (rad, from the torso's +x, positive
# towards its left) in LEGS order. Left and right mirror each other.
_LEFT_MOUNTS_RAD = (0.70, 1.31, 1.92, 2.53)
LEG_MOUNT_RAD = _LEFT_MOUNTS_RAD + tuple(-a for a in _LEFT_MOUNTS_RAD)
# The fangs site, in the torso's frame (m): just ahead of the torso, under its front.
FANGS_POS_M = (1.1 * TORSO_HALF_M[0], 0.0, -0.02)
FANGS_FORWARD_M = FANGS_POS_M[0]
# Hips sit this fraction of the way from the torso's centre to its rim.
HIP_RIM_FRACTION = 0.85
# The leg in its own frame (x outwards from the hip, z up), m: the knee, then the foot.
KNEE_M = (0.08, 0.0, 0.05)
FOOT_M = (0.19, 0.0, -0.085)
FEMUR_LENGTH_M = math.hypot(KNEE_M[0], KNEE_M[2])
TIBIA_LENGTH_M = math.hypot(FOOT_M[0] - KNEE_M[0], FOOT_M[2] - KNEE_M[2])
# The hip-to-foot distance: the length of what either hinge moves.
LEG_LENGTH_M = math.hypot(FOOT_M[0], FOOT_M[2])
LEG_RADIUS_M = 0.011
LEG_MASS_KG = 0.03
FOOT_FRICTION = 1.5
# Joint ranges (rad): yaw about the mount bearing, lift about the leg's rest pose.
YAW_RANGE_RAD = (-0.6, 0.6)
LIFT_RANGE_RAD = (-0.5, 0.9)
# Servo stiffness (N m / rad), torque limits (N m), joint damping (N m s / rad) and rotor
# inertia (kg m^2, which keeps the light legs stable at the physics timestep).
YAW_KP, LIFT_KP = 6.0, 10.0
YAW_FORCE_LIMIT, LIFT_FORCE_LIMIT = 2.0, 3.0
JOINT_DAMPING = 0.05
JOINT_ARMATURE = 0.002
# The standing pose: every hinge at this angle (rad).
STAND_YAW_RAD = 0.0
STAND_LIFT_RAD = 0.0
# Collision bits: the spider touches the floor and walls but not itself (MuJoCo pairs two
# geoms when one's contype shares a bit with the other's conaffinity).
SPIDER_CONTYPE, SPIDER_CONAFFINITY = 2, 1
ACTION_SIZE = len(SPIDER_JOINTS)
# The sensors' readings in order: (sensor name, size). Joint readings are in SPIDER_JOINTS
# order; torso_vel and torso_angvel are in the torso's own frame (an IMU's readings).
SENSOR_LAYOUT = (
    *((f"joint_pos_{joint}", 1) for joint in SPIDER_JOINTS),
    *((f"joint_vel_{joint}", 1) for joint in SPIDER_JOINTS),
    ("torso_pos", 3),
    ("torso_quat", 4),
    ("torso_vel", 3),
    ("torso_angvel", 3),
    ("fangs_pos", 3),
)
N_SENSOR_READINGS = sum(size for _, size in SENSOR_LAYOUT)

_HINGE = mujoco.mjtJoint.mjJNT_HINGE
_CAPSULE = mujoco.mjtGeom.mjGEOM_CAPSULE
_TORSO_RGBA = (0.35, 0.24, 0.16, 1.0)
_LEG_RGBA = (0.28, 0.2, 0.14, 1.0)
_FANG_RGBA = (0.12, 0.08, 0.06, 1.0)
_EYE_RGBA = (0.05, 0.05, 0.05, 1.0)


def joint_ranges() -> NDArray[np.float64]:
    """Return each hinge's range (rad) in ``SPIDER_JOINTS`` order, shape ``(16, 2)``."""
    return np.array(
        [YAW_RANGE_RAD if j.endswith("_yaw") else LIFT_RANGE_RAD for j in SPIDER_JOINTS]
    )


def stand_qpos() -> NDArray[np.float64]:
    """Return the standing pose of the hinges (rad) in ``SPIDER_JOINTS`` order, shape ``(16,)``."""
    return np.array(
        [STAND_YAW_RAD if j.endswith("_yaw") else STAND_LIFT_RAD for j in SPIDER_JOINTS]
    )


def stand_height_m() -> float:
    """Return the torso's start height (m): standing in ``stand_qpos``, feet on the floor.

    The servos give a little under the body's weight: it settles about 1 cm lower.
    """
    return -FOOT_M[2] + LEG_RADIUS_M


def add_spider(spec: mujoco.MjSpec, pos: tuple[float, float, float] | None = None) -> None:
    """Add the spider, its servos and its sensors to ``spec``.

    Args:
        spec: The model under construction. Sensors are appended in the order the
            observation uses: joint positions, joint velocities, torso position,
            orientation, linear and angular velocity, then the fangs' position.
        pos: Where the torso starts (m); standing at the origin when None.
    """
    if pos is None:
        pos = (0.0, 0.0, stand_height_m())
    torso = spec.worldbody.add_body(name="torso", pos=list(pos))
    torso.add_freejoint(name=TORSO_JOINT)
    hx, hy, hz = TORSO_HALF_M
    torso.add_geom(
        name="torso",
        type=mujoco.mjtGeom.mjGEOM_ELLIPSOID,
        size=[hx, hy, hz],
        mass=TORSO_MASS_KG,
        rgba=_TORSO_RGBA,
        contype=SPIDER_CONTYPE,
        conaffinity=SPIDER_CONAFFINITY,
    )
    # Head details, drawn only: two fangs under the front and a row of eyes above it.
    for side in (-1, 1):
        torso.add_geom(
            name=f"fang_{'left' if side > 0 else 'right'}",
            type=_CAPSULE,
            fromto=[hx * 0.85, side * 0.02, -0.01, hx * 1.1, side * 0.01, -0.025],
            size=[0.006, 0, 0],
            rgba=_FANG_RGBA,
            contype=0,
            conaffinity=0,
            mass=0.0,
        )
        for offset in (0.012, 0.03):
            torso.add_geom(
                name=f"eye_{'left' if side > 0 else 'right'}_{int(offset * 1000)}",
                type=mujoco.mjtGeom.mjGEOM_SPHERE,
                size=[0.009 if offset < 0.02 else 0.006, 0, 0],
                pos=[hx * 0.8, side * offset, hz * 0.55],
                rgba=_EYE_RGBA,
                contype=0,
                conaffinity=0,
                mass=0.0,
            )
    torso.add_site(name=TORSO_SITE, pos=[0, 0, 0], size=[0.01, 0, 0], rgba=(0, 0, 0, 0))
    torso.add_site(
        name=FANGS_SITE, pos=list(FANGS_POS_M), size=[0.008, 0, 0], rgba=(0.9, 0.2, 0.1, 0.8)
    )
    for leg, mount in zip(LEGS, LEG_MOUNT_RAD, strict=True):
        _add_leg(torso, leg, mount)

    for name in SPIDER_JOINTS:
        kp, limit = (
            (YAW_KP, YAW_FORCE_LIMIT) if name.endswith("_yaw") else (LIFT_KP, LIFT_FORCE_LIMIT)
        )
        add_servo(spec, name, kp, limit)
    add_joint_sensors(spec, SPIDER_JOINTS)
    add_sensors(
        spec,
        mujoco.mjtObj.mjOBJ_SITE,
        (
            ("torso_pos", mujoco.mjtSensor.mjSENS_FRAMEPOS, TORSO_SITE),
            ("torso_quat", mujoco.mjtSensor.mjSENS_FRAMEQUAT, TORSO_SITE),
            ("torso_vel", mujoco.mjtSensor.mjSENS_VELOCIMETER, TORSO_SITE),
            ("torso_angvel", mujoco.mjtSensor.mjSENS_GYRO, TORSO_SITE),
            ("fangs_pos", mujoco.mjtSensor.mjSENS_FRAMEPOS, FANGS_SITE),
        ),
    )


def _add_leg(torso: mujoco.MjsBody, leg: str, mount_rad: float) -> None:
    """Add leg ``leg`` at bearing ``mount_rad`` on the torso's rim: yaw, lift, one rigid piece."""
    hx, hy, _ = TORSO_HALF_M
    c, s = math.cos(mount_rad), math.sin(mount_rad)
    hip_pos = [HIP_RIM_FRACTION * hx * c, HIP_RIM_FRACTION * hy * s, 0.0]
    # The hip frame: x outwards along the mount bearing, z up.
    hip = torso.add_body(
        name=f"leg_{leg}_hip",
        pos=hip_pos,
        quat=[math.cos(mount_rad / 2), 0, 0, math.sin(mount_rad / 2)],
    )
    # Positive yaw swings the foot towards the head: counterclockwise (about +z) on the
    # right side, clockwise on the left.
    yaw_axis = [0.0, 0.0, -1.0] if leg.startswith("L") else [0.0, 0.0, 1.0]
    hip.add_joint(
        name=f"leg_{leg}_yaw",
        type=_HINGE,
        axis=yaw_axis,
        range=list(YAW_RANGE_RAD),
        damping=JOINT_DAMPING,
        armature=JOINT_ARMATURE,
    )
    # Positive lift about -y raises the outward-pointing leg.
    hip.add_joint(
        name=f"leg_{leg}_lift",
        type=_HINGE,
        axis=[0.0, -1.0, 0.0],
        range=list(LIFT_RANGE_RAD),
        damping=JOINT_DAMPING,
        armature=JOINT_ARMATURE,
    )
    femur_mass = LEG_MASS_KG * FEMUR_LENGTH_M / (FEMUR_LENGTH_M + TIBIA_LENGTH_M)
    hip.add_geom(
        name=f"leg_{leg}_femur",
        type=_CAPSULE,
        fromto=[0, 0, 0, *KNEE_M],
        size=[LEG_RADIUS_M, 0, 0],
        mass=femur_mass,
        rgba=_LEG_RGBA,
        contype=SPIDER_CONTYPE,
        conaffinity=SPIDER_CONAFFINITY,
    )
    hip.add_geom(
        name=f"leg_{leg}_tibia",
        type=_CAPSULE,
        fromto=[*KNEE_M, *FOOT_M],
        size=[LEG_RADIUS_M, 0, 0],
        mass=LEG_MASS_KG - femur_mass,
        friction=[FOOT_FRICTION, 0.005, 0.0001],
        rgba=_LEG_RGBA,
        contype=SPIDER_CONTYPE,
        conaffinity=SPIDER_CONAFFINITY,
    )
    hip.add_site(name=f"foot_{leg}", pos=list(FOOT_M), size=[0.006, 0, 0], rgba=(0, 0, 0, 0))


def action_to_ctrl_map(model: mujoco.MjModel) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(A, b)`` with ``ctrl = action @ A.T + b`` for actions in ``[-1, 1]``.

    Action dimension ``i`` is the position target of hinge ``SPIDER_JOINTS[i]``, -1 and +1
    being the ends of its range. The map is affine, so a whole batch of action sequences
    maps to controls in one matrix product.

    Args:
        model: A compiled model containing the spider.

    Returns:
        ``A`` of shape ``(nu, 16)`` and ``b`` of shape ``(nu,)``.
    """
    return position_target_map(model, SPIDER_JOINTS, ACTION_SIZE)

"""The tabletop scene: a table at z = 0, two blocks, a drawer, a goal marker, lights, cameras.

Every object is always in the model, so that one compiled model serves every task; a task
that does not use an object leaves it parked out of the way. Sizes, masses, frictions,
colours and where the drawer stands are model parameters that a task sets at reset (see
``tasks.objects``) without recompiling.

Named elements:
    bodies   block (free joint ``block``), the cube the object tasks move; support (free joint
             ``support``), the cube that ``stack`` puts the block on; cabinet (fixed) holding
             drawer (slide joint ``drawer``, 0 closed to ``DRAWER_TRAVEL_M`` open, along -x)
    geoms    table (a 1.2 m x 1.2 m box, top at z = 0, centred at x = 0.25 m), floor (0.75 m
             below), block, support, handle (the drawer's bar)
    sites    goal (a translucent marker; drawn only, never touched), handle (the bar's centre)
    cameras  overview (fixed, looking at the workspace from the front right), top (straight down)
    sensors  block_pos, block_quat (w, x, y, z), block_vel, block_angvel, support_pos, support_quat,
             handle_pos, drawer_pos, drawer_vel
"""

from __future__ import annotations

import mujoco

from portia_envs.scenes.base import add_camera, add_checker_material, configure_spec

TIMESTEP_S = 0.002
BLOCK_HALF_M = 0.02
BLOCK_MASS_KG = 0.1
SUPPORT_MASS_KG = 0.2
TABLE_HALF_M = (0.6, 0.6, 0.02)
TABLE_CENTER_X_M = 0.25
# The table is slippery (friction 0.1); MuJoCo takes the larger friction of two touching
# geoms, so each object's own friction is what it slides with.
TABLE_FRICTION = 0.1
FLOOR_Z_M = -0.75
# Where the blocks wait when a task does not use them: on the table, behind the arm's base.
BLOCK_PARKED_POS = (-0.2, 0.4, BLOCK_HALF_M)
SUPPORT_PARKED_POS = (-0.2, -0.4, BLOCK_HALF_M)
# The cabinet: outer half-sizes (m), its open front facing the arm (-x). The drawer slides
# out up to DRAWER_TRAVEL_M; its bar handle stands HANDLE_STANDOFF_M in front of it, at
# HANDLE_HEIGHT_M above the table, so closed fingers fit between bar and drawer.
CABINET_HALF_M = (0.1, 0.12, 0.06)
DRAWER_TRAVEL_M = 0.16
DRAWER_MASS_KG = 0.5
HANDLE_STANDOFF_M = 0.05
HANDLE_HEIGHT_M = 0.06
HANDLE_HALF_LENGTH_M = 0.05
HANDLE_RADIUS_M = 0.008
# The handle's offset (m) from the cabinet's origin (the middle of its footprint on the
# table) with the drawer closed.
HANDLE_CLOSED_OFFSET_M = (-CABINET_HALF_M[0] - HANDLE_STANDOFF_M, 0.0, HANDLE_HEIGHT_M)
# Collision bits: cabinet and drawer geoms touch everything but each other (MuJoCo pairs
# two geoms when either one's contype shares a bit with the other's conaffinity, and every
# geom's conaffinity is 1); the drawer rides on its joint.
CABINET_CONTYPE, DRAWER_CONTYPE = 4, 2
# Where the cabinet waits when a task does not use it: on the floor, beside the table.
CABINET_PARKED_POS = (0.25, -1.4, FLOOR_Z_M)
CAMERAS = ("overview", "top")


def new_tabletop_spec() -> mujoco.MjSpec:
    """Return a spec holding the table, lights, cameras and physics options, with no robot."""
    spec = mujoco.MjSpec()
    spec.modelname = "portia_tabletop"
    configure_scene(spec)
    add_table(spec, TABLE_HALF_M, TABLE_CENTER_X_M)
    add_floor(spec, (3, 3), 0)
    spec.worldbody.add_light(
        name="key", pos=[0.4, -0.4, 1.6], dir=[0, 0.3, -1], diffuse=[0.7, 0.7, 0.7], castshadow=True
    )
    add_camera(spec, "overview", pos=(1.25, -0.85, 0.85), target=(0.35, 0.0, 0.1))
    add_camera(spec, "top", pos=(0.42, 0.0, 1.3), target=(0.42, 0.0, 0.0), up=(1.0, 0.0, 0.0))
    return spec


def configure_scene(spec: mujoco.MjSpec) -> None:
    """Set the physics options and visual quality every tabletop scene shares.

    Also adds the checkered ``table`` material. Angles are in radians, the timestep is
    ``TIMESTEP_S``, contacts use elliptic friction cones (``scenes.base.configure_spec``
    gives the rest).
    """
    configure_spec(spec, TIMESTEP_S)
    # Elliptic cones with a high impratio keep grasped objects from slipping.
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 10.0
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]
    add_checker_material(
        spec, "table", rgb1=[0.72, 0.68, 0.6], rgb2=[0.66, 0.62, 0.55], texrepeat=[8, 8]
    )


def add_table(spec: mujoco.MjSpec, half_m: tuple[float, float, float], center_x_m: float) -> None:
    """Add the slippery ``table``: a box of half-sizes ``half_m`` (m), its top at z = 0.

    It is centred at x = ``center_x_m`` (m), y = 0, and covered in the ``table`` material.
    A box, not a plane: planes are infinite, and a block pushed off the edge must fall.
    """
    spec.worldbody.add_geom(
        name="table",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=list(half_m),
        pos=[center_x_m, 0, -half_m[2]],
        friction=[TABLE_FRICTION, 0.005, 0.0001],
        material="table",
    )


def add_floor(spec: mujoco.MjSpec, half_m: tuple[float, float], center_x_m: float) -> None:
    """Add the ``floor``: a plane at z = ``FLOOR_Z_M`` (m), under the table.

    It is centred at x = ``center_x_m`` (m), y = 0, and drawn ``half_m`` (m) out in x and y.
    """
    spec.worldbody.add_geom(
        name="floor",
        type=mujoco.mjtGeom.mjGEOM_PLANE,
        size=[*half_m, 0.05],
        pos=[center_x_m, 0, FLOOR_Z_M],
        rgba=[0.3, 0.32, 0.35, 1],
    )


def add_block(
    spec: mujoco.MjSpec,
    name: str,
    pos: tuple[float, float, float],
    mass_kg: float,
    rgba: tuple[float, float, float, float],
) -> None:
    """Add a free 4 cm cube ``name`` at ``pos``, with sensors ``<name>_pos`` and ``<name>_quat``.

    ``block`` also gets ``block_vel`` and ``block_angvel`` (linear and angular velocity).
    Size, mass, friction and colour are set per task at reset; these are the defaults. It
    is built in play (colliding, so the compiler gives it its bounding volume); a task that
    does not use it parks it (``tasks.objects``).
    """
    body = spec.worldbody.add_body(name=name, pos=list(pos))
    body.add_freejoint(name=name)
    body.add_geom(
        name=name,
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[BLOCK_HALF_M] * 3,
        mass=mass_kg,
        friction=[1.0, 0.01, 0.001],
        rgba=list(rgba),
    )
    sensors = [
        ("pos", mujoco.mjtSensor.mjSENS_FRAMEPOS),
        ("quat", mujoco.mjtSensor.mjSENS_FRAMEQUAT),
    ]
    if name == "block":
        sensors += [
            ("vel", mujoco.mjtSensor.mjSENS_FRAMELINVEL),
            ("angvel", mujoco.mjtSensor.mjSENS_FRAMEANGVEL),
        ]
    for kind, sensor in sensors:
        spec.add_sensor(
            name=f"{name}_{kind}", type=sensor, objtype=mujoco.mjtObj.mjOBJ_BODY, objname=name
        )


def add_drawer(spec: mujoco.MjSpec) -> None:
    """Add the cabinet (parked) with its drawer, the handle site and the drawer's sensors.

    The cabinet is a fixed shell open towards the arm; the drawer, a tray with a front panel
    and a bar handle on two posts, slides out of it along -x. Sensors: ``handle_pos`` (the
    bar's centre), ``drawer_pos`` (opening, m) and ``drawer_vel`` (m/s).
    """
    hx, hy, hz = CABINET_HALF_M
    wall = 0.005
    cabinet = spec.worldbody.add_body(name="cabinet", pos=list(CABINET_PARKED_POS))
    shell_rgba = [0.55, 0.42, 0.3, 1]
    for part, size, pos in (
        ("bottom", (hx, hy, wall), (0, 0, wall)),
        ("top", (hx, hy, wall), (0, 0, 2 * hz - wall)),
        ("left", (hx, wall, hz), (0, hy - wall, hz)),
        ("right", (hx, wall, hz), (0, -hy + wall, hz)),
        ("back", (wall, hy, hz), (hx - wall, 0, hz)),
    ):
        cabinet.add_geom(
            name=f"cabinet_{part}",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=list(size),
            pos=list(pos),
            rgba=shell_rgba,
            contype=CABINET_CONTYPE,
        )
    drawer = cabinet.add_body(name="drawer", pos=[0, 0, 0])
    drawer.add_joint(
        name="drawer",
        type=mujoco.mjtJoint.mjJNT_SLIDE,
        axis=[-1, 0, 0],
        range=[0, DRAWER_TRAVEL_M],
        damping=2.0,
        frictionloss=0.0,
        armature=0.01,
    )
    inner = (hx - 2 * wall, hy - 2 * wall)
    tray_rgba = [0.75, 0.62, 0.45, 1]
    tray_height = hz - 2 * wall
    for part, size, pos in (
        ("floor", (inner[0], inner[1], wall), (0, 0, 3 * wall)),
        ("front", (wall, inner[1], tray_height), (-hx + wall, 0, 2 * wall + tray_height)),
        ("rear", (wall, inner[1], tray_height), (hx - 3 * wall, 0, 2 * wall + tray_height)),
    ):
        drawer.add_geom(
            name=f"drawer_{part}",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=list(size),
            pos=list(pos),
            mass=DRAWER_MASS_KG / 3,
            rgba=tray_rgba,
            contype=DRAWER_CONTYPE,
        )
    bar_x, _, bar_z = HANDLE_CLOSED_OFFSET_M
    handle_rgba = [0.2, 0.2, 0.22, 1]
    for side in (-1, 1):
        post_y = side * HANDLE_HALF_LENGTH_M
        drawer.add_geom(
            name=f"handle_post_{'left' if side > 0 else 'right'}",
            type=mujoco.mjtGeom.mjGEOM_CAPSULE,
            fromto=[-hx, post_y, bar_z, bar_x, post_y, bar_z],
            size=[0.006, 0, 0],
            mass=0.01,
            rgba=handle_rgba,
            contype=DRAWER_CONTYPE,
        )
    drawer.add_geom(
        name="handle",
        type=mujoco.mjtGeom.mjGEOM_CAPSULE,
        fromto=[bar_x, -HANDLE_HALF_LENGTH_M, bar_z, bar_x, HANDLE_HALF_LENGTH_M, bar_z],
        size=[HANDLE_RADIUS_M, 0, 0],
        mass=0.02,
        rgba=handle_rgba,
        contype=DRAWER_CONTYPE,
    )
    drawer.add_site(name="handle", pos=list(HANDLE_CLOSED_OFFSET_M), size=[0.005, 0, 0])
    spec.add_sensor(
        name="handle_pos",
        type=mujoco.mjtSensor.mjSENS_FRAMEPOS,
        objtype=mujoco.mjtObj.mjOBJ_SITE,
        objname="handle",
    )
    for kind, sensor in (
        ("pos", mujoco.mjtSensor.mjSENS_JOINTPOS),
        ("vel", mujoco.mjtSensor.mjSENS_JOINTVEL),
    ):
        spec.add_sensor(
            name=f"drawer_{kind}", type=sensor, objtype=mujoco.mjtObj.mjOBJ_JOINT, objname="drawer"
        )


def add_goal_marker(spec: mujoco.MjSpec, radius_m: float) -> None:
    """Add the goal site: a translucent green sphere of the success radius, drawn only."""
    spec.worldbody.add_site(
        name="goal", pos=[0.42, 0, 0.1], size=[radius_m, 0, 0], rgba=[0.1, 0.8, 0.2, 0.35]
    )

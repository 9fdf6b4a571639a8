"""The tabletop scene: a table at z = 0, one block, a goal marker, lights and cameras.

Named elements:
    bodies   block (free joint ``block``), the 4 cm cube the object tasks move
    geoms    table (a 1.2 m x 1.2 m box, top at z = 0, centred at x = 0.25 m), floor (0.75 m below)
    sites    goal (a translucent marker; drawn only, never touched)
    cameras  overview (fixed, looking at the workspace from the front right), top (straight down)
    sensors  block_pos, block_quat (w, x, y, z), block_vel, block_angvel
"""

from __future__ import annotations

import mujoco
import numpy as np

TIMESTEP_S = 0.002
BLOCK_HALF_M = 0.02
BLOCK_MASS_KG = 0.1
TABLE_HALF_M = (0.6, 0.6, 0.02)
TABLE_CENTER_X_M = 0.25
FLOOR_Z_M = -0.75
# Where the block waits when a task does not use it: on the table, behind the arm's base.
BLOCK_PARKED_POS = (-0.2, 0.4, BLOCK_HALF_M)
CAMERAS = ("overview", "top")
# The largest frame (width, height) in pixels that offscreen rendering can produce.
MAX_FRAME_SIZE = (1280, 960)


def new_tabletop_spec() -> mujoco.MjSpec:
    """Return a spec holding the table, lights, cameras and physics options, with no robot."""
    spec = mujoco.MjSpec()
    spec.modelname = "portia_tabletop"
    spec.compiler.degree = False
    spec.option.timestep = TIMESTEP_S
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    # Elliptic cones with a high impratio keep grasped objects from slipping.
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 10.0
    spec.visual.global_.offwidth = MAX_FRAME_SIZE[0]
    spec.visual.global_.offheight = MAX_FRAME_SIZE[1]
    # A small shadow map and no multisampling or reflections: software (CPU) OpenGL renders
    # a frame in about 25 ms instead of 180 ms, and the picture stays clear.
    spec.visual.quality.shadowsize = 1024
    spec.visual.quality.offsamples = 0
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]

    spec.add_texture(
        name="grid",
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        width=256,
        height=256,
        rgb1=[0.72, 0.68, 0.6],
        rgb2=[0.66, 0.62, 0.55],
    )
    grid = spec.add_material(name="table", texrepeat=[8, 8])
    grid.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "grid"
    world = spec.worldbody
    # A box, not a plane: planes are infinite, and a block pushed off the edge must fall.
    world.add_geom(
        name="table",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=list(TABLE_HALF_M),
        pos=[TABLE_CENTER_X_M, 0, -TABLE_HALF_M[2]],
        material="table",
    )
    world.add_geom(
        name="floor",
        type=mujoco.mjtGeom.mjGEOM_PLANE,
        size=[3, 3, 0.05],
        pos=[0, 0, FLOOR_Z_M],
        rgba=[0.3, 0.32, 0.35, 1],
    )
    world.add_light(
        name="key", pos=[0.4, -0.4, 1.6], dir=[0, 0.3, -1], diffuse=[0.7, 0.7, 0.7], castshadow=True
    )
    _add_camera(spec, "overview", pos=(1.25, -0.85, 0.85), target=(0.35, 0.0, 0.1))
    _add_camera(spec, "top", pos=(0.42, 0.0, 1.3), target=(0.42, 0.0, 0.0), up=(1.0, 0.0, 0.0))
    return spec


def add_block(spec: mujoco.MjSpec) -> None:
    """Add the free block and its sensors (position, orientation, linear and angular velocity)."""
    block = spec.worldbody.add_body(name="block", pos=list(BLOCK_PARKED_POS))
    block.add_freejoint(name="block")
    block.add_geom(
        name="block",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[BLOCK_HALF_M] * 3,
        mass=BLOCK_MASS_KG,
        friction=[1.0, 0.01, 0.001],
        rgba=[0.85, 0.2, 0.15, 1],
    )
    sensors = (
        ("block_pos", mujoco.mjtSensor.mjSENS_FRAMEPOS),
        ("block_quat", mujoco.mjtSensor.mjSENS_FRAMEQUAT),
        ("block_vel", mujoco.mjtSensor.mjSENS_FRAMELINVEL),
        ("block_angvel", mujoco.mjtSensor.mjSENS_FRAMEANGVEL),
    )
    for name, sensor in sensors:
        spec.add_sensor(name=name, type=sensor, objtype=mujoco.mjtObj.mjOBJ_BODY, objname="block")


def add_goal_marker(spec: mujoco.MjSpec, radius_m: float) -> None:
    """Add the goal site: a translucent green sphere of the success radius, drawn only."""
    spec.worldbody.add_site(
        name="goal", pos=[0.42, 0, 0.1], size=[radius_m, 0, 0], rgba=[0.1, 0.8, 0.2, 0.35]
    )


def _add_camera(
    spec: mujoco.MjSpec,
    name: str,
    *,
    pos: tuple[float, float, float],
    target: tuple[float, float, float],
    up: tuple[float, float, float] = (0.0, 0.0, 1.0),
) -> None:
    """Add a fixed camera at ``pos`` looking at ``target``."""
    forward = np.subtract(target, pos)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, forward)
    camera = spec.worldbody.add_camera(name=name, pos=list(pos), fovy=45.0)
    camera.alt.type = mujoco.mjtOrientation.mjORIENTATION_XYAXES
    camera.alt.xyaxes = np.concatenate([right, cam_up])

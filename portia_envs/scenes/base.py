"""What every scene shares: physics options, quick rendering, checkered materials, cameras."""

from __future__ import annotations

import mujoco
import numpy as np

# The largest frame (width, height) in pixels that offscreen rendering can produce.
MAX_FRAME_SIZE = (1280, 960)


def configure_spec(spec: mujoco.MjSpec, timestep_s: float) -> None:
    """Set the options every scene starts from: radians, ``timestep_s`` (s), quick rendering.

    The integrator is implicit-fast. Offscreen frames go up to ``MAX_FRAME_SIZE``, with a
    small shadow map and no multisampling: software (CPU) OpenGL renders a frame in about
    25 ms instead of 180 ms, and the picture stays clear.
    """
    spec.compiler.degree = False
    spec.option.timestep = timestep_s
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.visual.global_.offwidth = MAX_FRAME_SIZE[0]
    spec.visual.global_.offheight = MAX_FRAME_SIZE[1]
    spec.visual.quality.shadowsize = 1024
    spec.visual.quality.offsamples = 0


def add_checker_material(
    spec: mujoco.MjSpec,
    name: str,
    *,
    rgb1: list[float],
    rgb2: list[float],
    texrepeat: list[int],
    **material: float,
) -> None:
    """Add material ``name``: a 256 x 256 checker texture named ``grid`` of two colours.

    Args:
        spec: The model under construction.
        name: The material's name.
        rgb1: One colour of the checks, RGB in 0-1.
        rgb2: The other colour.
        texrepeat: How often the texture repeats across a surface, in x and y.
        **material: Further material attributes (``specular``, ``shininess``, ...).
    """
    spec.add_texture(
        name="grid",
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        width=256,
        height=256,
        rgb1=rgb1,
        rgb2=rgb2,
    )
    grid = spec.add_material(name=name, texrepeat=texrepeat, **material)
    grid.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "grid"


def add_camera(
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

"""The arena: a flat floor with lights and cameras, a fly for prey, and one wall for detours.

Both the fly and the wall are fixed bodies of the world whose placement is model data: a
task writes their positions (and the wall's yaw and length) at reset with
``ArenaWriter`` without recompiling, and a task that needs no wall leaves it parked far
away, under the floor.

Named elements:
    geoms    floor (a plane at z = 0, drawn ``ARENA_HALF_M`` out from the origin), prey (the
             fly's body, a sphere; drawn only, never touched), wall (a box standing on the
             floor; the spider cannot pass or climb it)
    bodies   prey (fixed; ``body_pos`` is where the fly sits), wall (fixed; ``body_pos`` is
             the middle of its footprint, ``body_quat`` its yaw about z)
    sites    prey_zone (a flat translucent disc around the fly: the success radius)
    cameras  overview (fixed, high behind the start, seeing the whole play area), top
             (straight down on the origin, +x up in the picture)
"""

from __future__ import annotations

import mujoco
import numpy as np
from numpy.typing import NDArray

from portia_envs.scenes.base import add_camera, add_checker_material, configure_spec

TIMESTEP_S = 0.004
# The floor is drawn this far (m) from the origin in x and y; every task stays well inside.
ARENA_HALF_M = 3.0
FLOOR_FRICTION = 1.0
# The fly: its body's radius (m), and how high its centre sits (m).
PREY_RADIUS_M = 0.025
PREY_HEIGHT_M = PREY_RADIUS_M
# The wall: thickness and height (m), and the longest it may be made (m, half-length):
# it is built that long, so collision bounds set at compile time cover any placement.
WALL_HALF_THICKNESS_M = 0.025
WALL_HALF_HEIGHT_M = 0.15
WALL_MAX_HALF_LENGTH_M = 1.0
# Where the wall waits when a task does not use it: far off and under the floor.
WALL_PARKED_POS = (0.0, 2.0 * ARENA_HALF_M, -1.0)
# Where the fly waits before a task places it, m.
PREY_PARKED_POS = (1.0, 0.0, PREY_HEIGHT_M)
# Collision bits: floor and wall touch the spider (whose geoms have contype 2 and
# conaffinity 1) and nothing else.
SCENE_CONTYPE, SCENE_CONAFFINITY = 1, 0
CAMERAS = ("overview", "top")

_WALL_RGBA = (0.62, 0.6, 0.66, 1.0)
_PREY_RGBA = (0.08, 0.35, 0.12, 1.0)
_WING_RGBA = (0.85, 0.9, 0.95, 0.6)


def new_arena_spec() -> mujoco.MjSpec:
    """Return a spec holding the floor, fly, wall (parked), lights, cameras and physics options."""
    spec = mujoco.MjSpec()
    spec.modelname = "portia_arena"
    configure_spec(spec, TIMESTEP_S)
    spec.visual.headlight.ambient = [0.25, 0.25, 0.25]
    spec.visual.headlight.diffuse = [0.3, 0.3, 0.3]
    # A matte floor: a shiny one shows the key light as a glare from above.
    add_checker_material(
        spec,
        "floor",
        rgb1=[0.78, 0.74, 0.64],
        rgb2=[0.7, 0.66, 0.57],
        texrepeat=[12, 12],
        specular=0.05,
        shininess=0.1,
    )
    world = spec.worldbody
    world.add_geom(
        name="floor",
        type=mujoco.mjtGeom.mjGEOM_PLANE,
        size=[ARENA_HALF_M, ARENA_HALF_M, 0.05],
        friction=[FLOOR_FRICTION, 0.005, 0.0001],
        material="floor",
        contype=SCENE_CONTYPE,
        conaffinity=SCENE_CONAFFINITY,
    )
    world.add_light(
        name="key",
        type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL,
        pos=[0.5, -1.0, 4.0],
        dir=[-0.1, 0.25, -1],
        diffuse=[0.55, 0.55, 0.55],
        specular=[0.1, 0.1, 0.1],
        castshadow=True,
    )
    _add_prey(spec)
    wall = world.add_body(name="wall", pos=list(WALL_PARKED_POS))
    wall.add_geom(
        name="wall",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[WALL_HALF_THICKNESS_M, WALL_MAX_HALF_LENGTH_M, WALL_HALF_HEIGHT_M],
        rgba=_WALL_RGBA,
        contype=SCENE_CONTYPE,
        conaffinity=SCENE_CONAFFINITY,
    )
    add_camera(spec, "overview", pos=(0.0, -3.0, 3.1), target=(0.0, 0.05, 0.0))
    add_camera(spec, "top", pos=(0.0, 0.0, 5.0), target=(0.0, 0.0, 0.0), up=(1.0, 0.0, 0.0))
    return spec


def _add_prey(spec: mujoco.MjSpec) -> None:
    """Add the fly: a green body with two pale wings and a success-zone disc, all drawn only."""
    prey = spec.worldbody.add_body(name="prey", pos=list(PREY_PARKED_POS))
    prey.add_geom(
        name="prey",
        type=mujoco.mjtGeom.mjGEOM_SPHERE,
        size=[PREY_RADIUS_M, 0, 0],
        rgba=_PREY_RGBA,
        contype=0,
        conaffinity=0,
    )
    for side in (-1, 1):
        prey.add_geom(
            name=f"prey_wing_{'left' if side > 0 else 'right'}",
            type=mujoco.mjtGeom.mjGEOM_ELLIPSOID,
            size=[0.022, 0.012, 0.003],
            pos=[-0.012, side * 0.018, 0.015],
            euler=[0.0, 0.0, side * 0.5],
            rgba=_WING_RGBA,
            contype=0,
            conaffinity=0,
        )
    prey.add_site(
        name="prey_zone",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        pos=[0, 0, 0.001 - PREY_HEIGHT_M],
        size=[0.12, 0.001, 0],
        rgba=(0.95, 0.75, 0.1, 0.35),
    )


class ArenaWriter:
    """Places the fly and the wall in one compiled model by writing its constants.

    Only values change, never the model's structure: the bodies are fixed to the world,
    so their placement is ``body_pos`` / ``body_quat``, and the wall's length its
    ``geom_size`` with the bounding volumes that collision detection reads.

    Args:
        model: The model to change (the env's).
    """

    def __init__(self, model: mujoco.MjModel) -> None:
        self._model = model
        self._prey = model.body("prey").id
        self._wall = model.body("wall").id
        self._wall_geom = model.geom("wall").id
        self._zone = model.site("prey_zone").id

    def place_prey(self, xy: NDArray[np.float64]) -> None:
        """Put the fly at ground position ``xy`` (m), shape ``(2,)``."""
        self._model.body_pos[self._prey] = xy[0], xy[1], PREY_HEIGHT_M

    def set_zone_radius(self, radius_m: float) -> None:
        """Draw the success zone around the fly with radius ``radius_m`` (m)."""
        self._model.site_size[self._zone, 0] = radius_m

    def place_wall(
        self, centre_xy: NDArray[np.float64], yaw_rad: float, half_length_m: float
    ) -> None:
        """Stand the wall with its middle at ``centre_xy`` (m), yawed by ``yaw_rad``.

        At yaw 0 the wall runs along y. ``half_length_m`` is at most
        ``WALL_MAX_HALF_LENGTH_M``.
        """
        assert 0.0 < half_length_m <= WALL_MAX_HALF_LENGTH_M
        model = self._model
        model.body_pos[self._wall] = centre_xy[0], centre_xy[1], WALL_HALF_HEIGHT_M
        model.body_quat[self._wall] = np.cos(yaw_rad / 2), 0.0, 0.0, np.sin(yaw_rad / 2)
        self._set_wall_size(half_length_m)

    def park_wall(self) -> None:
        """Move the wall out of the way (far off, under the floor), at its longest."""
        model = self._model
        model.body_pos[self._wall] = WALL_PARKED_POS
        model.body_quat[self._wall] = 1.0, 0.0, 0.0, 0.0
        self._set_wall_size(WALL_MAX_HALF_LENGTH_M)

    def _set_wall_size(self, half_length_m: float) -> None:
        """Give the wall geom half-length ``half_length_m`` and matching bounding volumes."""
        model, geom = self._model, self._wall_geom
        size = np.array([WALL_HALF_THICKNESS_M, half_length_m, WALL_HALF_HEIGHT_M])
        model.geom_size[geom] = size
        model.geom_rbound[geom] = float(np.sqrt(size @ size))
        model.geom_aabb[geom] = 0.0, 0.0, 0.0, *size

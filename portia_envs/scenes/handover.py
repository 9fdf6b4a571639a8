"""The handover scene: a long table for two arms facing each other, one block, two marks.

The giver stands at the world origin facing +x, the taker ``ARM_SPACING_M`` along +x facing
-x; the table top is at z = 0. The block starts on the giver's side, beyond the taker's
reach; the goal lies on the taker's side, beyond the giver's; half way between them a disc
on the table marks the handoff zone, which both arms reach with the hand pointing down
(``tests/portia_envs/scenes/test_handover_scene.py`` checks all three with ``ArmIK``).

This module builds the furniture (``new_handover_spec``) and the handoff zone
(``add_handoff_zone``); ``sim.compose.handover_spec`` puts the arms, the block and the goal
marker in. Named elements of the composed scene:
    arms     giver_* and taker_*: every element of ``embodiments.arm`` with that prefix
             (joints ``giver_base_yaw`` ..., actuators of the same names, sites ``giver_grip``
             and ``taker_grip``, sensors ``giver_joint_pos_base_yaw`` ... ``taker_grip_vel``)
    bodies   block (free joint ``block``), the cube that is handed over
    geoms    table (a 2.4 m x 0.9 m box, top at z = 0, centred between the arms), floor
             (0.75 m below), block
    sites    goal (a translucent sphere of the success radius), handoff (a flat translucent
             disc on the table, the handoff zone); both drawn only, never touched
    cameras  overview (fixed, from the front, both arms in view), top (straight down, +x to
             the right of the picture)
    sensors  the giver's, then the taker's (``embodiments.arm`` order), then block_pos,
             block_quat (w, x, y, z), block_vel, block_angvel
"""

from __future__ import annotations

import mujoco
import numpy as np

from portia_envs.scenes.base import add_camera
from portia_envs.scenes.tabletop import add_floor, add_table, configure_scene

GIVER_PREFIX, TAKER_PREFIX = "giver_", "taker_"
# Distance between the two arms' bases along x, m. The arm reaches about 0.62 m from its
# base with the hand pointing down and 0.76 m from its shoulder at full stretch.
ARM_SPACING_M = 1.1
# Where each arm's base stands (m) and which way it faces (yaw, rad).
GIVER_BASE = ((0.0, 0.0, 0.0), 0.0)
TAKER_BASE = ((ARM_SPACING_M, 0.0, 0.0), np.pi)
# The table runs 0.65 m behind each base; half-sizes in m.
HANDOVER_TABLE_HALF_M = (ARM_SPACING_M / 2 + 0.65, 0.45, 0.02)
HANDOVER_TABLE_CENTER_X_M = ARM_SPACING_M / 2
# The handoff zone: a disc of this radius (m) on the table, half way between the bases.
HANDOFF_CENTER = (ARM_SPACING_M / 2, 0.0, 0.0)
HANDOFF_RADIUS_M = 0.06
# Where the block is built (m); every reset moves it.
BLOCK_START_POS = (0.25, 0.0, 0.02)
HANDOVER_BLOCK_RGBA = (0.85, 0.2, 0.15, 1.0)
HANDOVER_CAMERAS = ("overview", "top")


def new_handover_spec() -> mujoco.MjSpec:
    """Return a spec holding the long table, floor, lights, cameras and physics options.

    No arm, block or mark yet: ``sim.compose.handover_spec`` adds them.
    """
    spec = mujoco.MjSpec()
    spec.modelname = "portia_handover"
    configure_scene(spec)
    # The top camera looks straight down the lights' beams: dim highlights keep the table
    # from glaring white under it.
    spec.visual.headlight.specular = [0.05, 0.05, 0.05]
    world = spec.worldbody
    add_table(spec, HANDOVER_TABLE_HALF_M, HANDOVER_TABLE_CENTER_X_M)
    add_floor(spec, (4, 3), HANDOVER_TABLE_CENTER_X_M)
    middle = HANDOVER_TABLE_CENTER_X_M
    world.add_light(
        name="key",
        pos=[middle, -0.5, 1.8],
        dir=[0, 0.3, -1],
        diffuse=[0.6, 0.6, 0.6],
        specular=[0.1, 0.1, 0.1],
        castshadow=True,
    )
    world.add_light(
        name="fill",
        pos=[middle, 0.8, 1.5],
        dir=[0, -0.5, -1],
        diffuse=[0.25, 0.25, 0.25],
        specular=[0.05, 0.05, 0.05],
    )
    add_camera(spec, "overview", pos=(middle, -1.55, 0.95), target=(middle, 0.0, 0.12))
    add_camera(spec, "top", pos=(middle, 0.0, 1.9), target=(middle, 0.0, 0.0), up=(0.0, 1.0, 0.0))
    return spec


def add_handoff_zone(spec: mujoco.MjSpec) -> None:
    """Add the handoff zone: a thin disc just above the table top, so it is drawn over it."""
    spec.worldbody.add_site(
        name="handoff",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        pos=[HANDOFF_CENTER[0], HANDOFF_CENTER[1], 0.001],
        size=[HANDOFF_RADIUS_M, 0.001, 0],
        rgba=[0.95, 0.75, 0.1, 0.45],
    )

"""The arm env's observation vector: its named parts, in order, and where each one lies.

Scoring reads positions straight out of observation vectors (real, imagined or stored), so
the layout lives with the tasks; the env builds vectors to it. The body's parts come first
and their sizes depend on its joint count (``observation_layout``); the scene's parts follow
unchanged, ``Layout.shift`` places away from where the six-joint arm has them.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from portia_envs.tasks.layout import part_bounds, part_slices

# (name, size, bound) of each part of the scene, in order. Bounds are limits no state
# reaches, declared so that the space is finite: the arms reach about 1 m and block episodes
# end when a block leaves the table, so 10 m bounds every position; speeds are two orders of
# magnitude above the largest seen under random actions (30 rad/s, 8 m/s).
SCENE_LAYOUT = (
    ("block_pos", 3, 10.0),
    ("block_quat", 4, 1.0),
    ("block_vel", 3, 1e3),
    ("block_angvel", 3, 1e4),
    ("support_pos", 3, 10.0),
    ("support_quat", 4, 1.0),
    ("handle_pos", 3, 10.0),
    ("drawer_pos", 1, 1.0),
    ("drawer_vel", 1, 1e3),
    ("block_rel_pos", 3, 20.0),
    ("handle_rel_pos", 3, 20.0),
    ("block_size", 1, 1.0),
    ("support_size", 1, 1.0),
)
# The joint count of the six-joint arm, whose layout the module constants below describe.
ARM_N_JOINTS = 6


class Layout(NamedTuple):
    """The observation vector of a body with ``n_joints`` hinges, at the tabletop.

    Attributes:
        parts: ``(name, size, bound)`` of each part, in order.
        slices: Each part's slice of the vector, by name.
        size: The vector's length.
        bound: Each value's bound, shape ``(size,)``.
        n_sensor_readings: The parts up to ``drawer_vel`` are sensor readings, in the
            model's sensor order; the rest are computed (relative positions) or known (the
            blocks' half-sizes, m).
        shift: Where the scene's parts lie relative to the six-joint arm's layout (0 for it,
            negative for a body with fewer joints); scoring reads at offsets shifted by it.
    """

    parts: tuple[tuple[str, int, float], ...]
    slices: dict[str, slice]
    size: int
    bound: NDArray[np.float64]
    n_sensor_readings: int
    shift: int


def body_layout(n_joints: int) -> tuple[tuple[str, int, float], ...]:
    """Return ``(name, size, bound)`` of the body's parts for a body of ``n_joints`` hinges.

    Joint positions (rad), joint velocities (rad/s), finger positions (m), finger velocities
    (m/s), the grip site's position (m, world frame) and velocity (m/s), as the body's
    sensors are ordered.
    """
    return (
        ("joint_pos", n_joints, 2 * np.pi),
        ("joint_vel", n_joints, 1e4),
        ("finger_pos", 2, 10.0),
        ("finger_vel", 2, 1e3),
        ("grip_pos", 3, 10.0),
        ("grip_vel", 3, 1e3),
    )


@functools.cache
def observation_layout(n_joints: int) -> Layout:
    """Return the observation layout of a body with ``n_joints`` hinges (cached, read-only).

    Args:
        n_joints: The body's hinge count (6 for the arm, 4 for the arm4 bodies).
    """
    parts = body_layout(n_joints) + SCENE_LAYOUT
    slices = part_slices(parts)
    bound = part_bounds(parts)
    bound.flags.writeable = False
    return Layout(
        parts=parts,
        slices=slices,
        size=slices[parts[-1][0]].stop,
        bound=bound,
        n_sensor_readings=slices["drawer_vel"].stop,
        shift=2 * (n_joints - ARM_N_JOINTS),
    )


# The six-joint arm's layout.
_ARM = observation_layout(ARM_N_JOINTS)
OBSERVATION_LAYOUT = _ARM.parts
OBSERVATION_SIZE = _ARM.size
OBSERVATION_BOUND = part_bounds(OBSERVATION_LAYOUT)
# Each part's slice of the vector, by name.
PARTS = _ARM.slices
# The parts up to drawer_vel are sensor readings, in the model's sensor order; the rest
# are computed (relative positions) or known (the blocks' half-sizes, m).
N_SENSOR_READINGS = _ARM.n_sensor_readings

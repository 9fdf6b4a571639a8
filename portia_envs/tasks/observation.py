"""The arm env's observation vector: its named parts, in order, and where each one lies.

Scoring reads positions straight out of observation vectors (real, imagined or stored), so
the layout lives with the tasks; the env builds vectors to it.
"""

from __future__ import annotations

import numpy as np

# (name, size, bound) of each part, in order. Bounds are limits no state reaches, declared
# so that the space is finite: the arm reaches 1 m and block episodes end when a block leaves
# the table, so 10 m bounds every position; speeds are two orders of magnitude above the
# largest seen under random actions (30 rad/s, 8 m/s).
OBSERVATION_LAYOUT = (
    ("joint_pos", 6, 2 * np.pi),
    ("joint_vel", 6, 1e4),
    ("finger_pos", 2, 10.0),
    ("finger_vel", 2, 1e3),
    ("grip_pos", 3, 10.0),
    ("grip_vel", 3, 1e3),
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
OBSERVATION_SIZE = sum(size for _, size, _ in OBSERVATION_LAYOUT)
OBSERVATION_BOUND = np.concatenate([np.full(size, bound) for _, size, bound in OBSERVATION_LAYOUT])
_STARTS = np.cumsum([0] + [size for _, size, _ in OBSERVATION_LAYOUT])
# Each part's slice of the vector, by name.
PARTS = {
    name: slice(int(start), int(start) + size)
    for (name, size, _), start in zip(OBSERVATION_LAYOUT, _STARTS, strict=False)
}
# The parts up to drawer_vel are sensor readings, in the model's sensor order; the rest
# are computed (relative positions) or known (the blocks' half-sizes, m).
N_SENSOR_READINGS = PARTS["drawer_vel"].stop

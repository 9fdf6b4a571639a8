"""The spider's task families: walk to a fly (``prey``), or around a wall to it (``detour``).

A family draws its parameters uniformly from named ranges (``default_ranges``; a suite may
narrow or move them) with the env's ``np_random``. Observation building and scoring are
pure functions of arrays with a leading batch axis, each one compiled kernel, so one real
step, a batch of imagined futures and a relabelled ``compute_reward`` get the same numbers
to the last bit.

The spider always starts at the origin; every position below is in the world frame, m,
on the ground plane, and every bearing is in rad, counterclockwise from the spider's start
heading (positive: to its left).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from portia_envs.embodiments.spider import ACTION_SIZE, SENSOR_LAYOUT
from portia_envs.errors import InvalidParameterError
from portia_envs.scenes.arena import WALL_MAX_HALF_LENGTH_M
from portia_envs.tasks.family import Ranges, TaskFamily, family_index
from portia_envs.tasks.layout import part_bounds, part_slices

# Raise when the code that samples, scores or describes spider tasks changes what it returns.
SPIDER_TASK_CODE_VERSION = "spider-tasks-1"
# (name, size, bound) of each part of the observation vector, proprioception first. Bounds
# are limits no state reaches, declared so that the space is finite: episodes last 20 s at
# well under 1 m/s, so 100 m bounds every position; speeds are two orders of magnitude
# above the largest seen under random actions (25 rad/s, 1 m/s).
SPIDER_OBSERVATION_LAYOUT = (
    ("joint_pos", 16, 2 * np.pi),
    ("joint_vel", 16, 1e4),
    ("torso_height", 1, 100.0),
    ("torso_quat", 4, 1.0),
    ("torso_vel", 3, 1e3),
    ("torso_angvel", 3, 1e4),
    ("prey_rel_pos", 3, 100.0),
    ("wall_ends", 4, 100.0),
    ("wall_present", 1, 1.0),
)
SPIDER_OBSERVATION_SIZE = sum(size for _, size, _ in SPIDER_OBSERVATION_LAYOUT)
SPIDER_OBSERVATION_BOUND = part_bounds(SPIDER_OBSERVATION_LAYOUT)
SPIDER_OBSERVATION_BOUND.flags.writeable = False
# Each part's slice of the observation vector, by name.
SPIDER_PARTS: dict[str, slice] = part_slices(SPIDER_OBSERVATION_LAYOUT)
# The proprioceptive parts: everything before prey_rel_pos.
PROPRIO_SIZE = SPIDER_PARTS["prey_rel_pos"].start
# Where each sensor's readings start in the sensor data, by sensor name.
_sensor_starts = np.cumsum([0] + [size for _, size in SENSOR_LAYOUT])
SENSOR_ADDRESS: dict[str, int] = {
    name: int(start) for (name, _), start in zip(SENSOR_LAYOUT, _sensor_starts, strict=False)
}
# The episode ends when the torso's up axis has a world z below this (tilted by more than
# about 78 degrees): the spider has flipped over and cannot right itself.
FLIPPED_UP_Z = 0.2
# reward_upright = UPRIGHT_WEIGHT * (up_z - 1): 0 upright, down to -2 * UPRIGHT_WEIGHT.
UPRIGHT_WEIGHT = 0.1
# The task part of the state vector, in order (``SpiderTaskSample.vector``).
TASK_STATE_FIELDS = (
    "family",
    "start_yaw",
    "prey_x",
    "prey_y",
    "wall_present",
    "wall_x",
    "wall_y",
    "wall_yaw",
    "wall_half_length",
)

# Where the kernels read the sensor data. Every number the kernels use is written in this
# file: numba's cache is keyed on this file alone, so an offset imported from elsewhere
# could go stale in it. The checks below tie them to the body's sensor layout.
_JOINTS_END = 32
_TORSO = 32
_FANGS = 45
assert _JOINTS_END == 2 * ACTION_SIZE == SPIDER_PARTS["torso_height"].start
assert SENSOR_ADDRESS["torso_pos"] == _TORSO and SENSOR_ADDRESS["fangs_pos"] == _FANGS
_HEIGHT = SPIDER_PARTS["torso_height"].start
_QUAT = SPIDER_PARTS["torso_quat"].start
_PREY_REL = SPIDER_PARTS["prey_rel_pos"].start
_WALL_ENDS = SPIDER_PARTS["wall_ends"].start
_WALL_PRESENT = SPIDER_PARTS["wall_present"].start
assert SENSOR_ADDRESS["torso_quat"] == _TORSO + 3
assert SENSOR_ADDRESS["torso_angvel"] + 3 == _FANGS


class SpiderScores(NamedTuple):
    """A task's verdict on a batch of states; every field has shape ``(n,)``.

    Attributes:
        reward_distance: Minus the ground-plane distance (m) from the fangs to the fly.
        reward_upright: ``UPRIGHT_WEIGHT * (up_z - 1)``, with ``up_z`` the world z of the
            torso's up axis: 0 when level, negative when tilted.
        is_success: The fangs within the success radius of the fly (ground plane).
        terminated: The spider flipped over (``up_z < FLIPPED_UP_Z``).
    """

    reward_distance: NDArray[np.float64]
    reward_upright: NDArray[np.float64]
    is_success: NDArray[np.bool_]
    terminated: NDArray[np.bool_]

    @property
    def reward(self) -> NDArray[np.float64]:
        """The reward: the sum of the terms."""
        return self.reward_distance + self.reward_upright


@dataclass(frozen=True)
class SpiderTaskSample:
    """One task instance, drawn at reset.

    Attributes:
        family: Index of the family in ``SPIDER_TASK_NAMES``.
        start_yaw: The spider's start heading, rad (counterclockwise from world +x).
        prey_xy: Where the fly sits, shape ``(2,)``, m.
        wall: The wall's middle x, y (m), yaw (rad; at 0 it runs along y) and half-length
            (m), shape ``(4,)``; None when the task has no wall.
    """

    family: int
    start_yaw: float
    prey_xy: NDArray[np.float64]
    wall: NDArray[np.float64] | None

    @property
    def vector(self) -> NDArray[np.float64]:
        """The sample as the task part of the state, ``TASK_STATE_FIELDS`` in order."""
        wall = np.zeros(4) if self.wall is None else self.wall
        return np.array(
            [self.family, self.start_yaw, *self.prey_xy, float(self.wall is not None), *wall]
        )

    @classmethod
    def from_vector(cls, vector: NDArray[np.float64]) -> SpiderTaskSample:
        """Return the sample that ``vector`` (``TASK_STATE_FIELDS`` in order) holds."""
        wall = None if vector[4] == 0.0 else np.array(vector[5:9], dtype=np.float64)
        return cls(int(vector[0]), float(vector[1]), np.array(vector[2:4], dtype=np.float64), wall)

    @property
    def wall_ends(self) -> NDArray[np.float64]:
        """The wall's two ends (its local -y end, then +y end), ``[x1, y1, x2, y2]`` in m.

        Zeros when there is no wall.
        """
        if self.wall is None:
            return np.zeros(4)
        x, y, yaw, half = self.wall
        # At yaw 0 the wall runs along y: its local +y axis is (-sin yaw, cos yaw).
        along = np.array([-np.sin(yaw), np.cos(yaw)]) * half
        return np.array([x - along[0], y - along[1], x + along[0], y + along[1]])


class SpiderTask(TaskFamily):
    """A task family for the spider in the arena: how its instances are drawn and described.

    Attributes:
        name: The family's name, as used in ``task=`` and ids.
        default_ranges: Each parameter's default range (rad for angles, m for lengths).
    """

    def sample(
        self, rng: np.random.Generator, overrides: Ranges | None = None
    ) -> tuple[SpiderTaskSample, dict[str, float]]:
        """Draw a task instance from ``rng`` (the env's ``np_random``).

        Args:
            rng: The generator.
            overrides: Ranges replacing the family's defaults for some parameters.

        Returns:
            The instance, and the value drawn for each parameter (``{name: value}``).
        """
        ranges = self.ranges(overrides)
        # One draw per parameter, in the ranges' order: the same generator state gives the
        # same instance.
        values = {key: float(rng.uniform(*ranges[key])) for key in self.default_ranges}
        return self.build(values), values

    def build(self, values: dict[str, float]) -> SpiderTaskSample:
        """Return the instance with parameter values ``values``."""
        raise NotImplementedError

    def instruction(self, sample: SpiderTaskSample) -> str:
        """Return a one-line instruction in plain English for ``sample``."""
        raise NotImplementedError


class PreyTask(SpiderTask):
    """Walk to a fly on the open floor, at a random bearing and distance."""

    name = "prey"
    default_ranges = {
        "start_yaw": (-np.pi, np.pi),
        "prey_bearing": (-np.pi, np.pi),
        "prey_distance": (0.6, 1.5),
    }

    def build(self, values: dict[str, float]) -> SpiderTaskSample:
        """Put the fly ``prey_distance`` from the start at ``prey_bearing``."""
        direction = values["start_yaw"] + values["prey_bearing"]
        xy = values["prey_distance"] * np.array([np.cos(direction), np.sin(direction)])
        return SpiderTaskSample(SPIDER_TASK_NAMES.index(self.name), values["start_yaw"], xy, None)

    def instruction(self, sample: SpiderTaskSample) -> str:
        """Return e.g. "walk to the fly on your left, about 1.2 m away"."""
        bearing, distance = bearing_and_distance(sample)
        return f"walk to the fly {describe_bearing(bearing)}, about {distance:.1f} m away"


class DetourTask(SpiderTask):
    """Walk around a wall to a fly behind it.

    The wall stands across the straight line from the start to the fly, perpendicular to
    it, ``wall_distance`` from the start; the fly sits ``prey_behind_wall`` behind it. The
    line crosses the wall ``wall_shift`` from its middle (positive: towards the wall's end
    on the spider's left as it faces the fly), so one end is nearer than the other, and
    ``|wall_shift| < wall_half_length`` always: walking straight runs into it.
    """

    name = "detour"
    default_ranges = {
        "start_yaw": (-np.pi, np.pi),
        "prey_bearing": (-np.pi, np.pi),
        "wall_distance": (0.45, 0.6),
        "prey_behind_wall": (0.4, 0.7),
        "wall_half_length": (0.3, 0.5),
        "wall_shift": (-0.15, 0.15),
    }

    def ranges(self, overrides: Ranges | None = None) -> dict[str, tuple[float, float]]:
        """Return the ranges (see ``SpiderTask.ranges``); the wall must cross the line.

        Raises:
            ValueError: Also if some ``wall_shift`` could miss the wall, or a wall could be
                longer than the arena's (``WALL_MAX_HALF_LENGTH_M``).
        """
        ranges = super().ranges(overrides)
        shortest, longest = ranges["wall_half_length"]
        widest = max(abs(v) for v in ranges["wall_shift"])
        if not 0.0 < shortest or longest > WALL_MAX_HALF_LENGTH_M or widest >= shortest:
            raise InvalidParameterError(
                f"detour walls need 0 < wall_half_length <= {WALL_MAX_HALF_LENGTH_M} m and "
                f"|wall_shift| < wall_half_length; got wall_half_length "
                f"{ranges['wall_half_length']}, wall_shift {ranges['wall_shift']}"
            )
        return ranges

    def build(self, values: dict[str, float]) -> SpiderTaskSample:
        """Place the fly behind the wall, the wall across the line to it."""
        direction = values["start_yaw"] + values["prey_bearing"]
        ahead = np.array([np.cos(direction), np.sin(direction)])
        left = np.array([-ahead[1], ahead[0]])
        xy = (values["wall_distance"] + values["prey_behind_wall"]) * ahead
        middle = values["wall_distance"] * ahead + values["wall_shift"] * left
        wall = np.array([*middle, direction, values["wall_half_length"]])
        return SpiderTaskSample(SPIDER_TASK_NAMES.index(self.name), values["start_yaw"], xy, wall)

    def instruction(self, sample: SpiderTaskSample) -> str:
        """Return e.g. "the fly is behind a wall ahead of you, about 1.1 m away: walk around it"."""
        bearing, distance = bearing_and_distance(sample)
        return (
            f"the fly is behind a wall {describe_bearing(bearing)}, about {distance:.1f} m "
            "away: walk around the wall to it"
        )


def bearing_and_distance(sample: SpiderTaskSample) -> tuple[float, float]:
    """Return the fly's bearing (rad, from the start heading, in [-pi, pi]) and distance (m)."""
    x, y = sample.prey_xy
    bearing = math.atan2(y, x) - sample.start_yaw
    return math.remainder(bearing, 2 * math.pi), math.hypot(x, y)


def describe_bearing(bearing: float) -> str:
    """Return where a bearing (rad, positive to the left) points, e.g. "ahead on your left"."""
    side = "left" if bearing > 0 else "right"
    size = abs(bearing)
    if size <= np.pi / 8:
        return "straight ahead"
    if size <= 3 * np.pi / 8:
        return f"ahead on your {side}"
    if size <= 5 * np.pi / 8:
        return f"on your {side}"
    if size <= 7 * np.pi / 8:
        return f"behind you on your {side}"
    return "behind you"


# The spider's task families, in order (the ``family`` index of a sample).
SPIDER_TASKS: tuple[SpiderTask, ...] = (PreyTask(), DetourTask())
SPIDER_TASK_NAMES = tuple(task.name for task in SPIDER_TASKS)


def spider_task_index(name: str) -> int:
    """Return the index of the spider task family ``name`` in ``SPIDER_TASKS``.

    Raises:
        UnknownTaskError: If no family has that name; the message lists the known ones.
    """
    return family_index(name, SPIDER_TASK_NAMES, "spider")


def observe(
    sensors: NDArray[np.float64], prey: NDArray[np.float64], wall: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Build observation vectors and goals from sensor readings of any leading shape.

    The fly and the wall's ends are expressed relative to the torso in its heading frame:
    x along the torso's forward axis projected on the ground, y to its left, z up.

    Args:
        sensors: Sensor readings (``embodiments.spider.SENSOR_LAYOUT``), shape ``(..., 48)``.
        prey: The fly's centre, shape ``(3,)``, m.
        wall: The wall's ends ``[x1, y1, x2, y2]`` (m, world frame) then its presence
            flag (1, or 0 when there is no wall: the ends are then ignored), shape ``(5,)``.

    Returns:
        ``(observation, achieved_goal, desired_goal)``: fresh arrays of shapes
        ``(..., 51)``, ``(..., 3)`` (the fangs, z set to 0) and ``(..., 3)`` (the fly, z 0).
    """
    leading = sensors.shape[:-1]
    flat = sensors.reshape(-1, sensors.shape[-1])
    vector = np.empty((flat.shape[0], SPIDER_OBSERVATION_SIZE))
    achieved = np.empty((flat.shape[0], 3))
    _observe_kernel(flat, prey, wall, vector, achieved)
    desired = np.zeros((*leading, 3))
    desired[..., :2] = prey[:2]
    return vector.reshape(*leading, -1), achieved.reshape(*leading, 3), desired


def score(
    vectors: NDArray[np.float64],
    achieved: NDArray[np.float64],
    prey: NDArray[np.float64],
    radius_m: float,
) -> SpiderScores:
    """Score observation vectors and achieved goals: reward terms, success, termination.

    Args:
        vectors: Observation vectors, shape ``(n, 51)``.
        achieved: Achieved goals (the fangs, ground plane), shape ``(n, 3)``.
        prey: The fly's centre, shape ``(3,)``, m (only x and y count).
        radius_m: Success radius, m.

    Returns:
        The scores, each of shape ``(n,)``.
    """
    return SpiderScores(*_score_kernel(vectors, achieved, prey, radius_m))


def observe_rows(
    sensors: NDArray[np.float64], prey: NDArray[np.float64], wall: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``observe`` for many worlds at once, row ``i`` with its own fly and wall.

    Args:
        sensors: Sensor readings, shape ``(n, 48)``.
        prey: Each row's fly, shape ``(n, 3)``, m.
        wall: Each row's wall ends and presence flag, shape ``(n, 5)``.

    Returns:
        ``(observation, achieved_goal, desired_goal)``, shapes ``(n, 51)``, ``(n, 3)``,
        ``(n, 3)``: row ``i`` equal to ``observe`` of that row alone, to the last bit.
    """
    n = sensors.shape[0]
    vector = np.empty((n, SPIDER_OBSERVATION_SIZE))
    achieved = np.empty((n, 3))
    _observe_rows_kernel(sensors, prey, wall, vector, achieved)
    desired = np.zeros((n, 3))
    desired[:, :2] = prey[:, :2]
    return vector, achieved, desired


def score_rows(
    vectors: NDArray[np.float64],
    achieved: NDArray[np.float64],
    prey: NDArray[np.float64],
    radius_m: NDArray[np.float64],
) -> SpiderScores:
    """``score`` for many worlds: row ``i`` against its own fly ``(n, 3)`` and radius ``(n,)``."""
    return SpiderScores(*_score_rows_kernel(vectors, achieved, prey, radius_m))


def ground_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the distance in the ground plane (x, y) between goals, shape ``broadcast[:-1]``.

    Computed by the same code as ``score``, so the results agree to the last bit.

    Raises:
        ValueError: If the last axis is not of size 3.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    shape = np.broadcast_shapes(a.shape, b.shape)
    if shape[-1:] != (3,):
        raise InvalidParameterError(
            f"goals must have a last axis of size 3 (x, y, z in m), got {shape}"
        )
    flat_a = np.ascontiguousarray(np.broadcast_to(a, shape).reshape(-1, 3))
    flat_b = np.ascontiguousarray(np.broadcast_to(b, shape).reshape(-1, 3))
    return _distance_kernel(flat_a, flat_b).reshape(shape[:-1])


@numba.njit(cache=True, inline="always")
def _planar(dx: float, dy: float) -> float:
    return math.sqrt(dx * dx + dy * dy)


@numba.njit(cache=True)
def _distance_kernel(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = _planar(a[i, 0] - b[i, 0], a[i, 1] - b[i, 1])
    return out


@numba.njit(cache=True, inline="always")
def _observe_row(
    s: NDArray[np.float64],
    v: NDArray[np.float64],
    achieved: NDArray[np.float64],
    prey: NDArray[np.float64],
    wall: NDArray[np.float64],
) -> None:
    # One observation: readings s, into the vector v and the achieved goal.
    for j in range(_JOINTS_END):
        v[j] = s[j]
    v[_HEIGHT] = s[_TORSO + 2]
    for j in range(10):  # quaternion, linear and angular velocity
        v[_QUAT + j] = s[_TORSO + 3 + j]
    w, x, y, z = s[_TORSO + 3], s[_TORSO + 4], s[_TORSO + 5], s[_TORSO + 6]
    # The torso's forward axis on the ground gives the heading frame.
    fx = 1.0 - 2.0 * (y * y + z * z)
    fy = 2.0 * (x * y + w * z)
    norm = math.sqrt(fx * fx + fy * fy)
    c, sn = (fx / norm, fy / norm) if norm > 1e-9 else (1.0, 0.0)
    tx, ty = s[_TORSO], s[_TORSO + 1]
    dx, dy = prey[0] - tx, prey[1] - ty
    v[_PREY_REL] = c * dx + sn * dy
    v[_PREY_REL + 1] = c * dy - sn * dx
    v[_PREY_REL + 2] = prey[2] - s[_TORSO + 2]
    present = wall[4]
    for k in range(2):
        if present != 0.0:
            dx, dy = wall[2 * k] - tx, wall[2 * k + 1] - ty
            v[_WALL_ENDS + 2 * k] = c * dx + sn * dy
            v[_WALL_ENDS + 2 * k + 1] = c * dy - sn * dx
        else:
            v[_WALL_ENDS + 2 * k] = 0.0
            v[_WALL_ENDS + 2 * k + 1] = 0.0
    v[_WALL_PRESENT] = present
    achieved[0] = s[_FANGS]
    achieved[1] = s[_FANGS + 1]
    achieved[2] = 0.0


@numba.njit(cache=True)
def _observe_kernel(
    sensors: NDArray[np.float64],
    prey: NDArray[np.float64],
    wall: NDArray[np.float64],
    vector: NDArray[np.float64],
    achieved: NDArray[np.float64],
) -> None:
    for i in range(sensors.shape[0]):
        _observe_row(sensors[i], vector[i], achieved[i], prey, wall)


@numba.njit(cache=True)
def _observe_rows_kernel(
    sensors: NDArray[np.float64],
    prey: NDArray[np.float64],
    wall: NDArray[np.float64],
    vector: NDArray[np.float64],
    achieved: NDArray[np.float64],
) -> None:
    # Row i with its own fly and wall.
    for i in range(sensors.shape[0]):
        _observe_row(sensors[i], vector[i], achieved[i], prey[i], wall[i])


@numba.njit(cache=True, inline="always")
def _score_row(
    v: NDArray[np.float64],
    achieved: NDArray[np.float64],
    i: int,
    px: float,
    py: float,
    radius: float,
) -> tuple[float, float, bool, bool]:
    # Row i's (reward_distance, reward_upright, is_success, terminated).
    d = _planar(achieved[i, 0] - px, achieved[i, 1] - py)
    x, y = v[i, _QUAT + 1], v[i, _QUAT + 2]
    up_z = 1.0 - 2.0 * (x * x + y * y)
    return -d, UPRIGHT_WEIGHT * (up_z - 1.0), d < radius, up_z < FLIPPED_UP_Z


@numba.njit(cache=True)
def _score_kernel(
    v: NDArray[np.float64], achieved: NDArray[np.float64], prey: NDArray[np.float64], radius: float
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    n = v.shape[0]
    distance, upright = np.empty(n), np.empty(n)
    success, terminated = np.empty(n, np.bool_), np.empty(n, np.bool_)
    for i in range(n):
        distance[i], upright[i], success[i], terminated[i] = _score_row(
            v, achieved, i, prey[0], prey[1], radius
        )
    return distance, upright, success, terminated


@numba.njit(cache=True)
def _score_rows_kernel(
    v: NDArray[np.float64],
    achieved: NDArray[np.float64],
    prey: NDArray[np.float64],
    radius: NDArray[np.float64],
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    # Row i against its own fly and radius.
    n = v.shape[0]
    distance, upright = np.empty(n), np.empty(n)
    success, terminated = np.empty(n, np.bool_), np.empty(n, np.bool_)
    for i in range(n):
        distance[i], upright[i], success[i], terminated[i] = _score_row(
            v, achieved, i, prey[i, 0], prey[i, 1], radius[i]
        )
    return distance, upright, success, terminated

"""What every arm task family shares: sampled parameters, and scoring as pure array functions.

Scoring reads observation vectors (any batch of them, laid out as ``tasks.observation``
says), and one compiled kernel does it, so one real step, a batch of imagined futures and
a relabelled ``compute_reward`` all get the same numbers to the last bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from portia_envs.errors import InvalidParameterError
from portia_envs.scenes.tabletop import (
    BLOCK_PARKED_POS,
    SUPPORT_PARKED_POS,
    TABLE_CENTER_X_M,
    TABLE_HALF_M,
)
from portia_envs.tasks.family import Ranges, TaskFamily
from portia_envs.tasks.objects import OBJECT_PARAMS
from portia_envs.tasks.observation import PARTS

# A block is off the table once its centre is beyond the table top's edges (x, y in m)
# or below this height (m).
TABLE_TOP_X_M = (TABLE_CENTER_X_M - TABLE_HALF_M[0], TABLE_CENTER_X_M + TABLE_HALF_M[0])
TABLE_TOP_HALF_Y_M = TABLE_HALF_M[1]
FELL_Z_M = -0.1
# Where in an observation vector of the six-joint arm the kernel reads (first index of each
# part); for another body every index moves by its layout's ``shift``.
_GRIP = PARTS["grip_pos"].start
_BLOCK = PARTS["block_pos"].start
_SUPPORT = PARTS["support_pos"].start
_HANDLE = PARTS["handle_pos"].start
_BLOCK_SIZE = PARTS["block_size"].start
_SUPPORT_SIZE = PARTS["support_size"].start
_POINTS = {"grip": _GRIP, "block": _BLOCK, "handle": _HANDLE}


@dataclass(frozen=True)
class TaskSample:
    """One task instance, drawn at reset.

    Attributes:
        goal: Goal position in the world frame, shape ``(3,)``, m. For ``stack``, where the
            goal moves with the support block, it is where the goal starts.
        block_pose: The block's start x, y, z (m) and yaw (rad), shape ``(4,)``.
        support_pose: The support block's start x, y, z (m) and yaw (rad), shape ``(4,)``.
        drawer_opening: How far the drawer starts open, m.
        objects: The objects' parameters, shape ``(len(OBJECT_PARAMS),)`` (``tasks.objects``).
    """

    goal: NDArray[np.float64]
    block_pose: NDArray[np.float64]
    support_pose: NDArray[np.float64]
    drawer_opening: float
    objects: NDArray[np.float64]


class Scores(NamedTuple):
    """A task's verdict on a batch of states; every field has shape ``(n,)``.

    Attributes:
        reward_distance: Minus the achieved-to-desired goal distance, m.
        reward_approach: Minus the weighted distance from the grip to what it must handle, m.
        is_success: Achieved goal within the success radius.
        terminated: The episode ended (a block the task uses left the table top).
    """

    reward_distance: NDArray[np.float64]
    reward_approach: NDArray[np.float64]
    is_success: NDArray[np.bool_]
    terminated: NDArray[np.bool_]

    @property
    def reward(self) -> NDArray[np.float64]:
        """The reward: the sum of the terms."""
        return self.reward_distance + self.reward_approach


# The block's start and looks (block families): x, y (m), yaw (rad), half-size (m), mass
# (kg), friction, hue (0-1, wrapping; 0.5-1.15 runs cyan, blue, purple, pink, red, orange,
# yellow: every colour but the goal's green).
BLOCK_RANGES: dict[str, tuple[float, float]] = {
    "block_x": (0.32, 0.54),
    "block_y": (-0.2, 0.2),
    "block_yaw": (-np.pi / 4, np.pi / 4),
    "block_size": (0.018, 0.024),
    "block_mass": (0.05, 0.2),
    "block_friction": (0.8, 1.2),
    "block_hue": (0.5, 1.15),
}
# Where table-level goals lie (block families): x, y in m.
TABLE_GOAL_RANGES: dict[str, tuple[float, float]] = {"goal_x": (0.32, 0.54), "goal_y": (-0.2, 0.2)}
# Draws a rejection sampler makes before it gives up on ranges that leave no room.
SAMPLE_TRIES = 1000
# A box that holds every point the scorer measures while an episode runs (m, world frame):
# the grip site stays within the arms' reach (about 1.1 m of the base, at the origin),
# goals and handles lie over the table (x 0.25 +- 0.6 m, y +- 0.6 m), and a block that
# leaves the table top ends the episode or, where the task does not measure it, lies on the
# floor (z -0.75 m). Its diagonal bounds every distance a reward term measures.
WORKSPACE_LOW_M = (-1.5, -1.5, -0.75)
WORKSPACE_HIGH_M = (1.5, 1.5, 1.5)
WORKSPACE_DIAGONAL_M = math.dist(WORKSPACE_LOW_M, WORKSPACE_HIGH_M)


class ArmTask(TaskFamily):
    """A task family for the arm on the tabletop: how its instances are drawn and scored.

    A family's parameters are drawn uniformly from named ranges (``default_ranges``, which
    a suite's task may narrow or move); subclasses set the class attributes and implement
    ``draw`` and ``instruction``; scoring is shared.

    Attributes:
        name: The family's name, as used in ``task=`` and ids.
        achieved: What must reach the goal: ``"grip"`` (the grip site), ``"block"`` or
            ``"handle"`` (the drawer's).
        approach: What the approach term pulls the grip towards (``"block"`` or
            ``"handle"``), or None.
        approach_weight: Weight of the approach term.
        goal_on_support: The goal is the spot on top of the support block, wherever it is.
        success_radius_m: The family's own success radius (m); None: the env's.
        release_m: Success also needs the grip site farther than this (m) from the
            ``approach`` object: it has been let go. 0: no such need.
        keeps_on_table: The blocks (``"block"``, ``"support"``) whose leaving the table ends
            the episode.
        default_ranges: Each parameter's default range.
    """

    achieved: ClassVar[str]
    approach: ClassVar[str | None] = None
    approach_weight: ClassVar[float] = 0.0
    goal_on_support: ClassVar[bool] = False
    success_radius_m: ClassVar[float | None] = None
    release_m: ClassVar[float] = 0.0
    keeps_on_table: ClassVar[tuple[str, ...]] = ()

    def sample(self, rng: np.random.Generator, overrides: Ranges | None = None) -> TaskSample:
        """Draw a task instance from ``rng`` (the env's ``np_random``).

        Args:
            rng: The generator.
            overrides: Ranges replacing the family's defaults for some parameters.
        """
        return self.draw(rng, self.ranges(overrides))

    def draw(self, rng: np.random.Generator, ranges: dict[str, tuple[float, float]]) -> TaskSample:
        """Draw a task instance from ``rng`` given every parameter's range."""
        raise NotImplementedError

    def parameters(self, sample: TaskSample) -> dict[str, float]:
        """Return the value ``sample`` drew for each of the family's parameters, by name.

        The keys are those of ``default_ranges`` (a family whose parameter is not a plain
        function of the sample adds it): a drawn instance can be checked against any task's
        ranges, or recorded with a result.
        """
        values = dict(zip(OBJECT_PARAMS, sample.objects.tolist(), strict=True))
        for prefix, (x, y, _, yaw) in (
            ("block", sample.block_pose),
            ("support", sample.support_pose),
        ):
            values |= {f"{prefix}_x": x, f"{prefix}_y": y, f"{prefix}_yaw": yaw}
        values |= dict(zip(("goal_x", "goal_y", "goal_z"), sample.goal.tolist(), strict=True))
        values["drawer_start"] = sample.drawer_opening
        return {key: float(values[key]) for key in self.default_ranges if key in values}

    def instruction(self, goal: NDArray[np.float64], objects: NDArray[np.float64]) -> str:
        """Return a one-line instruction in plain English for a goal and the objects."""
        raise NotImplementedError

    def reward_floor(self) -> float:
        """Return the lowest reward one control period can give while an episode runs.

        Both reward terms are minus a distance between points of the workspace box
        (``WORKSPACE_LOW_M`` to ``WORKSPACE_HIGH_M``), the approach term weighted: so no
        behaviour, however bad, earns less than ``-(1 + approach_weight)`` times its
        diagonal per period. The harness scores a failed episode's remaining periods at
        this floor, so that failing never pays better than trying.
        """
        return -(1.0 + self.approach_weight) * WORKSPACE_DIAGONAL_M

    def radius(self, env_radius_m: float) -> float:
        """Return the success radius (m): the family's own, or the env's ``env_radius_m``."""
        return env_radius_m if self.success_radius_m is None else self.success_radius_m

    def score(
        self,
        vectors: NDArray[np.float64],
        goal: NDArray[np.float64],
        radius_m: float,
        shift: int = 0,
    ) -> Scores:
        """Score observation vectors: reward terms, success and termination, vectorized.

        ``reward_distance`` is minus the distance (m) from the achieved goal (``achieved``)
        to the desired goal (``goal``, or the top of the support block for
        ``goal_on_support``); ``reward_approach`` is minus ``approach_weight`` times the
        distance (m) from the grip site to ``approach``. Success is the first distance below
        ``radius_m`` (and the second above ``release_m``); termination is a block in
        ``keeps_on_table`` whose centre left the table top, past an edge or below it.

        Args:
            vectors: Observation vectors, shape ``(n, layout size)``.
            goal: The goal, shape ``(3,)``, m.
            radius_m: Success radius, m.
            shift: The body's ``tasks.observation.Layout.shift``: 0 for the six-joint arm,
                whose layout ``OBSERVATION_LAYOUT`` is.

        Returns:
            The scores, each of shape ``(n,)``.
        """
        return Scores(
            *_score_kernel(
                vectors,
                goal,
                shift,
                _POINTS[self.achieved] + shift,
                -1 if self.approach is None else _POINTS[self.approach] + shift,
                self.goal_on_support,
                self.approach_weight,
                radius_m,
                self.release_m,
                "block" in self.keeps_on_table,
                "support" in self.keeps_on_table,
            )
        )

    def desired_goals(
        self, vectors: NDArray[np.float64], goal: NDArray[np.float64], shift: int = 0
    ) -> NDArray[np.float64]:
        """Return the desired goal of each observation vector, shape ``(..., 3)``.

        The same numbers ``score`` measures against: ``goal`` itself, or for
        ``goal_on_support`` the point a block's half-size above the support block's top.
        ``shift`` is the body's layout shift, as for ``score``.
        """
        desired = np.empty((*vectors.shape[:-1], 3))
        if not self.goal_on_support:
            desired[...] = goal
            return desired
        support, sizes = _SUPPORT + shift, (_SUPPORT_SIZE + shift, _BLOCK_SIZE + shift)
        desired[...] = vectors[..., support : support + 3]
        desired[..., 2] = vectors[..., support + 2] + (
            vectors[..., sizes[0]] + vectors[..., sizes[1]]
        )
        return desired


class TaskRows:
    """The arm tasks of many worlds as arrays, scored in one compiled pass (a vector env's).

    Row ``i`` holds world ``i``'s task (``set``): its family's scoring constants, its success
    radius and its goal. ``score`` and ``desired_goals`` give, for row ``i``, the numbers
    ``ArmTask.score`` and ``ArmTask.desired_goals`` give for that task alone, to the last bit.

    Args:
        n: Number of rows (worlds).
        shift: The body's ``tasks.observation.Layout.shift``, the same for every row.
    """

    def __init__(self, n: int, shift: int) -> None:
        self.shift = shift
        self.goals = np.zeros((n, 3))
        self.achieved = np.zeros(n, dtype=np.int64)
        self.approach = np.zeros(n, dtype=np.int64)
        self.goal_on_support = np.zeros(n, dtype=np.bool_)
        self.approach_weight = np.zeros(n)
        self.radius_m = np.zeros(n)
        self.release_m = np.zeros(n)
        self.keep_block = np.zeros(n, dtype=np.bool_)
        self.keep_support = np.zeros(n, dtype=np.bool_)

    def set(self, i: int, family: ArmTask, goal: NDArray[np.float64], radius_m: float) -> None:
        """Make row ``i`` task ``family`` with ``goal`` (shape ``(3,)``, m) and ``radius_m``."""
        self.goals[i] = goal
        self.achieved[i] = _POINTS[family.achieved] + self.shift
        self.approach[i] = -1 if family.approach is None else _POINTS[family.approach] + self.shift
        self.goal_on_support[i] = family.goal_on_support
        self.approach_weight[i] = family.approach_weight
        self.radius_m[i] = radius_m
        self.release_m[i] = family.release_m
        self.keep_block[i] = "block" in family.keeps_on_table
        self.keep_support[i] = "support" in family.keeps_on_table

    def score(self, vectors: NDArray[np.float64]) -> Scores:
        """Score row ``i`` of ``vectors`` (shape ``(n, layout size)``) for row ``i``'s task."""
        return Scores(
            *_score_rows_kernel(
                vectors,
                self.goals,
                self.shift,
                self.achieved,
                self.approach,
                self.goal_on_support,
                self.approach_weight,
                self.radius_m,
                self.release_m,
                self.keep_block,
                self.keep_support,
            )
        )

    def desired_goals(self, vectors: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return each row's desired goal, shape ``(n, 3)``, as ``ArmTask.desired_goals``."""
        desired = self.goals.copy()
        rows = np.flatnonzero(self.goal_on_support)
        if rows.size:
            shift = self.shift
            support = _SUPPORT + shift
            sizes = (_SUPPORT_SIZE + shift, _BLOCK_SIZE + shift)
            on = vectors[rows]
            desired[rows] = on[:, support : support + 3]
            desired[rows, 2] = on[:, support + 2] + (on[:, sizes[0]] + on[:, sizes[1]])
        return desired

    def achieved_goals(self, vectors: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return each row's achieved goal (what its task moves to the goal), ``(n, 3)``."""
        rows = np.arange(vectors.shape[0])[:, None]
        return vectors[rows, self.achieved[:, None] + np.arange(3)]


def goal_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the Euclidean distance over the last axis (size 3), shape ``broadcast(a, b)[:-1]``.

    Computed by the same code as ``ArmTask.score``, so the results agree to the last bit.

    Raises:
        ValueError: If the last axis is not of size 3.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    shape = np.broadcast_shapes(a.shape, b.shape)
    if shape[-1:] != (3,):
        raise InvalidParameterError(
            f"goals must have a last axis of size 3 (x, y, z in m), got {shape}"
        )
    flat_a = np.broadcast_to(a, shape).reshape(-1, 3)
    flat_b = np.broadcast_to(b, shape).reshape(-1, 3)
    return _distance_kernel(flat_a, flat_b).reshape(shape[:-1])


@numba.njit(cache=True, inline="always")
def _norm3(x: float, y: float, z: float) -> float:
    return math.sqrt(x * x + y * y + z * z)


@numba.njit(cache=True)
def _distance_kernel(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = _norm3(a[i, 0] - b[i, 0], a[i, 1] - b[i, 1], a[i, 2] - b[i, 2])
    return out


@numba.njit(cache=True, inline="always")
def _off_table(x: float, y: float, z: float) -> bool:
    off_edge = x < TABLE_TOP_X_M[0] or x > TABLE_TOP_X_M[1] or abs(y) > TABLE_TOP_HALF_Y_M
    return off_edge or z < FELL_Z_M


@numba.njit(cache=True, inline="always")
def _score_row(
    v: NDArray[np.float64],
    i: int,
    gx: float,
    gy: float,
    gz: float,
    shift: int,
    achieved: int,
    approach: int,
    goal_on_support: bool,
    approach_weight: float,
    radius_m: float,
    release_m: float,
    keep_block: bool,
    keep_support: bool,
) -> tuple[float, float, bool, bool]:
    # Row i's (reward_distance, reward_approach, is_success, terminated). ``achieved`` and
    # ``approach`` come shifted; the other parts move by ``shift`` here.
    grip, block, support = _GRIP + shift, _BLOCK + shift, _SUPPORT + shift
    block_size, support_size = _BLOCK_SIZE + shift, _SUPPORT_SIZE + shift
    if goal_on_support:
        gx, gy = v[i, support], v[i, support + 1]
        gz = v[i, support + 2] + (v[i, support_size] + v[i, block_size])
    d = _norm3(v[i, achieved] - gx, v[i, achieved + 1] - gy, v[i, achieved + 2] - gz)
    a, pull = 0.0, 0.0
    if approach >= 0:
        a = _norm3(
            v[i, grip] - v[i, approach],
            v[i, grip + 1] - v[i, approach + 1],
            v[i, grip + 2] - v[i, approach + 2],
        )
        pull = -approach_weight * a
    success = d < radius_m and (release_m <= 0.0 or a > release_m)
    block_off = _off_table(v[i, block], v[i, block + 1], v[i, block + 2])
    support_off = _off_table(v[i, support], v[i, support + 1], v[i, support + 2])
    return -d, pull, success, (keep_block and block_off) or (keep_support and support_off)


@numba.njit(cache=True)
def _score_kernel(
    v: NDArray[np.float64],
    goal: NDArray[np.float64],
    shift: int,
    achieved: int,
    approach: int,
    goal_on_support: bool,
    approach_weight: float,
    radius_m: float,
    release_m: float,
    keep_block: bool,
    keep_support: bool,
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    # One pass and no temporaries: this runs on every env step and every imagined future.
    n = v.shape[0]
    distance, pull = np.empty(n), np.empty(n)
    success, terminated = np.empty(n, np.bool_), np.empty(n, np.bool_)
    for i in range(n):
        distance[i], pull[i], success[i], terminated[i] = _score_row(
            v, i, goal[0], goal[1], goal[2], shift, achieved, approach, goal_on_support,
            approach_weight, radius_m, release_m, keep_block, keep_support,
        )  # fmt: skip
    return distance, pull, success, terminated


@numba.njit(cache=True)
def _score_rows_kernel(
    v: NDArray[np.float64],
    goals: NDArray[np.float64],
    shift: int,
    achieved: NDArray[np.int64],
    approach: NDArray[np.int64],
    goal_on_support: NDArray[np.bool_],
    approach_weight: NDArray[np.float64],
    radius_m: NDArray[np.float64],
    release_m: NDArray[np.float64],
    keep_block: NDArray[np.bool_],
    keep_support: NDArray[np.bool_],
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    # Row i is scored for its own task: the same arithmetic as _score_kernel, row by row.
    n = v.shape[0]
    distance, pull = np.empty(n), np.empty(n)
    success, terminated = np.empty(n, np.bool_), np.empty(n, np.bool_)
    for i in range(n):
        distance[i], pull[i], success[i], terminated[i] = _score_row(
            v, i, goals[i, 0], goals[i, 1], goals[i, 2], shift, achieved[i], approach[i],
            goal_on_support[i], approach_weight[i], radius_m[i], release_m[i], keep_block[i],
            keep_support[i],
        )  # fmt: skip
    return distance, pull, success, terminated


def parked_block_pose() -> NDArray[np.float64]:
    """Return where the block waits when unused: x, y, z (m) and yaw (rad)."""
    return np.array([*BLOCK_PARKED_POS, 0.0])


def parked_support_pose() -> NDArray[np.float64]:
    """Return where the support block waits when unused: x, y, z (m) and yaw (rad)."""
    return np.array([*SUPPORT_PARKED_POS, 0.0])


def draw_block(
    rng: np.random.Generator, ranges: dict[str, tuple[float, float]], objects: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Draw the block's start pose and looks from ``BLOCK_RANGES``-style ``ranges``.

    Writes size, mass, friction and hue into ``objects``; returns x, y, z (resting on the
    table) and yaw, shape ``(4,)``.
    """
    x, y, yaw = (rng.uniform(*ranges[key]) for key in ("block_x", "block_y", "block_yaw"))
    objects[OBJECT_PARAMS.index("block_parked")] = 0.0
    for key in ("block_size", "block_mass", "block_friction", "block_hue"):
        objects[OBJECT_PARAMS.index(key)] = rng.uniform(*ranges[key])
    return np.array([x, y, objects[OBJECT_PARAMS.index("block_size")], yaw])


def describe_place(goal: NDArray[np.float64]) -> str:
    """Return where ``goal`` lies on the table as the robot sees it, e.g. "on the far left"."""
    depth = "near" if goal[0] < 0.39 else "far" if goal[0] > 0.47 else "middle"
    side = describe_side(goal[1])
    if depth == "middle" and side == "centre":
        return "in the middle"
    if depth == "middle":
        return f"on the {side}"
    if side == "centre":
        return f"at the {depth} centre"
    return f"on the {depth} {side}"


def describe_side(y: float) -> str:
    """Return ``"left"``, ``"right"`` or ``"centre"`` for a lateral position ``y`` (m)."""
    return "left" if y > 0.07 else "right" if y < -0.07 else "centre"


def sample_goal_xy(
    rng: np.random.Generator,
    ranges: dict[str, tuple[float, float]],
    block_pos: NDArray[np.float64],
    *,
    min_distance_m: float,
    keys: tuple[str, str] = ("goal_x", "goal_y"),
) -> NDArray[np.float64]:
    """Draw an (x, y) in the ``keys`` ranges, ``min_distance_m`` or more from ``block_pos``.

    Rejection sampling from ``rng``, so the same generator state gives the same point.

    Raises:
        ValueError: If the ranges leave (almost) no room that far from the block.
    """
    for _ in range(SAMPLE_TRIES):
        xy = np.array([rng.uniform(*ranges[keys[0]]), rng.uniform(*ranges[keys[1]])])
        if np.hypot(*(xy - block_pos[:2])) >= min_distance_m:
            return xy
    raise InvalidParameterError(
        f"{keys[0]} {ranges[keys[0]]} and {keys[1]} {ranges[keys[1]]} leave no room for a "
        f"point {min_distance_m} m from a block at {block_pos[:2]}"
    )

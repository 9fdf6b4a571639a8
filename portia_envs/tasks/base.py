"""What every arm task family shares: sampled parameters, and scoring as pure array functions.

Scoring takes positions with any leading batch shape and a trailing axis of 3 (m), and one
compiled kernel does it, so one real step, a batch of imagined futures and a relabelled
``compute_reward`` all get the same numbers to the last bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from portia_envs.scenes.tabletop import (
    BLOCK_HALF_M,
    BLOCK_PARKED_POS,
    TABLE_CENTER_X_M,
    TABLE_HALF_M,
)

# The block is off the table once its centre is beyond the table top's edges (x, y in m)
# or below this height (m).
TABLE_TOP_X_M = (TABLE_CENTER_X_M - TABLE_HALF_M[0], TABLE_CENTER_X_M + TABLE_HALF_M[0])
TABLE_TOP_HALF_Y_M = TABLE_HALF_M[1]
FELL_Z_M = -0.1


@dataclass(frozen=True)
class TaskSample:
    """One task instance's parameters, drawn at reset.

    Attributes:
        goal: Goal position in the world frame, shape ``(3,)``, m.
        block_pos: Block start position, shape ``(3,)``, m.
        block_yaw: Block start rotation about the vertical, rad.
    """

    goal: NDArray[np.float64]
    block_pos: NDArray[np.float64]
    block_yaw: float


class Scores(NamedTuple):
    """A task's verdict on a batch of states; every field has shape ``(n,)``.

    Attributes:
        reward_distance: Minus the achieved-to-desired goal distance, m.
        reward_approach: Minus the weighted grip-to-block distance, m.
        is_success: Achieved goal within the success radius.
        terminated: The episode ended (the block left the table top).
    """

    reward_distance: NDArray[np.float64]
    reward_approach: NDArray[np.float64]
    is_success: NDArray[np.bool_]
    terminated: NDArray[np.bool_]

    @property
    def reward(self) -> NDArray[np.float64]:
        """The reward: the sum of the terms."""
        return self.reward_distance + self.reward_approach


Ranges = Mapping[str, tuple[float, float]]
# Where the block starts (block families): x, y in m and yaw in rad, uniformly.
BLOCK_START_RANGES: dict[str, tuple[float, float]] = {
    "block_x": (0.32, 0.54),
    "block_y": (-0.2, 0.2),
    "block_yaw": (-np.pi / 4, np.pi / 4),
}
# Where table-level goals lie (block families): x, y in m.
TABLE_GOAL_RANGES: dict[str, tuple[float, float]] = {"goal_x": (0.32, 0.54), "goal_y": (-0.2, 0.2)}
_GOAL_TRIES = 1000


class ArmTask:
    """A task family for the arm on the tabletop: how its instances are drawn and scored.

    A family's parameters are drawn uniformly from named ranges (``default_ranges``, which
    a suite's task may narrow or move); subclasses set the class attributes and implement
    ``sample_goal`` and ``instruction``; scoring is shared.

    Attributes:
        name: The family's name, as used in ``task=`` and ids.
        moves_block: Whether the achieved goal is the block (else the grip site).
        approach_weight: Weight of the term that pulls the gripper towards the block.
        default_ranges: Each parameter's default range (m, or rad for yaws).
    """

    name: ClassVar[str]
    moves_block: ClassVar[bool]
    approach_weight: ClassVar[float]
    default_ranges: ClassVar[dict[str, tuple[float, float]]]

    def ranges(self, overrides: Ranges | None = None) -> dict[str, tuple[float, float]]:
        """Return the default ranges updated with ``overrides``, after checking them.

        Raises:
            ValueError: On an unknown parameter, or a range that is not ``low <= high``.
        """
        ranges = dict(self.default_ranges)
        for key, value in (overrides or {}).items():
            if key not in ranges:
                raise ValueError(
                    f"{self.name} has no parameter {key!r}; its parameters: "
                    f"{', '.join(self.default_ranges)}"
                )
            low, high = (float(v) for v in value)
            if not (np.isfinite(low) and np.isfinite(high) and low <= high):
                raise ValueError(f"range of {key!r} must be finite with low <= high, got {value}")
            ranges[key] = (low, high)
        return ranges

    def sample(self, rng: np.random.Generator, overrides: Ranges | None = None) -> TaskSample:
        """Draw a task instance from ``rng`` (the env's ``np_random``).

        Args:
            rng: The generator.
            overrides: Ranges replacing the family's defaults for some parameters.
        """
        ranges = self.ranges(overrides)
        if not self.moves_block:
            parked = np.asarray(BLOCK_PARKED_POS, dtype=np.float64)
            return TaskSample(self.sample_goal(rng, ranges, parked), parked, 0.0)
        block_pos = np.array(
            [rng.uniform(*ranges["block_x"]), rng.uniform(*ranges["block_y"]), BLOCK_HALF_M]
        )
        block_yaw = float(rng.uniform(*ranges["block_yaw"]))
        return TaskSample(self.sample_goal(rng, ranges, block_pos), block_pos, block_yaw)

    def sample_goal(
        self,
        rng: np.random.Generator,
        ranges: dict[str, tuple[float, float]],
        block_pos: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Draw a goal position, shape ``(3,)``, from ``ranges`` given where the block starts."""
        raise NotImplementedError

    def instruction(self, goal: NDArray[np.float64]) -> str:
        """Return a one-line instruction in plain English for the goal ``goal``."""
        raise NotImplementedError

    def score(
        self,
        grip_pos: NDArray[np.float64],
        block_pos: NDArray[np.float64],
        desired_goal: NDArray[np.float64],
        radius_m: float,
    ) -> Scores:
        """Score states: reward terms, success and termination, vectorized.

        ``reward_distance`` is minus the distance (m) from the achieved goal (the block, or
        the grip site for families that do not move it) to ``desired_goal``;
        ``reward_approach`` is minus ``approach_weight`` times the grip-to-block distance (m).
        Success is the achieved goal within ``radius_m`` of the desired goal; termination is
        the block's centre leaving the table top, past an edge or below it (block families
        only).

        Args:
            grip_pos: Grip site positions, shape ``(n, 3)``, m.
            block_pos: Block positions, shape ``(n, 3)``, m.
            desired_goal: The goal, shape ``(3,)``, m.
            radius_m: Success radius, m.

        Returns:
            The scores, each of shape ``(n,)``.
        """
        return Scores(
            *_score_kernel(
                grip_pos,
                block_pos,
                desired_goal,
                self.moves_block,
                self.approach_weight,
                radius_m,
            )
        )


def goal_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the Euclidean distance over the last axis (size 3), shape ``broadcast(a, b)[:-1]``.

    Computed by the same code as ``ArmTask.score``, so the results agree to the last bit.

    Raises:
        ValueError: If the last axis is not of size 3.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    shape = np.broadcast_shapes(a.shape, b.shape)
    if shape[-1:] != (3,):
        raise ValueError(f"goals must have a last axis of size 3 (x, y, z in m), got {shape}")
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


@numba.njit(cache=True)
def _score_kernel(
    grip: NDArray[np.float64],
    block: NDArray[np.float64],
    goal: NDArray[np.float64],
    moves_block: bool,
    approach_weight: float,
    radius_m: float,
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    # One pass and no temporaries: this runs on every env step and every imagined future.
    n = grip.shape[0]
    distance, approach = np.empty(n), np.empty(n)
    success, terminated = np.empty(n, np.bool_), np.empty(n, np.bool_)
    achieved = block if moves_block else grip
    for i in range(n):
        d = _norm3(achieved[i, 0] - goal[0], achieved[i, 1] - goal[1], achieved[i, 2] - goal[2])
        a = _norm3(grip[i, 0] - block[i, 0], grip[i, 1] - block[i, 1], grip[i, 2] - block[i, 2])
        distance[i] = -d
        approach[i] = -approach_weight * a
        success[i] = d < radius_m
        x, y, z = block[i, 0], block[i, 1], block[i, 2]
        off_edge = x < TABLE_TOP_X_M[0] or x > TABLE_TOP_X_M[1] or abs(y) > TABLE_TOP_HALF_Y_M
        terminated[i] = moves_block and (off_edge or z < FELL_Z_M)
    return distance, approach, success, terminated


def describe_place(goal: NDArray[np.float64]) -> str:
    """Return where ``goal`` lies on the table as the robot sees it, e.g. "on the far left"."""
    depth = "near" if goal[0] < 0.39 else "far" if goal[0] > 0.47 else "middle"
    side = "left" if goal[1] > 0.07 else "right" if goal[1] < -0.07 else "centre"
    if depth == "middle" and side == "centre":
        return "in the middle"
    if depth == "middle":
        return f"on the {side}"
    if side == "centre":
        return f"at the {depth} centre"
    return f"on the {depth} {side}"


def sample_goal_xy(
    rng: np.random.Generator,
    ranges: dict[str, tuple[float, float]],
    block_pos: NDArray[np.float64],
    *,
    min_distance_m: float,
) -> NDArray[np.float64]:
    """Draw a goal's (x, y) in ``goal_x`` x ``goal_y``, ``min_distance_m`` or more from the block.

    Rejection sampling from ``rng``, so the same generator state gives the same goal.

    Raises:
        ValueError: If the ranges leave (almost) no room that far from the block.
    """
    for _ in range(_GOAL_TRIES):
        xy = np.array([rng.uniform(*ranges["goal_x"]), rng.uniform(*ranges["goal_y"])])
        if np.hypot(*(xy - block_pos[:2])) >= min_distance_m:
            return xy
    raise ValueError(
        f"goal_x {ranges['goal_x']} and goal_y {ranges['goal_y']} leave no room for a goal "
        f"{min_distance_m} m from a block at {block_pos[:2]}"
    )

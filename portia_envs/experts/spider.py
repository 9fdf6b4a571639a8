"""The scripted spider expert: an alternating-tetrapod gait steered to the fly, around walls.

Gait: legs L1, R2, L3 and R4 swing together and the other four in antiphase. A central
pattern generator's phase (``GAIT_HZ`` cycles a second) drives every leg: a leg lifts
while its yaw swings it forwards and pushes back on the ground for the rest of the
cycle. A leg lifts only for the middle of its forward swing (``LIFT_DEADBAND``), so at
least four legs are commanded down at every instant and all eight for a moment at each
change of tetrapod: the gait is statically stable. The phase is the agent's only state
(``reset`` clears it); everything else is feedback on the observation.

Steering: the stride of each side is scaled by ``forward - side * turn`` (left +1,
right -1), so a positive ``turn`` shortens the left strides and lengthens the right ones
and the spider veers left; with a heading error over ``TURN_IN_PLACE_RAD`` it turns in
place (``forward = 0``, the two sides striding in opposite directions). Near the fly the
strides shorten, and with the fangs within ``STOP_M`` of it the spider stands still.

Detours: when the straight line to the fly passes within ``CLEARANCE_M`` of the wall (its
segment, from the two ends in the observation), the target is the next waypoint of the
shortest path round the wall through four corner points, ``CORNER_M`` beyond each end on
either side of it: a shortest path on a six-node visibility graph, recomputed from each
observation, which goes round the nearer end.

Measured success (``info["is_success"]`` at the last step of the registered time limit,
450 steps; ``reset(seed=k)``): ``prey`` 100/100 and ``detour`` 100/100 for seeds 0-99,
and 200/200 each for seeds 100-299. Walking straight with the same gait and steering
but blind to the wall succeeds in 0 of 40 detour episodes (seeds 0-39). The fly is first
reached after a median of 111 steps (4.4 s) in ``prey`` and 263 steps (10.5 s) in
``detour``, at most 315 steps. ``tests/portia_envs/experts/test_spider_expert.py``
checks at least 95/100 per family (``pytest -m slow``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import gymnasium
import numpy as np
from numpy.typing import NDArray

from portia_envs.embodiments.spider import (
    ACTION_SIZE,
    FANGS_FORWARD_M,
    LEGS,
    SPIDER_JOINTS,
    joint_ranges,
)
from portia_envs.envs.spider import SpiderEnv
from portia_envs.errors import InvalidTypeError
from portia_envs.experts.episode import run_episode as run_episode
from portia_envs.tasks.spider import SPIDER_PARTS

# The gait: cycles per second, yaw amplitude of a full stride (rad, each way), how far a
# swinging leg lifts (rad) and the lift of a leg on the ground (rad).
GAIT_HZ = 2.0
STRIDE_RAD = 0.3
SWING_LIFT_RAD = 0.5
STANCE_LIFT_RAD = 0.0
# A leg lifts only while cos(phase) exceeds this, so around each change of tetrapod both
# are on the ground for a moment (every leg is down for more than half of the cycle).
LIFT_DEADBAND = 0.3
# Phase offset of each leg (rad): the tetrapods L1 R2 L3 R4 and L2 R1 L4 R3 in antiphase.
LEG_PHASE_RAD = tuple(0.0 if leg in ("L1", "R2", "L3", "R4") else math.pi for leg in LEGS)
# Steering: turn command per rad of heading error, its cap while walking, and the heading
# error (rad) beyond which the spider turns in place.
TURN_GAIN = 1.2
MAX_WALKING_TURN = 0.6
TURN_IN_PLACE_RAD = 0.5
# Near the fly: strides shorten within SLOW_M (m, fangs to fly) down to MIN_FORWARD of a
# full stride, and the spider stands still within STOP_M.
SLOW_M = 0.3
MIN_FORWARD = 0.3
STOP_M = 0.05
# Detours: the torso's centre keeps CLEARANCE_M (m) from the wall (the legs reach about
# 0.3 m out); the corner waypoints stand CORNER_M beyond each end and to either side.
CLEARANCE_M = 0.35
CORNER_M = 0.42
# A path may start (at the spider) or end (at the fly) nearer the wall than CLEARANCE_M:
# then that end's clearance shrinks to this fraction of its distance to the wall.
NEAR_FRACTION = 0.9


class SpiderExpert:
    """Acts in a Portia spider env (``SpiderEnv``): walks to the fly, around the wall if need be.

    Args:
        env: A ``SpiderEnv``, wrapped or not; its ``dt`` sets the gait's pace.

    Raises:
        TypeError: If ``env`` is not a ``SpiderEnv`` underneath its wrappers.
    """

    def __init__(self, env: gymnasium.Env) -> None:
        base = env.unwrapped
        if not isinstance(base, SpiderEnv):
            raise InvalidTypeError(
                f"SpiderExpert acts in Portia spider envs (SpiderEnv, e.g. "
                f"gymnasium.make('Portia/SpiderPrey-v0')), got {type(base).__name__}"
            )
        self._phase_step = 2.0 * math.pi * GAIT_HZ * base.dt
        self._low, self._high = joint_ranges().T
        self._sides = np.array(
            [1.0 if joint.startswith("leg_L") else -1.0 for joint in SPIDER_JOINTS[::2]]
        )
        self._offsets = np.array(LEG_PHASE_RAD)
        self.phase = 0.0

    def reset(self, seed: int | None = None) -> None:
        """Start a new episode: the gait's phase back to 0 (``seed`` is unused)."""
        self.phase = 0.0

    def act(self, observation: Mapping[str, NDArray]) -> NDArray[np.float32]:
        """Return the action for one (unbatched) observation and advance the gait.

        Args:
            observation: A ``SpiderEnv`` observation dict.

        Returns:
            The action, shape ``(16,)``, float32, values in [-1, 1].
        """
        vector = np.asarray(observation["observation"], dtype=np.float64)
        prey = vector[SPIDER_PARTS["prey_rel_pos"]][:2]
        target = prey
        if vector[SPIDER_PARTS["wall_present"].start] > 0.5:
            ends = vector[SPIDER_PARTS["wall_ends"]].reshape(2, 2)
            target = next_waypoint(prey, ends)
        fangs_distance = math.hypot(prey[0] - FANGS_FORWARD_M, prey[1])
        forward, turn = steer(target, fangs_distance)
        if forward == 0.0 and turn == 0.0:
            targets = gait_targets(0.0, 0.0, 0.0, self._sides, self._offsets)
        else:
            targets = gait_targets(self.phase, forward, turn, self._sides, self._offsets)
            self.phase = (self.phase + self._phase_step) % (2.0 * math.pi)
        action = (2.0 * targets - self._high - self._low) / (self._high - self._low)
        return np.clip(action, -1.0, 1.0).astype(np.float32)


def steer(target: NDArray[np.float64], fangs_distance_m: float) -> tuple[float, float]:
    """Return ``(forward, turn)`` commands that head for ``target``; ``(0, 0)`` means stand.

    Args:
        target: Where to go, in the heading frame (x forward, y left), m.
        fangs_distance_m: The fangs' distance to the fly, m.
    """
    if fangs_distance_m < STOP_M:
        return 0.0, 0.0
    error = math.atan2(target[1], target[0])
    if abs(error) > TURN_IN_PLACE_RAD:
        return 0.0, math.copysign(1.0, error)
    forward = min(1.0, max(MIN_FORWARD, fangs_distance_m / SLOW_M))
    turn = max(-MAX_WALKING_TURN, min(MAX_WALKING_TURN, TURN_GAIN * error))
    return forward, turn * forward


def gait_targets(
    phase: float,
    forward: float,
    turn: float,
    sides: NDArray[np.float64],
    offsets: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Return the 16 hinge targets (rad, ``SPIDER_JOINTS`` order) of the tetrapod gait.

    Args:
        phase: The pattern generator's phase, rad.
        forward: Stride scale, 1 a full stride forwards, 0 none.
        turn: Steering, positive to the left (see the module docstring).
        sides: +1 for each left leg, -1 for each right one, shape ``(8,)``.
        offsets: Each leg's phase offset, rad, shape ``(8,)``.
    """
    leg_phase = phase + offsets
    stride = STRIDE_RAD * np.clip(forward - sides * turn, -1.0, 1.0)
    targets = np.empty(ACTION_SIZE)
    targets[0::2] = stride * np.sin(leg_phase)
    moving = 1.0 if (forward != 0.0 or turn != 0.0) else 0.0
    swing = np.maximum(0.0, np.cos(leg_phase) - LIFT_DEADBAND) / (1.0 - LIFT_DEADBAND)
    targets[1::2] = STANCE_LIFT_RAD + moving * SWING_LIFT_RAD * swing
    return targets


def next_waypoint(prey: NDArray[np.float64], ends: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return where to head for the fly at ``prey`` past the wall from ``ends[0]`` to ``ends[1]``.

    Everything is in the heading frame, the spider at the origin, m. The fly itself when
    the straight line keeps ``CLEARANCE_M`` from the wall, else the first waypoint of the
    shortest path through the corner points around the wall's ends.

    Args:
        prey: The fly, shape ``(2,)``.
        ends: The wall's two ends, shape ``(2, 2)``.
    """
    start = np.zeros(2)
    a, b = ends
    near_start = NEAR_FRACTION * point_segment_distance(start, a, b)
    near_prey = NEAR_FRACTION * point_segment_distance(prey, a, b)
    start_clearance = min(CLEARANCE_M, near_start)
    if segment_distance(start, prey, a, b) >= min(start_clearance, near_prey):
        return prey
    along = (b - a) / max(float(np.linalg.norm(b - a)), 1e-9)
    normal = np.array([-along[1], along[0]])
    corners = [
        end + out * CORNER_M + side * normal * CORNER_M
        for end, out in ((a, -along), (b, along))
        for side in (1.0, -1.0)
    ]
    nodes = [start, *corners, prey]
    clearances = [start_clearance, *([CLEARANCE_M] * 4), min(CLEARANCE_M, near_prey)]
    n = len(nodes)
    # Dijkstra over the six nodes; an edge is usable when it keeps both of its ends'
    # clearances from the wall.
    cost = [math.inf] * n
    previous = [-1] * n
    cost[0] = 0.0
    done = [False] * n
    for _ in range(n):
        i = min((k for k in range(n) if not done[k]), key=lambda k: cost[k])
        if cost[i] == math.inf:
            break
        done[i] = True
        for j in range(n):
            if done[j]:
                continue
            clearance = min(clearances[i], clearances[j])
            if segment_distance(nodes[i], nodes[j], a, b) < clearance:
                continue
            step = cost[i] + float(np.linalg.norm(nodes[j] - nodes[i]))
            if step < cost[j]:
                cost[j], previous[j] = step, i
    if previous[n - 1] == -1:
        # No way round that keeps its clearance: head for the nearer far corner.
        return min(
            corners, key=lambda c: float(np.linalg.norm(c)) + float(np.linalg.norm(prey - c))
        )
    node = n - 1
    while previous[node] != 0:
        node = previous[node]
    return nodes[node]


def point_segment_distance(
    p: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]
) -> float:
    """Return the distance (m) from point ``p`` to the segment from ``a`` to ``b`` (2D)."""
    ab = b - a
    length2 = float(ab @ ab)
    t = 0.0 if length2 == 0.0 else min(1.0, max(0.0, float((p - a) @ ab) / length2))
    return float(np.linalg.norm(p - (a + t * ab)))


def segment_distance(
    p: NDArray[np.float64], q: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]
) -> float:
    """Return the least distance (m) between the segments ``p``-``q`` and ``a``-``b`` (2D)."""
    if _crosses(p, q, a, b):
        return 0.0
    return min(
        point_segment_distance(p, a, b),
        point_segment_distance(q, a, b),
        point_segment_distance(a, p, q),
        point_segment_distance(b, p, q),
    )


def _crosses(
    p: NDArray[np.float64], q: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]
) -> bool:
    """Whether the segments ``p``-``q`` and ``a``-``b`` properly intersect."""

    def orient(o: NDArray[np.float64], s: NDArray[np.float64], t: NDArray[np.float64]) -> float:
        return float((s[0] - o[0]) * (t[1] - o[1]) - (s[1] - o[1]) * (t[0] - o[0]))

    d1, d2 = orient(a, b, p), orient(a, b, q)
    d3, d4 = orient(p, q, a), orient(p, q, b)
    return d1 * d2 < 0.0 and d3 * d4 < 0.0

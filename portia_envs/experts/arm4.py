"""Scripted experts for the four-hinge arms (``arm4``, ``arm4_long``): reach and push.

The kinematics are analytic (``Arm4IK``): the base yaw points the arm's plane at the target,
and in that plane a two-link solution places the wrist so that the hand points down, or
leans its fingertips forwards or backwards by a given angle. The hand cannot turn or lean
sideways, so the push expert leans only as far as the push runs along the arm's plane.

Success rates (the last step's ``info["is_success"]``), measured with
``scripts/expert_success.py --body arm4`` and ``--body arm4_long``:

    ==========  ==========================  ==========================
    family      arm4                        arm4_long
    ==========  ==========================  ==========================
    reach       100% (seeds 0-99)           100% (seeds 0-99)
                100% (seeds 100-1099)       100% (seeds 100-1099)
    push        100% (seeds 0-99)           100% (seeds 0-99)
                99.9% (seeds 100-1099)      100% (seeds 100-1099)
    ==========  ==========================  ==========================

One push episode of the 2,200 measured failed (arm4, seed 831). The slow tests assert 95%
over seeds 0-99 for each family and body.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from portia_envs.embodiments.arm4 import (
    ARM4_BODIES,
    ARM4_JOINT_RANGES,
    ARM4_JOINTS,
    Arm4Lengths,
    planar_angles,
)
from portia_envs.errors import InvalidParameterError, did_you_mean
from portia_envs.experts import push
from portia_envs.experts.ik import step_towards
from portia_envs.tasks.observation import observation_layout

# Largest change of a joint target from the joint's position per control period, rad.
MAX_JOINT_STEP_RAD = 0.2
# Longest grip move asked for per control period in reach, m (0.75 m/s at dt = 0.04 s).
REACH_STEP_M = 0.03
OPEN, CLOSED = -1.0, 1.0
_LOW = np.array([low for low, _ in ARM4_JOINT_RANGES])
_HIGH = np.array([high for _, high in ARM4_JOINT_RANGES])
_PARTS = observation_layout(len(ARM4_JOINTS)).slices


class Arm4IK:
    """Analytic inverse kinematics of a four-hinge arm's grip site, hand in the arm's plane.

    Args:
        lengths: The arm's link lengths (``embodiments.arm4.ARM4_BODIES``).
    """

    def __init__(self, lengths: Arm4Lengths) -> None:
        self.lengths = lengths

    @classmethod
    def for_body(cls, body: str) -> Arm4IK:
        """Return the solver for the named four-hinge body (``"arm4"``, ``"arm4_long"``).

        Raises:
            InvalidParameterError: If ``body`` is not a four-hinge body.
        """
        if body not in ARM4_BODIES:
            raise InvalidParameterError(
                f"no four-hinge body {body!r}; known: {', '.join(ARM4_BODIES)}"
                + did_you_mean(str(body), ARM4_BODIES)
            )
        return cls(ARM4_BODIES[body])

    def solve(self, target_pos: NDArray[np.float64], lean_rad: float = 0.0) -> NDArray[np.float64]:
        """Return joint angles that put the grip site at ``target_pos``, the hand down.

        Args:
            target_pos: Grip site target in the world frame, shape ``(3,)``, m; in front of
                the base (its horizontal distance from the base axis well above 0).
            lean_rad: The fingertips lean this far away from the base (negative: towards
                it), rad.

        Returns:
            Joint angles in ``ARM4_JOINTS`` order, clipped to ``ARM4_JOINT_RANGES``, shape
            ``(4,)``, rad.
        """
        x, y, z = (float(value) for value in target_pos)
        pitches = planar_angles(self.lengths, math.hypot(x, y), z, math.pi - lean_rad)
        return np.clip(np.array([math.atan2(y, x), *pitches]), _LOW, _HIGH)

    def action(
        self,
        joint_pos: NDArray[np.float64],
        grip_pos: NDArray[np.float64],
        target_pos: NDArray[np.float64],
        *,
        gripper: float,
        max_step_m: float,
        lean_rad: float = 0.0,
    ) -> NDArray[np.float32]:
        """Return the env action that moves the grip one bounded step towards ``target_pos``.

        Args:
            joint_pos: Observed joint angles, shape ``(4,)``, rad.
            grip_pos: Observed grip site position, shape ``(3,)``, m.
            target_pos: Where the grip site should end up, shape ``(3,)``, m.
            gripper: Gripper command, -1 open to +1 closed.
            max_step_m: Longest move towards the target asked for in one control period, m.
            lean_rad: The hand's lean away from the base, rad (see ``solve``).

        Returns:
            The action, shape ``(5,)``, values in [-1, 1].
        """
        waypoint = step_towards(grip_pos, target_pos, max_step_m)
        change = self.solve(waypoint, lean_rad) - joint_pos
        step = np.clip(change, -MAX_JOINT_STEP_RAD, MAX_JOINT_STEP_RAD)
        return joint_action(joint_pos + step, gripper)


def joint_action(joint_pos: NDArray[np.float64], gripper: float) -> NDArray[np.float32]:
    """Return the action that holds joint targets ``joint_pos`` (shape ``(4,)``, rad).

    Returns:
        The action, shape ``(5,)``, float32: targets scaled so that -1 and +1 are the ends
        of each joint's range, then the gripper command (-1 open to +1 closed).
    """
    scaled = 2.0 * (np.clip(joint_pos, _LOW, _HIGH) - _LOW) / (_HIGH - _LOW) - 1.0
    return np.append(scaled, gripper).astype(np.float32)


def arm4_parts(observation: Mapping[str, NDArray]) -> dict[str, NDArray[np.float64]]:
    """Split a four-hinge arm's observation into its named parts, plus ``desired_goal``."""
    vector = np.asarray(observation["observation"], dtype=np.float64)
    parts = {name: vector[where] for name, where in _PARTS.items()}
    parts["desired_goal"] = np.asarray(observation["desired_goal"], dtype=np.float64)
    return parts


def arm4_reach_expert(observation: Mapping[str, NDArray], ik: Arm4IK) -> NDArray[np.float32]:
    """Return the reach action for one observation (stateless).

    The grip site moves along the straight line to the goal in bounded steps, the hand
    pointing down, the gripper open.

    Args:
        observation: An ``ArmEnv`` observation dict of a four-hinge body.
        ik: The body's kinematics.

    Returns:
        The action, shape ``(5,)``, values in [-1, 1].
    """
    parts = arm4_parts(observation)
    return ik.action(
        parts["joint_pos"],
        parts["grip_pos"],
        parts["desired_goal"],
        gripper=OPEN,
        max_step_m=REACH_STEP_M,
    )


def arm4_push_expert(observation: Mapping[str, NDArray], ik: Arm4IK) -> NDArray[np.float32]:
    """Return the push action for one observation (stateless).

    The six-joint arm's push (``experts.push``) with the hand held in the arm's plane: the
    closed pads are the pusher; low behind the block on the line from the block through the
    goal, it pushes along that line, else it rises, moves over a point behind the block and
    comes down there. The fingertips lean into the push as far as the push runs along the
    arm's plane (a sideways push cannot lean), so the pads touch the block low.

    Args:
        observation: An ``ArmEnv`` observation dict of a four-hinge body.
        ik: The body's kinematics.

    Returns:
        The action, shape ``(5,)``, values in [-1, 1].
    """
    parts = arm4_parts(observation)
    joints, grip = parts["joint_pos"], parts["grip_pos"]
    block, goal = parts["block_pos"][:2], parts["desired_goal"][:2]
    to_goal = goal - block
    distance = float(np.linalg.norm(to_goal))
    if distance < push.DONE_M:
        # Stay put: lifting the pusher here could knock the block off the goal.
        return joint_action(joints, CLOSED)

    along = to_goal / distance
    radial = grip[:2] / max(float(np.linalg.norm(grip[:2])), 1e-9)
    lean = push.PUSH_LEAN_RAD * float(along @ radial)
    target, step = push.push_target(grip, block, along, distance, float(parts["block_size"][0]))
    return ik.action(joints, grip, target, gripper=CLOSED, max_step_m=step, lean_rad=lean)


# Each family's expert for the four-hinge bodies, by family name.
ARM4_EXPERTS: dict[str, Callable[[Mapping[str, NDArray], Arm4IK], NDArray[np.float32]]] = {
    "reach": arm4_reach_expert,
    "push": arm4_push_expert,
}

"""Inverse kinematics for the arm's grip site, and the plumbing the scripted experts share.

The solver runs on its own ``mujoco.MjData`` of the env's model, so solving never touches
the simulation an expert is acting in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mujoco
import numpy as np
from numpy.typing import NDArray

from portia_envs.embodiments.arm import ARM_JOINT_RANGES, ARM_JOINTS, GRIP_SITE
from portia_envs.tasks.observation import OBSERVATION_LAYOUT

# Joint ranges (rad, ARM_JOINTS order) the solver keeps to: one branch of the arm's
# kinematics, the elbow bent one way and the forearm roll small (with it near +-pi, the
# wrist pitched the other way gives the same hand pose). Left free to change branch where
# the elbow or wrist is straight, the solver led the arm into poses pinned at joint limits.
BRANCH_JOINT_RANGES = (
    ARM_JOINT_RANGES[0],
    ARM_JOINT_RANGES[1],
    (0.0, ARM_JOINT_RANGES[2][1]),
    (-0.8, 0.8),
    ARM_JOINT_RANGES[4],
    ARM_JOINT_RANGES[5],
)
# Yaws needing the wrist roll this close (rad) to the end of its range are avoided.
ROLL_MARGIN_RAD = 0.3
_WRIST_ROLL = ARM_JOINTS.index("wrist_roll")
# Largest hand turn asked for per control period, rad: a sudden turn swings the fingers.
MAX_TURN_RAD = 0.15
# Largest change of a joint target from the joint's position per control period, rad.
MAX_JOINT_STEP_RAD = 0.2
_LOW = np.array([low for low, _ in ARM_JOINT_RANGES])
_HIGH = np.array([high for _, high in ARM_JOINT_RANGES])
# Where each named part lies in the observation vector; sizes are the layout's second field.
_OFFSETS = np.cumsum([0] + [part[1] for part in OBSERVATION_LAYOUT])
_OBSERVATION_SLICES = {
    part[0]: slice(int(start), int(stop))
    for part, start, stop in zip(OBSERVATION_LAYOUT, _OFFSETS[:-1], _OFFSETS[1:], strict=True)
}


class ArmIK:
    """Damped-least-squares inverse kinematics for the grip site's position and orientation.

    Target orientations come from ``hand_rotation``: the hand pointing down (its +z axis
    along world -z, possibly leaning), its fingers' closing axis (hand +x) at a given yaw.
    Position and orientation errors are stacked, orientation scaled by
    ``orientation_weight_m``; where the pose is out of reach the solver trades the two off.
    Joint ranges (``joint_ranges``) are kept by clipping every iteration.

    Args:
        model: The env's compiled model (``env.unwrapped.sim.model``); only read.
        joint_ranges: The (low, high) range of each arm joint that solutions keep to, rad,
            in ``ARM_JOINTS`` order; within the joints' own ranges.
        iterations: Gauss-Newton iterations per ``solve``.
        damping: Damping of the least-squares step, m: it keeps steps finite near
            singular arm configurations, at the cost of slower convergence there.
        orientation_weight_m: Metres of position error worth one radian of orientation error.
        prefix: The name prefix of the arm to solve for (as given to ``add_arm``), in a
            model with several arms.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        *,
        joint_ranges: tuple[tuple[float, float], ...] = BRANCH_JOINT_RANGES,
        iterations: int = 8,
        damping: float = 0.02,
        orientation_weight_m: float = 0.05,
        prefix: str = "",
    ) -> None:
        self._model = model
        self._data = mujoco.MjData(model)
        self._qpos = np.array([model.joint(f"{prefix}{j}").qposadr[0] for j in ARM_JOINTS])
        self._dofs = np.array([model.joint(f"{prefix}{j}").dofadr[0] for j in ARM_JOINTS])
        self._site = model.site(f"{prefix}{GRIP_SITE}").id
        self._low = np.maximum([low for low, _ in joint_ranges], _LOW)
        self._high = np.minimum([high for _, high in joint_ranges], _HIGH)
        self._iterations = iterations
        self._damping_sq = damping**2
        self._orientation_weight = orientation_weight_m
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))

    def grip_pose(
        self, joint_pos: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return the grip site's pose for arm joint positions ``joint_pos``.

        Args:
            joint_pos: Arm joint angles in ``ARM_JOINTS`` order, shape ``(6,)``, rad.

        Returns:
            The site position, shape ``(3,)``, m, and its rotation matrix, shape ``(3, 3)``,
            whose columns are the hand's axes in the world frame.
        """
        self._forward(joint_pos)
        site = self._data.site(self._site)
        return site.xpos.copy(), site.xmat.reshape(3, 3).copy()

    def hand_yaw(self, joint_pos: NDArray[np.float64]) -> float:
        """Return the yaw (rad) of the fingers' closing axis (hand +x) about the vertical."""
        _, rotation = self.grip_pose(joint_pos)
        return float(np.arctan2(rotation[1, 0], rotation[0, 0]))

    def aligned_yaw(self, joint_pos: NDArray[np.float64], yaw: float, period: float) -> float:
        """Return the hand yaw that aligns the fingers with ``yaw`` for the least turn.

        Of the yaws equivalent to ``yaw`` modulo ``period`` (what is aligned looks the same
        every ``period``), the nearest to the hand's current yaw whose wrist roll stays in
        range.

        Args:
            joint_pos: Arm joint angles, shape ``(6,)``, rad.
            yaw: The wanted yaw of the fingers' closing axis, rad.
            period: The symmetry of what is aligned, rad (pi / 2 for a cube's faces).

        Returns:
            The hand yaw to ask ``hand_rotation`` for, rad.
        """
        current = self.hand_yaw(joint_pos)
        candidates = nearest_yaw(yaw, current, period) + period * np.arange(-3, 4)
        # With the hand pointing down, turning the wrist roll by +a turns the hand's yaw by -a.
        rolls = joint_pos[_WRIST_ROLL] - (candidates - current)
        low = self._low[_WRIST_ROLL] + ROLL_MARGIN_RAD
        high = self._high[_WRIST_ROLL] - ROLL_MARGIN_RAD
        fits = (low <= rolls) & (rolls <= high)
        if not np.any(fits):
            # A period wider than the roll range can leave none: take the nearest.
            return float(candidates[3])
        return float(candidates[fits][np.argmin(np.abs(candidates[fits] - current))])

    def solve(
        self,
        joint_pos: NDArray[np.float64],
        target_pos: NDArray[np.float64],
        target_rotation: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Return arm joint positions that put the grip site at a target pose.

        Starts from ``joint_pos``, so it stays on the current arm configuration's branch.

        Args:
            joint_pos: Start joint angles in ``ARM_JOINTS`` order, shape ``(6,)``, rad.
            target_pos: Grip site target in the world frame, shape ``(3,)``, m.
            target_rotation: Target hand orientation (columns: hand axes in the world frame),
                shape ``(3, 3)``; see ``hand_rotation``.

        Returns:
            Joint angles within ``joint_ranges``, shape ``(6,)``, rad.
        """
        target_quat = np.empty(4)
        mujoco.mju_mat2Quat(target_quat, np.ascontiguousarray(target_rotation).ravel())
        quat = np.empty(4)
        rotation_error = np.empty(3)
        error = np.empty(6)
        q = np.clip(np.asarray(joint_pos, dtype=np.float64), self._low, self._high)
        for _ in range(self._iterations):
            self._forward(q)
            site = self._data.site(self._site)
            error[:3] = target_pos - site.xpos
            mujoco.mju_mat2Quat(quat, site.xmat)
            # mju_subQuat gives the rotation from the current to the target orientation in
            # the current (site) frame; the Jacobian is in the world frame.
            mujoco.mju_subQuat(rotation_error, target_quat, quat)
            error[3:] = self._orientation_weight * (site.xmat.reshape(3, 3) @ rotation_error)
            mujoco.mj_jacSite(self._model, self._data, self._jacp, self._jacr, self._site)
            jacobian = np.vstack(
                [self._jacp[:, self._dofs], self._orientation_weight * self._jacr[:, self._dofs]]
            )
            gram = jacobian @ jacobian.T + self._damping_sq * np.eye(6)
            q = np.clip(q + jacobian.T @ np.linalg.solve(gram, error), self._low, self._high)
        return q

    def action(
        self,
        joint_pos: NDArray[np.float64],
        grip_pos: NDArray[np.float64],
        target_pos: NDArray[np.float64],
        target_rotation: NDArray[np.float64],
        *,
        gripper: float,
        max_step_m: float,
        max_turn_rad: float = MAX_TURN_RAD,
    ) -> NDArray[np.float32]:
        """Return the env action that moves the hand one bounded step towards a target pose.

        Args:
            joint_pos: Observed arm joint angles, shape ``(6,)``, rad.
            grip_pos: Observed grip site position, shape ``(3,)``, m.
            target_pos: Where the grip site should end up, shape ``(3,)``, m.
            target_rotation: Target hand orientation, shape ``(3, 3)``; see ``hand_rotation``.
            gripper: Gripper command, -1 open to +1 closed.
            max_step_m: Longest move towards the target asked for in one control period, m.
            max_turn_rad: Largest turn towards the target orientation asked for in one control
                period, rad.

        Returns:
            The action, shape ``(7,)``, values in [-1, 1].
        """
        waypoint = step_towards(grip_pos, target_pos, max_step_m)
        _, rotation = self.grip_pose(joint_pos)
        turn = turn_towards(rotation, target_rotation, max_turn_rad)
        change = self.solve(joint_pos, waypoint, turn) - joint_pos
        step = np.clip(change, -MAX_JOINT_STEP_RAD, MAX_JOINT_STEP_RAD)
        return joint_action(joint_pos + step, gripper)

    def _forward(self, joint_pos: NDArray[np.float64]) -> None:
        """Run the kinematics the site pose and its Jacobian need, on the scratch data."""
        self._data.qpos[self._qpos] = joint_pos
        mujoco.mj_kinematics(self._model, self._data)
        mujoco.mj_comPos(self._model, self._data)


def joint_action(joint_pos: NDArray[np.float64], gripper: float) -> NDArray[np.float32]:
    """Return the env action that holds arm joint targets ``joint_pos``.

    Args:
        joint_pos: Arm joint targets in ``ARM_JOINTS`` order, shape ``(6,)``, rad; clipped
            to the joint ranges.
        gripper: Gripper command, -1 open to +1 closed.

    Returns:
        The action, shape ``(7,)``, float32 like the action space: joint targets scaled so
        that -1 and +1 are the ends of each range, then the gripper command.
    """
    scaled = 2.0 * (np.clip(joint_pos, _LOW, _HIGH) - _LOW) / (_HIGH - _LOW) - 1.0
    return np.append(scaled, gripper).astype(np.float32)


def hand_rotation(yaw: float, lean: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
    """Return a hand orientation pointing down, for ``ArmIK.solve``.

    Args:
        yaw: Yaw of the fingers' closing axis (hand +x) about the vertical, rad.
        lean: Horizontal vector, shape ``(2,)``: the fingertips lean towards its direction
            by its length in rad. None (or zero) points the hand straight down.

    Returns:
        The rotation matrix whose columns are the hand's axes in the world frame, (3, 3).
    """
    cos, sin = np.cos(yaw), np.sin(yaw)
    down = np.array([[cos, sin, 0.0], [sin, -cos, 0.0], [0.0, 0.0, -1.0]])
    if lean is None or not np.any(lean):
        return down
    # Turning about the horizontal axis (lean_y, -lean_x) swings the hand's +z towards lean.
    angle = float(np.linalg.norm(lean))
    quat = np.empty(4)
    mujoco.mju_axisAngle2Quat(quat, np.array([lean[1], -lean[0], 0.0]) / angle, angle)
    turn = np.empty(9)
    mujoco.mju_quat2Mat(turn, quat)
    return turn.reshape(3, 3) @ down


def nearest_yaw(yaw: float, reference: float, period: float) -> float:
    """Return the angle equivalent to ``yaw`` modulo ``period`` that is nearest ``reference``.

    Args:
        yaw: The wanted yaw, rad.
        reference: Usually the hand's current yaw, rad.
        period: The symmetry of what is aligned, rad (pi / 2 for a cube's faces).
    """
    return reference + float((yaw - reference + period / 2) % period - period / 2)


def turn_towards(
    rotation: NDArray[np.float64], target: NDArray[np.float64], max_turn_rad: float
) -> NDArray[np.float64]:
    """Return the orientation at most ``max_turn_rad`` from ``rotation`` on the way to ``target``.

    Args:
        rotation: Start orientation, a rotation matrix of shape ``(3, 3)``.
        target: Target orientation, a rotation matrix of shape ``(3, 3)``.
        max_turn_rad: Largest turn, rad.

    Returns:
        A rotation matrix of shape ``(3, 3)``.
    """
    start, goal = np.empty(4), np.empty(4)
    mujoco.mju_mat2Quat(start, np.ascontiguousarray(rotation).ravel())
    mujoco.mju_mat2Quat(goal, np.ascontiguousarray(target).ravel())
    turn = np.empty(3)
    mujoco.mju_subQuat(turn, goal, start)
    angle = float(np.linalg.norm(turn))
    if angle <= max_turn_rad:
        return np.array(target, dtype=np.float64)
    mujoco.mju_quatIntegrate(start, turn, max_turn_rad / angle)
    result = np.empty(9)
    mujoco.mju_quat2Mat(result, start)
    return result.reshape(3, 3)


def step_towards(
    start: NDArray[np.float64], target: NDArray[np.float64], max_step_m: float
) -> NDArray[np.float64]:
    """Return the point at most ``max_step_m`` from ``start`` on the segment to ``target``."""
    offset = np.asarray(target) - start
    distance = float(np.linalg.norm(offset))
    if distance <= max_step_m:
        return np.array(target, dtype=np.float64)
    return start + offset * (max_step_m / distance)


@dataclass(frozen=True)
class Descent:
    """How the grip comes down onto a point from above without sweeping into anything.

    Attributes:
        down_z: Grip site height to come down to, m.
        safe_z: Height to travel at, m: everything below is cleared.
        clear_z: Below this height (m) the grip must not move sideways far.
        descend_tol_m: Largest horizontal distance (m) from above the point to come down.
        close_in_m: Below the clear height, the grip moves sideways only this close (m).
        move_step_m: Longest move per control period travelling, m.
        descend_step_m: Longest move per control period coming down, m.
    """

    down_z: float
    safe_z: float
    clear_z: float
    descend_tol_m: float
    close_in_m: float
    move_step_m: float
    descend_step_m: float


def come_down_over(
    grip: NDArray[np.float64], point: NDArray[np.float64], descent: Descent
) -> tuple[NDArray[np.float64], float]:
    """Return the next grip target and step bound (m) for coming down onto ``point``.

    Above the point (within ``descend_tol_m``) the grip comes down; low and far from it, it
    rises first; low and near, it closes in at its height, which (unlike rising) keeps it
    from bobbing up and down across the tolerance; otherwise it travels over at the safe
    height.

    Args:
        grip: Grip site position, shape ``(3,)``, m.
        point: Where to come down, ``(x, y)``, m.
        descent: Heights, tolerances and steps.

    Returns:
        The target, shape ``(3,)``, m, and the longest move towards it this period, m.
    """
    miss = float(np.linalg.norm(grip[:2] - point))
    if miss < descent.descend_tol_m:
        return np.append(point, descent.down_z), descent.descend_step_m
    if grip[2] < descent.clear_z and miss > descent.close_in_m:
        return np.append(grip[:2], descent.safe_z), descent.move_step_m
    if grip[2] < descent.clear_z:
        return np.append(point, grip[2]), descent.move_step_m
    return np.append(point, descent.safe_z), descent.move_step_m


def observation_parts(observation: Mapping[str, NDArray]) -> dict[str, NDArray[np.float64]]:
    """Split an arm observation into its named parts (``joint_pos``, ``grip_pos``, ...).

    Args:
        observation: An ``ArmEnv`` observation dict (unbatched).

    Returns:
        The parts of ``observation["observation"]`` by name (see ``OBSERVATION_LAYOUT``),
        plus ``desired_goal``.
    """
    vector = np.asarray(observation["observation"], dtype=np.float64)
    parts = {name: vector[part] for name, part in _OBSERVATION_SLICES.items()}
    parts["desired_goal"] = np.asarray(observation["desired_goal"], dtype=np.float64)
    return parts

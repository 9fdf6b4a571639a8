"""The scripted reach expert: move the grip site straight to the goal, hand pointing down."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from portia_envs.experts.ik import ArmIK, hand_rotation, observation_parts

# Longest grip move asked for per control period, m (0.75 m/s at dt = 0.04 s).
MOVE_STEP_M = 0.03
OPEN = -1.0


def reach_expert(observation: Mapping[str, NDArray], ik: ArmIK) -> NDArray[np.float32]:
    """Return the reach expert's action for one observation (stateless).

    The grip site moves along the straight line to the goal in bounded steps, the hand
    pointing down and keeping its yaw, the gripper open.

    Args:
        observation: An ``ArmEnv`` observation dict.
        ik: Inverse kinematics for the env's model.

    Returns:
        The action, shape ``(7,)``, values in [-1, 1].
    """
    parts = observation_parts(observation)
    joints = parts["joint_pos"]
    rotation = hand_rotation(ik.hand_yaw(joints))
    return ik.action(
        joints,
        parts["grip_pos"],
        parts["desired_goal"],
        rotation,
        gripper=OPEN,
        max_step_m=MOVE_STEP_M,
    )

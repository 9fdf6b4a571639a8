"""The bodies that stand at the table, as the arm env and its agents know them.

``ARM_BODIES`` names them and ``BODY_FAMILIES`` the task families each does; ``check_body``
refuses any other name. ``arm_body(name)`` gives what the env needs of a body: its hinges
with their ranges, its home pose, the task families it does and its action map.
``arm_embodiment`` describes a body's every joint, action and proprioception dimension
(``wrappers.embodiment``), read off its compiled model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mujoco
import numpy as np
from numpy.typing import NDArray

from portia_envs.embodiments import arm, arm4
from portia_envs.errors import InvalidParameterError, did_you_mean
from portia_envs.tasks import ARM_TASK_NAMES
from portia_envs.tasks.observation import observation_layout
from wrappers.embodiment import Dimension, Embodiment, Joint

# The bodies that stand at the table: the six-joint arm, and the four-hinge arms by name.
ARM_BODIES = ("arm", *arm4.ARM4_BODIES)
# The task families a four-hinge arm does: with no roll joint it cannot turn its fingers to
# a block's faces, and it pushes with its closed fingers.
ARM4_FAMILIES = ("reach", "push")
# The families each body does, over the families' default ranges.
BODY_FAMILIES: dict[str, tuple[str, ...]] = {
    "arm": ARM_TASK_NAMES,
    **{name: ARM4_FAMILIES for name in arm4.ARM4_BODIES},
}

# The ranges the embodiment description declares for speeds: scales to normalise by, not
# limits. The scripted experts stay under 3 rad/s at the joints, 0.6 m/s at the fingers and
# 0.8 m/s at the grip site; random actions reach 30 rad/s and 8 m/s (the observation space's
# bounds are far wider). Joints in rad/s, fingers and grip site in m/s. And the grip site's
# position range, m in the world frame: the arms reach about 1.1 m from the base.
JOINT_SPEED_SCALE_RAD_S = 10.0
FINGER_SPEED_SCALE_M_S = 1.0
GRIP_SPEED_SCALE_M_S = 3.0
GRIP_POSITION_SCALE_M = 1.5


@dataclass(frozen=True)
class ArmBody:
    """What the env needs to know of a body at the table.

    Attributes:
        name: The body's name, one of ``ARM_BODIES``.
        joints: Its hinge joints, in action and observation order.
        joint_ranges: Each hinge's range, rad.
        home_qpos: Each hinge's angle in the home pose, rad.
        families: The task families it does.
        ctrl_map: Builds ``(A, b)`` with ``ctrl = action @ A.T + b`` for its compiled model.
    """

    name: str
    joints: tuple[str, ...]
    joint_ranges: tuple[tuple[float, float], ...]
    home_qpos: tuple[float, ...]
    families: tuple[str, ...]
    ctrl_map: Callable[[mujoco.MjModel], tuple[NDArray[np.float64], NDArray[np.float64]]]

    @property
    def action_size(self) -> int:
        """Joint targets, then the gripper command."""
        return len(self.joints) + 1


def check_body(body: str) -> None:
    """Raise ``InvalidParameterError`` unless ``body`` is one of ``ARM_BODIES``.

    The message lists the accepted bodies, with a "did you mean" for a misspelt one.
    """
    if body not in ARM_BODIES:
        raise InvalidParameterError(
            f"unknown body {body!r}; accepted: {', '.join(ARM_BODIES)}"
            + did_you_mean(str(body), ARM_BODIES)
        )


def arm_body(name: str) -> ArmBody:
    """Return the description of body ``name`` (``"arm"``, ``"arm4"`` or ``"arm4_long"``).

    Raises:
        InvalidParameterError: If there is no such body; the message lists the known ones.
    """
    check_body(name)
    if name == "arm":
        return ArmBody(
            name,
            arm.ARM_JOINTS,
            arm.ARM_JOINT_RANGES,
            arm.HOME_ARM_QPOS,
            BODY_FAMILIES[name],
            arm.action_to_ctrl_map,
        )
    return ArmBody(
        name,
        arm4.ARM4_JOINTS,
        arm4.ARM4_JOINT_RANGES,
        tuple(arm4.home_qpos(arm4.ARM4_BODIES[name]).tolist()),
        BODY_FAMILIES[name],
        arm4.action_to_ctrl_map,
    )


def arm_embodiment(body: ArmBody, model: mujoco.MjModel) -> Embodiment:
    """Describe ``body`` from its compiled ``model``: joints, actions and proprioception.

    Joints are the hinges, then the two finger slides. A hinge's link length is the
    distance from its axis to the next hinge's (for the last one, to the grip site) at the
    zero configuration, to the micrometre; a finger's is its pad's length.
    """
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    anchors = [data.joint(name).xanchor.copy() for name in body.joints]
    anchors.append(data.site(arm.GRIP_SITE).xpos.copy())
    n = len(body.joints)
    joints = [
        Joint(
            name=name,
            kind="hinge",
            low=float(low),
            high=float(high),
            axis=_axis(model, name),
            link_length_m=round(float(np.linalg.norm(anchors[i + 1] - anchors[i])), 6),
            parent=None if i == 0 else i - 1,
        )
        for i, (name, (low, high)) in enumerate(zip(body.joints, body.joint_ranges, strict=True))
    ]
    for name in arm.FINGER_JOINTS:
        low, high = model.jnt_range[model.joint(name).id]
        pad_length = 2.0 * float(model.geom(f"{name}_pad").size[2])
        joint = Joint(name, "slide", float(low), float(high), _axis(model, name), pad_length, n - 1)
        joints.append(joint)

    actions = [
        Dimension(j.name, "joint_position_target", "rad", "joint", j.low, j.high, i)
        for i, j in enumerate(joints[:n])
    ]
    actions.append(Dimension("gripper", "gripper_command", "1", "joint", -1.0, 1.0))

    speed = JOINT_SPEED_SCALE_RAD_S
    proprioception = [
        *(
            Dimension(f"joint_pos_{j.name}", "joint_position", "rad", "joint", j.low, j.high, i)
            for i, j in enumerate(joints[:n])
        ),
        *(
            Dimension(f"joint_vel_{j.name}", "joint_velocity", "rad/s", "joint", -speed, speed, i)
            for i, j in enumerate(joints[:n])
        ),
        *(
            Dimension(f"{j.name}_pos", "joint_position", "m", "joint", j.low, j.high, n + k)
            for k, j in enumerate(joints[n:])
        ),
        *(
            Dimension(
                f"{j.name}_vel",
                "joint_velocity",
                "m/s",
                "joint",
                -FINGER_SPEED_SCALE_M_S,
                FINGER_SPEED_SCALE_M_S,
                n + k,
            )
            for k, j in enumerate(joints[n:])
        ),
        *(
            Dimension(
                f"grip_pos_{axis}",
                "position",
                "m",
                "world",
                -GRIP_POSITION_SCALE_M,
                GRIP_POSITION_SCALE_M,
            )
            for axis in "xyz"
        ),
        *(
            Dimension(
                f"grip_vel_{axis}",
                "linear_velocity",
                "m/s",
                "world",
                -GRIP_SPEED_SCALE_M_S,
                GRIP_SPEED_SCALE_M_S,
            )
            for axis in "xyz"
        ),
    ]
    layout = observation_layout(n)
    indices = [
        index
        for part in ("joint_pos", "joint_vel", "finger_pos", "finger_vel", "grip_pos", "grip_vel")
        for index in range(layout.slices[part].start, layout.slices[part].stop)
    ]
    return Embodiment(
        name=body.name,
        joints=tuple(joints),
        actions=tuple(actions),
        proprioception=tuple(proprioception),
        proprio_key="observation",
        proprio_indices=tuple(indices),
    )


def _axis(model: mujoco.MjModel, joint: str) -> tuple[float, float, float]:
    """Return ``joint``'s axis in its body's frame: the parent's at the zero configuration.

    The arms' bodies are built unturned against their parents, so the two frames agree.
    """
    x, y, z = (float(value) for value in model.jnt_axis[model.joint(joint).id])
    return (x, y, z)

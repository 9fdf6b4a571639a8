"""How a body describes itself to ``MultiEmbodiment``: every action and sensed value named.

A Portia env (or any env) whose ``unwrapped`` object has an ``embodiment`` attribute holding
an ``Embodiment`` can be put behind one shared action and proprioception space with
``wrappers.MultiEmbodiment``. The description is plain data: names, units, frames, ranges,
and the kinematic facts (joint type, axis, limits, link length) that let a policy tell
bodies apart by what they are rather than by an id.
"""

from __future__ import annotations

from dataclasses import dataclass

from wrappers.errors import WrapperInputError

# What a dimension measures or commands. A descriptor encodes it one-hot, in this order.
QUANTITIES = (
    "joint_position_target",  # action: a servo's target angle or extension
    "gripper_command",  # action: -1 open to +1 closed
    "joint_position",  # proprioception: rad (hinge) or m (slide)
    "joint_velocity",  # proprioception: rad/s or m/s
    "position",  # proprioception: a point of the body, m
    "linear_velocity",  # m/s
    "orientation",  # a quaternion component or a direction cosine, 1
    "angular_velocity",  # rad/s
)
JOINT_KINDS = ("hinge", "slide")
FRAMES = ("joint", "world", "base", "torso")


@dataclass(frozen=True)
class Dimension:
    """One named dimension of a body's native action or proprioception.

    Attributes:
        name: What it is, unique within its list (``"shoulder_pitch"``, ``"torso_vel_x"``).
        quantity: One of ``QUANTITIES``.
        unit: ``"rad"``, ``"rad/s"``, ``"m"``, ``"m/s"`` or ``"1"`` (unitless).
        frame: One of ``FRAMES``: ``"joint"`` for joint coordinates, else the frame that
            vector components are expressed in.
        low: The least value it takes or commands, in ``unit`` (for an action: what the
            native action -1 means, e.g. the joint's lower limit).
        high: The largest, in ``unit`` (for an action: what +1 means).
        joint: Index into ``Embodiment.joints`` of the joint it belongs to, or None.
    """

    name: str
    quantity: str
    unit: str
    frame: str
    low: float
    high: float
    joint: int | None = None

    def __post_init__(self) -> None:
        if self.quantity not in QUANTITIES:
            raise WrapperInputError(
                f"dimension {self.name!r}: unknown quantity {self.quantity!r}; "
                f"accepted: {', '.join(QUANTITIES)}"
            )
        if self.frame not in FRAMES:
            raise WrapperInputError(
                f"dimension {self.name!r}: unknown frame {self.frame!r}; "
                f"accepted: {', '.join(FRAMES)}"
            )
        if not self.low <= self.high:
            raise WrapperInputError(f"dimension {self.name!r}: low {self.low} > high {self.high}")


@dataclass(frozen=True)
class Joint:
    """One joint of a body's kinematic tree.

    Attributes:
        name: The joint's name in the MuJoCo model.
        kind: ``"hinge"`` (rad) or ``"slide"`` (m).
        low: Lower limit, rad or m.
        high: Upper limit, rad or m.
        axis: The joint axis in its parent body's frame at the zero configuration, unit
            vector (x, y, z).
        link_length_m: Length of the link the joint moves, from this joint to the next one
            (or to the end effector / foot), m.
        parent: Index of the joint it is mounted after in the chain, or None at the root.
    """

    name: str
    kind: str
    low: float
    high: float
    axis: tuple[float, float, float]
    link_length_m: float
    parent: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in JOINT_KINDS:
            raise WrapperInputError(
                f"joint {self.name!r}: unknown kind {self.kind!r}; accepted: "
                f"{', '.join(JOINT_KINDS)}"
            )


@dataclass(frozen=True)
class Embodiment:
    """A body's description: its joints and the meaning of each native dimension.

    Attributes:
        name: The body's name (``"arm"``, ``"arm4"``, ``"spider"``).
        joints: The actuated joints.
        actions: One entry per dimension of the native (flat, ``Box``) action, in order.
        proprioception: One entry per proprioceptive value, in order.
        proprio_key: The observation ``Dict`` key whose flat vector holds proprioception.
        proprio_indices: Where each ``proprioception`` entry sits in that vector.
    """

    name: str
    joints: tuple[Joint, ...]
    actions: tuple[Dimension, ...]
    proprioception: tuple[Dimension, ...]
    proprio_key: str
    proprio_indices: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.proprio_indices) != len(self.proprioception):
            raise WrapperInputError(
                f"embodiment {self.name!r}: {len(self.proprioception)} proprioception "
                f"dimensions but {len(self.proprio_indices)} indices"
            )
        for dimension in self.actions + self.proprioception:
            if dimension.joint is not None and not 0 <= dimension.joint < len(self.joints):
                raise WrapperInputError(
                    f"embodiment {self.name!r}: dimension {dimension.name!r} names joint "
                    f"{dimension.joint}, but the body has {len(self.joints)} joints"
                )

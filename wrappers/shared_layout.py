"""The shared spaces that several bodies are padded to, and what describes each body's slots.

``SharedLayout`` holds the shared sizes (``SharedLayout.covering(envs)`` measures them);
``unified_observation_space`` is the one observation space every body has behind
``wrappers.MultiEmbodiment`` with that layout, and ``descriptor`` the per-action-slot
description of a body that the observation carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import gymnasium
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from wrappers.embodiment import JOINT_KINDS, QUANTITIES, Embodiment
from wrappers.errors import WrapperInputError

# The keys the wrapper adds; an inner observation key of the same name is refused.
UNIFIED_KEYS = (
    "proprio",
    "proprio_mask",
    "exteroception",
    "exteroception_mask",
    "action_mask",
    "embodiment",
)
# Features of one action slot in the ``embodiment`` descriptor, in order.
DESCRIPTOR_FEATURES = (
    "valid",
    *(f"quantity_{quantity}" for quantity in QUANTITIES),
    "low",
    "high",
    *(f"joint_{kind}" for kind in JOINT_KINDS),
    "axis_x",
    "axis_y",
    "axis_z",
    "link_length_m",
    "chain_depth",
)


@dataclass(frozen=True)
class SharedLayout:
    """The shared sizes that several bodies are padded to.

    Build one with ``SharedLayout.covering(envs)`` over every body that will share the
    spaces (including bodies held out for evaluation), then wrap each env with
    ``MultiEmbodiment(env, layout)``.

    Attributes:
        action_size: Slots of the shared action.
        proprio_size: Slots of the shared proprioception.
        exteroception_size: Slots for the rest of the proprioception key's vector (what
            the body senses of the world: objects, goals, obstacles).
        key_sizes: ``(key, size)`` of every other observation key, each flattened and
            zero-padded to ``size`` (e.g. ``achieved_goal``, ``desired_goal``, ``task``).
        bound: Every continuous unified value lies in ``[-bound, bound]``: the largest
            bound of the covered observation spaces.
    """

    action_size: int
    proprio_size: int
    exteroception_size: int
    key_sizes: tuple[tuple[str, int], ...]
    bound: float

    def __post_init__(self) -> None:
        if min(self.action_size, self.proprio_size) < 1 or self.exteroception_size < 0:
            raise WrapperInputError(
                f"layout sizes must be >= 1 (action, proprio) and >= 0 (exteroception), got "
                f"{self.action_size}, {self.proprio_size}, {self.exteroception_size}"
            )
        clash = sorted({key for key, _ in self.key_sizes} & set(UNIFIED_KEYS))
        if clash:
            raise WrapperInputError(f"observation keys {clash} clash with the unified keys")

    @classmethod
    def covering(cls, envs: Sequence[gymnasium.Env | str]) -> SharedLayout:
        """Return the smallest layout that fits every env of ``envs``.

        Args:
            envs: Envs (wrapped or not) whose ``unwrapped`` has an ``embodiment``, or
                registered ids (each made, measured and closed).

        Raises:
            WrapperInputError: If ``envs`` is empty, or an env does not describe its body
                or has no flat ``Box`` action space.
        """
        if not envs:
            raise WrapperInputError("covering() needs at least one env or env id")
        actions = proprio = extero = 0
        keys: dict[str, int] = {}
        bound = 0.0
        for item in envs:
            env = gymnasium.make(item) if isinstance(item, str) else item
            try:
                body = body_of(env)
                check_action_space(env.action_space, body)
                vector_space, others = split_observation_space(env.observation_space, body)
                actions = max(actions, len(body.actions))
                proprio = max(proprio, len(body.proprioception))
                extero = max(extero, int(np.prod(vector_space.shape)) - len(body.proprioception))
                for key, space in others.items():
                    keys[key] = max(keys.get(key, 0), int(np.prod(space.shape)))
                for space in (vector_space, *others.values()):
                    bound = max(bound, float(np.max(np.abs([space.low, space.high]))))
            finally:
                if isinstance(item, str):
                    env.close()
        if not np.isfinite(bound):
            bound = float(np.finfo(np.float64).max)
        return cls(actions, proprio, extero, tuple(sorted(keys.items())), bound)


def body_of(env: gymnasium.Env) -> Embodiment:
    """Return ``env.unwrapped.embodiment``.

    Raises:
        WrapperInputError: If the env does not describe its body.
    """
    body = getattr(env.unwrapped, "embodiment", None)
    if not isinstance(body, Embodiment):
        raise WrapperInputError(
            f"{type(env.unwrapped).__name__} does not describe its body: it needs an "
            f"`embodiment` attribute holding a wrappers.embodiment.Embodiment (Portia envs "
            f"have one), or pass embodiment= to MultiEmbodiment"
        )
    return body


def check_action_space(space: spaces.Space, body: Embodiment) -> None:
    """Check that ``space`` is a flat ``Box`` with one dimension per ``body.actions`` entry.

    Raises:
        WrapperInputError: Otherwise, saying what is accepted.
    """
    if not isinstance(space, spaces.Box) or len(space.shape) != 1:
        raise WrapperInputError(
            f"body {body.name!r}: MultiEmbodiment needs a flat Box action space, got {space}"
        )
    if space.shape[0] != len(body.actions) or not np.all(np.isfinite([space.low, space.high])):
        raise WrapperInputError(
            f"body {body.name!r} describes {len(body.actions)} action dimensions, but its "
            f"action space is {space}; a finite Box of that size is accepted"
        )


def unified_observation_space(layout: SharedLayout) -> spaces.Dict:
    """Return the shared observation space of ``layout`` (the same for every body)."""
    bound = layout.bound

    def box(*shape: int) -> spaces.Box:
        return spaces.Box(-bound, bound, shape, np.float64)

    entries: dict[str, spaces.Space] = {
        "proprio": box(layout.proprio_size),
        "proprio_mask": spaces.MultiBinary(layout.proprio_size),
        "exteroception": box(layout.exteroception_size),
        "exteroception_mask": spaces.MultiBinary(layout.exteroception_size),
        "action_mask": spaces.MultiBinary(layout.action_size),
        "embodiment": box(layout.action_size, len(DESCRIPTOR_FEATURES)),
    }
    for key, size in layout.key_sizes:
        entries[key] = box(size)
    return spaces.Dict(entries)


def descriptor(body: Embodiment, action_size: int) -> NDArray[np.float64]:
    """Return the ``embodiment`` descriptor: one row of ``DESCRIPTOR_FEATURES`` per action slot.

    Args:
        body: The body.
        action_size: Rows, at least ``len(body.actions)``; rows past them are zeros.

    Returns:
        Shape ``(action_size, len(DESCRIPTOR_FEATURES))``.
    """
    rows = np.zeros((action_size, len(DESCRIPTOR_FEATURES)))
    column = {name: i for i, name in enumerate(DESCRIPTOR_FEATURES)}
    for slot, dimension in enumerate(body.actions):
        row = rows[slot]
        row[column["valid"]] = 1.0
        row[column[f"quantity_{dimension.quantity}"]] = 1.0
        row[column["low"]], row[column["high"]] = dimension.low, dimension.high
        if dimension.joint is None:
            continue
        joint = body.joints[dimension.joint]
        row[column[f"joint_{joint.kind}"]] = 1.0
        row[column["axis_x"] : column["axis_z"] + 1] = joint.axis
        row[column["link_length_m"]] = joint.link_length_m
        row[column["chain_depth"]] = _depth(body, dimension.joint)
    return rows


def _depth(body: Embodiment, joint: int) -> int:
    """Return how many joints precede ``joint`` in its chain."""
    depth, parent = 0, body.joints[joint].parent
    while parent is not None:
        depth, parent = depth + 1, body.joints[parent].parent
    return depth


def split_observation_space(
    space: spaces.Space, body: Embodiment
) -> tuple[spaces.Box, dict[str, spaces.Box]]:
    """Return the space of the vector holding proprioception, and the other keys' spaces.

    Raises:
        WrapperInputError: If the space is neither a Box nor a Dict with the body's
            ``proprio_key``, a key is not a Box, or an index lies outside the vector.
    """
    if isinstance(space, spaces.Box):
        vector, others = space, {}
    elif isinstance(space, spaces.Dict) and body.proprio_key in space.spaces:
        vector = space[body.proprio_key]
        others = {k: s for k, s in space.spaces.items() if k != body.proprio_key}
    else:
        raise WrapperInputError(
            f"body {body.name!r}: the observation space must be a Box, or a Dict with the "
            f"key {body.proprio_key!r} holding proprioception; got {space}"
        )
    for key, sub in {"(vector)": vector, **others}.items():
        if not isinstance(sub, spaces.Box):
            raise WrapperInputError(
                f"body {body.name!r}: observation key {key} must be a Box to be padded, got {sub}"
            )
    size = int(np.prod(vector.shape))
    if any(not 0 <= i < size for i in body.proprio_indices):
        raise WrapperInputError(
            f"body {body.name!r}: proprio_indices must lie in 0..{size - 1}, the size of the "
            f"observation vector"
        )
    return vector, others

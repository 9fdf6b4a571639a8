"""Composing scenes from a body and a task's objects, and fingerprinting what was composed."""

from __future__ import annotations

import hashlib

import mujoco

from portia_envs.embodiments.arm import add_arm
from portia_envs.embodiments.arm4 import ARM4_BODIES, add_arm4
from portia_envs.errors import InvalidParameterError, did_you_mean
from portia_envs.scenes.tabletop import (
    BLOCK_MASS_KG,
    BLOCK_PARKED_POS,
    SUPPORT_MASS_KG,
    SUPPORT_PARKED_POS,
    add_block,
    add_drawer,
    add_goal_marker,
    new_tabletop_spec,
)
from portia_envs.tasks import ARM_TASK_NAMES, TASK_CODE_VERSION
from portia_envs.tasks.objects import BLOCK_HUE, SUPPORT_HUE, hue_rgba

# The bodies that stand at the table: the six-joint arm, and the four-hinge arms by name.
ARM_BODIES = ("arm", *ARM4_BODIES)
# The task families a four-hinge arm does: with no roll joint it cannot turn its fingers to
# a block's faces, and it pushes with its closed fingers.
ARM4_FAMILIES = ("reach", "push")
# The families each body does, over the families' default ranges.
BODY_FAMILIES: dict[str, tuple[str, ...]] = {
    "arm": ARM_TASK_NAMES,
    **{name: ARM4_FAMILIES for name in ARM4_BODIES},
}


def arm_tabletop_spec(goal_radius_m: float, body: str = "arm") -> mujoco.MjSpec:
    """Return a body at the table with its objects and a goal marker of ``goal_radius_m`` (m).

    Sensors come in the order the arm env's observation uses: the body's, the block's, the
    support block's, then the drawer's.

    Args:
        goal_radius_m: The goal marker's radius, m.
        body: One of ``ARM_BODIES``: ``"arm"`` (six joints) or a four-hinge arm of
            ``embodiments.arm4.ARM4_BODIES``.

    Raises:
        InvalidParameterError: If ``body`` is not one of ``ARM_BODIES``.
    """
    check_body(body)
    spec = new_tabletop_spec()
    if body == "arm":
        add_arm(spec)
    else:
        add_arm4(spec, ARM4_BODIES[body])
    add_block(spec, "block", BLOCK_PARKED_POS, BLOCK_MASS_KG, hue_rgba(BLOCK_HUE))
    add_block(spec, "support", SUPPORT_PARKED_POS, SUPPORT_MASS_KG, hue_rgba(SUPPORT_HUE))
    add_drawer(spec)
    add_goal_marker(spec, goal_radius_m)
    return spec


def check_body(body: str) -> None:
    """Raise ``InvalidParameterError`` unless ``body`` is one of ``ARM_BODIES``.

    The message lists the accepted bodies, with a "did you mean" for a misspelt one.
    """
    if body not in ARM_BODIES:
        raise InvalidParameterError(
            f"unknown body {body!r}; accepted: {', '.join(ARM_BODIES)}"
            + did_you_mean(str(body), ARM_BODIES)
        )


def fingerprint(spec: mujoco.MjSpec) -> str:
    """Return a short hash of everything an env's results depend on.

    It covers the model (its XML), the task code version and MuJoCo's major version, so
    two envs with equal fingerprints give equal episodes for equal seeds and actions.

    Args:
        spec: The env's model specification.

    Returns:
        The first 16 hex digits of a SHA-256.
    """
    major = mujoco.__version__.split(".")[0]
    content = f"{spec.to_xml()}\n{TASK_CODE_VERSION}\nmujoco {major}"
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def arm_fingerprint(goal_radius_m: float = 0.05, body: str = "arm") -> str:
    """Return the fingerprint of the arm env with ``body``, of the default or given goal radius."""
    return fingerprint(arm_tabletop_spec(goal_radius_m, body))

"""Composing scenes from a body and a task's objects, and fingerprinting what was composed."""

from __future__ import annotations

import hashlib

import mujoco

from portia_envs.embodiments.arm import add_arm
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
from portia_envs.tasks import TASK_CODE_VERSION
from portia_envs.tasks.objects import BLOCK_HUE, SUPPORT_HUE, hue_rgba


def arm_tabletop_spec(goal_radius_m: float) -> mujoco.MjSpec:
    """Return the arm at the table with its objects and a goal marker of ``goal_radius_m`` (m).

    Sensors come in the order the arm env's observation uses: the arm's, the block's, the
    support block's, then the drawer's.
    """
    spec = new_tabletop_spec()
    add_arm(spec)
    add_block(spec, "block", BLOCK_PARKED_POS, BLOCK_MASS_KG, hue_rgba(BLOCK_HUE))
    add_block(spec, "support", SUPPORT_PARKED_POS, SUPPORT_MASS_KG, hue_rgba(SUPPORT_HUE))
    add_drawer(spec)
    add_goal_marker(spec, goal_radius_m)
    return spec


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


def arm_fingerprint(goal_radius_m: float = 0.05) -> str:
    """Return the fingerprint of the arm env with its default (or the given) goal radius."""
    return fingerprint(arm_tabletop_spec(goal_radius_m))

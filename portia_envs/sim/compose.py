"""Composing every env's scene from its furniture, its bodies and its objects; fingerprints.

This is the one place where scenes are composed: ``scenes/`` builds the furniture (table,
arena, lights, cameras), ``embodiments/`` the bodies, and the functions here put them
together with a task's objects. The names of the bodies at the table come from
``embodiments.arm_bodies`` (``ARM_BODIES``, ``BODY_FAMILIES``, ``check_body``).
"""

from __future__ import annotations

import hashlib

import mujoco

from portia_envs.embodiments.arm import add_arm
from portia_envs.embodiments.arm4 import ARM4_BODIES, add_arm4
from portia_envs.embodiments.arm_bodies import check_body
from portia_envs.embodiments.spider import add_spider
from portia_envs.scenes.arena import new_arena_spec
from portia_envs.scenes.handover import (
    BLOCK_START_POS,
    GIVER_BASE,
    GIVER_PREFIX,
    HANDOVER_BLOCK_RGBA,
    TAKER_BASE,
    TAKER_PREFIX,
    add_handoff_zone,
    new_handover_spec,
)
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


def spider_arena_spec(success_radius_m: float) -> mujoco.MjSpec:
    """Return the spider standing at the origin of the arena, the success zone drawn.

    Args:
        success_radius_m: Radius of the translucent disc around the fly, m.
    """
    spec = new_arena_spec()
    add_spider(spec)
    spec.site("prey_zone").size = [success_radius_m, 0.001, 0.0]
    return spec


def handover_spec(goal_radius_m: float = 0.05) -> mujoco.MjSpec:
    """Return the handover scene: table, both arms, the block, goal and handoff marks.

    The giver's elements are named ``giver_*`` and the taker's ``taker_*``
    (``scenes.handover`` describes every named element).

    Args:
        goal_radius_m: Radius of the goal marker (the success radius), m.

    Returns:
        The spec, ready to compile. Sensors come in the order the handover env reads them:
        the giver's, the taker's (``embodiments.arm`` order), then the block's.
    """
    spec = new_handover_spec()
    for prefix, (pos, yaw) in ((GIVER_PREFIX, GIVER_BASE), (TAKER_PREFIX, TAKER_BASE)):
        add_arm(spec, prefix=prefix, pos=pos, yaw_rad=yaw)
    add_block(spec, "block", BLOCK_START_POS, BLOCK_MASS_KG, HANDOVER_BLOCK_RGBA)
    add_goal_marker(spec, goal_radius_m)
    add_handoff_zone(spec)
    return spec


def fingerprint(spec: mujoco.MjSpec, code_version: str = TASK_CODE_VERSION) -> str:
    """Return a short hash of everything an env's results depend on.

    It covers the model (its XML), the task code version and MuJoCo's major version, so
    two envs with equal fingerprints give equal episodes for equal seeds and actions.

    Args:
        spec: The env's model specification.
        code_version: The version of the task code that scores it; the arm tasks' by
            default.

    Returns:
        The first 16 hex digits of a SHA-256.
    """
    major = mujoco.__version__.split(".")[0]
    content = f"{spec.to_xml()}\n{code_version}\nmujoco {major}"
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def arm_fingerprint(goal_radius_m: float = 0.05, body: str = "arm") -> str:
    """Return the fingerprint of the arm env with ``body``, of the default or given goal radius."""
    return fingerprint(arm_tabletop_spec(goal_radius_m, body))

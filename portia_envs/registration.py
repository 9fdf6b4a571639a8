"""Every registered Portia environment id, with its entry point and time limit.

A registered version never changes behaviour; a change gets a new ``-vN``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gymnasium.envs.registration import register, registry

from portia_envs.errors import UnknownEnvError, did_you_mean

if TYPE_CHECKING:
    from pettingzoo import ParallelEnv

ARM_ENTRY_POINT = "portia_envs.envs.arm:ArmEnv"
# gymnasium.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point") builds these.
ARM_VECTOR_ENTRY_POINT = "portia_envs.envs.vector:ArmVectorEnv"
SPIDER_VECTOR_ENTRY_POINT = "portia_envs.envs.vector:SpiderVectorEnv"
# id -> (keyword arguments, max_episode_steps). At dt = 0.04 s, 150 steps are 6 s. A
# single-family id draws from the family's default ranges, which include the suites'
# held-out bands: train on a suite with make("Portia/Arm-v0", suite=..., split="train").
ENV_SPECS: dict[str, tuple[dict[str, object], int]] = {
    "Portia/Arm-v0": ({}, 150),
    "Portia/ArmReach-v0": ({"task": "reach"}, 100),
    "Portia/ArmPush-v0": ({"task": "push"}, 150),
    "Portia/ArmPickPlace-v0": ({"task": "pick_place"}, 150),
    "Portia/ArmSlide-v0": ({"task": "slide"}, 150),
    "Portia/ArmStack-v0": ({"task": "stack"}, 150),
    "Portia/ArmDrawer-v0": ({"task": "drawer"}, 150),
}

# Each arm task family's own registered id.
FAMILY_ENV_IDS: dict[str, str] = {
    str(kwargs["task"]): env_id for env_id, (kwargs, _) in ENV_SPECS.items() if "task" in kwargs
}

# The four-hinge arm (ArmEnv with body="arm4"): id -> (keyword arguments, max_episode_steps).
# Its held-out body is data: gymnasium.make(id, body="arm4_long").
ARM4_SPECS: dict[str, tuple[dict[str, object], int]] = {
    "Portia/Arm4-v0": ({"body": "arm4"}, 150),
    "Portia/Arm4Reach-v0": ({"body": "arm4", "task": "reach"}, 100),
    "Portia/Arm4Push-v0": ({"body": "arm4", "task": "push"}, 150),
}
# The four-hinge arm's id for each family it does.
ARM4_FAMILY_ENV_IDS: dict[str, str] = {
    str(kwargs["task"]): env_id for env_id, (kwargs, _) in ARM4_SPECS.items() if "task" in kwargs
}
# Every id of the arm env's entry point, whatever the body.
ARM_ENV_SPECS: dict[str, tuple[dict[str, object], int]] = {**ENV_SPECS, **ARM4_SPECS}

DETOUR_ENTRY_POINT = "portia_envs.detour.env:DetourEnv"
DETOUR_VECTOR_ENTRY_POINT = "portia_envs.detour.vector:DetourVectorEnv"
# Detour (2D, numba): id -> (keyword arguments, max_episode_steps). A step is 0.1 s.
DETOUR_SPECS: dict[str, tuple[dict[str, object], int]] = {
    "Portia/Detour-v0": ({"action_type": "continuous"}, 200),
    "Portia/DetourDiscrete-v0": ({"action_type": "discrete"}, 200),
}

SPIDER_ENTRY_POINT = "portia_envs.envs.spider:SpiderEnv"
# The eight-legged spider: id -> (keyword arguments, max_episode_steps). At dt = 0.04 s,
# 450 steps are 18 s.
SPIDER_SPECS: dict[str, tuple[dict[str, object], int]] = {
    "Portia/SpiderPrey-v0": ({"task": "prey"}, 450),
    "Portia/SpiderDetour-v0": ({"task": "detour"}, 450),
}

# Multi-agent ids (PettingZoo ParallelEnv, built by make_parallel): id -> (entry point,
# keyword arguments). The time limit is the env's own max_cycles: 300 periods of 0.04 s, 12 s.
PARALLEL_ENV_SPECS: dict[str, tuple[str, dict[str, object]]] = {
    "Portia/Handover-v0": ("portia_envs.envs.handover:HandoverEnv", {"max_cycles": 300}),
}


def register_envs() -> None:
    """Register every Portia id with Gymnasium (idempotent)."""
    for env_id, (kwargs, max_episode_steps) in ARM_ENV_SPECS.items():
        if env_id not in registry:
            register(
                env_id,
                entry_point=ARM_ENTRY_POINT,
                vector_entry_point=ARM_VECTOR_ENTRY_POINT,
                kwargs=kwargs,
                max_episode_steps=max_episode_steps,
            )
    for env_id, (kwargs, max_episode_steps) in DETOUR_SPECS.items():
        if env_id not in registry:
            register(
                env_id,
                entry_point=DETOUR_ENTRY_POINT,
                vector_entry_point=DETOUR_VECTOR_ENTRY_POINT,
                kwargs=kwargs,
                max_episode_steps=max_episode_steps,
            )
    for env_id, (kwargs, max_episode_steps) in SPIDER_SPECS.items():
        if env_id not in registry:
            register(
                env_id,
                entry_point=SPIDER_ENTRY_POINT,
                vector_entry_point=SPIDER_VECTOR_ENTRY_POINT,
                kwargs=kwargs,
                max_episode_steps=max_episode_steps,
            )


def make_parallel(env_id: str, **kwargs: Any) -> ParallelEnv:
    """Build the multi-agent (PettingZoo ``ParallelEnv``) env registered as ``env_id``.

    Args:
        env_id: One of ``PARALLEL_ENV_SPECS``, e.g. ``"Portia/Handover-v0"``.
        **kwargs: Keyword arguments of the env, over the registered ones.

    Returns:
        The env, not yet reset.

    Raises:
        UnknownEnvError: If no multi-agent env has that id; the message lists the known ids.
    """
    if env_id not in PARALLEL_ENV_SPECS:
        if env_id in registry:
            hint = f" ({env_id!r} is a single-agent env: gymnasium.make({env_id!r}))"
        else:
            hint = did_you_mean(str(env_id), PARALLEL_ENV_SPECS)
        raise UnknownEnvError(
            f"unknown multi-agent env id {env_id!r}; known ids: "
            f"{', '.join(sorted(PARALLEL_ENV_SPECS))}" + hint
        )
    entry_point, registered = PARALLEL_ENV_SPECS[env_id]
    module, name = entry_point.split(":")
    return getattr(importlib.import_module(module), name)(**{**registered, **kwargs})

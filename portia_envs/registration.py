"""Every registered Portia environment id, with its entry point and time limit.

A registered version never changes behaviour; a change gets a new ``-vN``.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

ARM_ENTRY_POINT = "portia_envs.envs.arm:ArmEnv"
# id -> (keyword arguments, max_episode_steps). At dt = 0.04 s, 150 steps are 6 s.
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

DETOUR_ENTRY_POINT = "portia_envs.detour.env:DetourEnv"
DETOUR_VECTOR_ENTRY_POINT = "portia_envs.detour.vector:DetourVectorEnv"
# Detour (2D, numba): id -> (keyword arguments, max_episode_steps). A step is 0.1 s.
DETOUR_SPECS: dict[str, tuple[dict[str, object], int]] = {
    "Portia/Detour-v0": ({"action_type": "continuous"}, 200),
    "Portia/DetourDiscrete-v0": ({"action_type": "discrete"}, 200),
}


def register_envs() -> None:
    """Register every Portia id with Gymnasium (idempotent)."""
    for env_id, (kwargs, max_episode_steps) in ENV_SPECS.items():
        if env_id not in registry:
            register(
                env_id,
                entry_point=ARM_ENTRY_POINT,
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

"""Named, versioned suites of train and held-out tasks: the generalization benchmark.

``get_suite("arm-reach-v0")`` returns a frozen suite; ``gymnasium.make(suite.env_id,
suite="arm-reach-v0", split="train")`` draws its train tasks at each reset. Arm suites
(``Suite``, tasks from ``TaskSpec``) run in ``Portia/Arm-v0``; Detour suites
(``DetourSuite``, one task of levels per split) in ``Portia/Detour-v0``. Both kinds answer
the same questions (``env_id``, ``tasks``, ``task``, ``env_kwargs``, ``reward_floor``,
``environment``, ``hash``), so the harness, the reference tables and the command line treat
every suite alike.
"""

from portia_envs.errors import UnknownSuiteError, did_you_mean
from portia_envs.suites.arm_bodies import ARM_BODIES_V0
from portia_envs.suites.arm_gen import ARM_GEN_V0
from portia_envs.suites.arm_reach import ARM_REACH_V0
from portia_envs.suites.detour import DETOUR_V0, DetourSuite, DetourTask
from portia_envs.suites.smoke import SMOKE_V0
from portia_envs.suites.spec import SPLITS, Suite, TaskSpec

# Any suite, of either kind.
AnySuite = Suite | DetourSuite

SUITES: dict[str, AnySuite] = {
    suite.name: suite for suite in (SMOKE_V0, ARM_REACH_V0, ARM_GEN_V0, ARM_BODIES_V0, DETOUR_V0)
}


def get_suite(name: str) -> AnySuite:
    """Return the suite called ``name``.

    Raises:
        UnknownSuiteError: If there is none; the message lists the known suites.
    """
    if name not in SUITES:
        raise UnknownSuiteError(
            f"unknown suite {name!r}; known suites: {', '.join(sorted(SUITES))}"
            + did_you_mean(name, SUITES)
        )
    return SUITES[name]


__all__ = [
    "SPLITS",
    "SUITES",
    "AnySuite",
    "DetourSuite",
    "DetourTask",
    "Suite",
    "TaskSpec",
    "get_suite",
]

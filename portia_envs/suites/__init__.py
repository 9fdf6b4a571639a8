"""Named, versioned suites of train and held-out tasks: the generalization benchmark.

``get_suite("arm-reach-v0")`` returns a frozen ``Suite``; ``gymnasium.make("Portia/Arm-v0",
suite="arm-reach-v0", split="train")`` draws its train tasks at each reset.
"""

from portia_envs.errors import UnknownSuiteError, did_you_mean
from portia_envs.suites.arm_bodies import ARM_BODIES_V0
from portia_envs.suites.arm_gen import ARM_GEN_V0
from portia_envs.suites.arm_reach import ARM_REACH_V0
from portia_envs.suites.smoke import SMOKE_V0
from portia_envs.suites.spec import SPLITS, Suite, TaskSpec

SUITES: dict[str, Suite] = {
    suite.name: suite for suite in (SMOKE_V0, ARM_REACH_V0, ARM_GEN_V0, ARM_BODIES_V0)
}


def get_suite(name: str) -> Suite:
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


__all__ = ["SPLITS", "SUITES", "Suite", "TaskSpec", "get_suite"]

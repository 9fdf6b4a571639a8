"""arm-bodies-v0: the same reach and push tasks for several arms, one arm held out.

Train tasks are done by the six-joint arm and by the four-hinge arm (``arm4``); the held-out
tasks are the same tasks for a body variant never trained on, the four-hinge arm with 15%
longer upper arm and forearm (``arm4_long``). Only the body differs: every task draws from
the same ranges. An agent acts for all three bodies through one shared space
(``wrappers.MultiEmbodiment``), which is how ``portia bench`` runs it.
"""

from portia_envs.suites.spec import Suite, TaskSpec

# Goals in the air that every body reaches, m (x forward, y to the robot's left, z up).
_REACH = {"goal_x": (0.30, 0.50), "goal_y": (-0.2, 0.2), "goal_z": (0.06, 0.25)}


def _tasks(body: str) -> tuple[TaskSpec, TaskSpec]:
    """Reach and push (over the family's default ranges) for ``body``."""
    return (
        TaskSpec(f"{body}-reach", "reach", _REACH, embodiment=body),
        TaskSpec(f"{body}-push", "push", embodiment=body),
    )


ARM_BODIES_V0 = Suite(
    name="arm-bodies-v0",
    description="Act for several arms through one shared space; generalize to an arm with "
    "longer links that training never saw.",
    heldout_axes=("embodiment: arm4_long (the four-hinge arm, upper arm and forearm 15% longer)",),
    train=(*_tasks("arm"), *_tasks("arm4")),
    heldout=_tasks("arm4_long"),
)

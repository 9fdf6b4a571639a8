"""smoke-v0: a tiny suite for tests and quick starts (two train tasks, one held out)."""

from portia_envs.suites.spec import Suite, TaskSpec

SMOKE_V0 = Suite(
    name="smoke-v0",
    description="A quick check that an agent runs end to end; not a measure of skill.",
    heldout_axes=("goal_y, goal_z: extrapolation",),
    train=(
        TaskSpec(
            "reach-centre",
            "reach",
            {"goal_x": (0.36, 0.46), "goal_y": (-0.08, 0.08), "goal_z": (0.1, 0.2)},
        ),
        TaskSpec(
            "push-centre",
            "push",
            {
                "block_x": (0.36, 0.44),
                "block_y": (-0.1, 0.1),
                "goal_x": (0.36, 0.48),
                "goal_y": (-0.15, 0.15),
            },
        ),
    ),
    heldout=(
        TaskSpec(
            "reach-high-left",
            "reach",
            {"goal_x": (0.36, 0.46), "goal_y": (0.14, 0.22), "goal_z": (0.22, 0.28)},
        ),
    ),
)

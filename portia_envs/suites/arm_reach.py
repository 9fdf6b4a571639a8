"""arm-reach-v0: one family, held-out goal regions between and beyond the trained ones.

Every task draws goals from x 0.30-0.50 m and z 0.06-0.25 m; they differ in y (m, the
robot's left is positive). Train covers three bands; held-out tasks lie in the gaps
between them (interpolation) and beyond them (extrapolation). Bands are separated by at
least 1 cm, so no held-out goal can be drawn in a train task.
"""

from portia_envs.suites.spec import Suite, TaskSpec

_X, _Z = (0.30, 0.50), (0.06, 0.25)


def _reach(task_id: str, y: tuple[float, float]) -> TaskSpec:
    """A reach task over the common x and z ranges, with goals in the band ``y``."""
    return TaskSpec(task_id, "reach", {"goal_x": _X, "goal_y": y, "goal_z": _Z})


ARM_REACH_V0 = Suite(
    name="arm-reach-v0",
    description="Reach goals in unseen regions: between (interpolation) and beyond "
    "(extrapolation) the trained ones.",
    heldout_axes=("goal_y: interpolation", "goal_y: extrapolation"),
    train=(
        _reach("reach-right", (-0.20, -0.13)),
        _reach("reach-centre", (-0.03, 0.03)),
        _reach("reach-left", (0.13, 0.20)),
    ),
    heldout=(
        _reach("reach-between-right", (-0.11, -0.05)),
        _reach("reach-between-left", (0.05, 0.11)),
        _reach("reach-beyond-right", (-0.28, -0.22)),
        _reach("reach-beyond-left", (0.22, 0.28)),
    ),
)

"""A planning teacher small enough for tests: the arm's search with few, short variants."""

import dataclasses

from baselines.teacher import PlanningTeacher, arm_teacher_config

# A hundredth of the arm teacher's imagining per decision: 4 variants of 3 periods.
TINY = {"samples": 4, "horizon": 3, "first_iterations": 2}


def make_agent(env):
    """Return the tiny teacher on the paused env ``env`` (an agent factory)."""
    base = env.unwrapped
    config = arm_teacher_config(base.task_name, base.body)
    return PlanningTeacher(env, dataclasses.replace(config, **TINY))

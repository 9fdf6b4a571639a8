"""Task families: how instances are drawn, described and scored (pure array functions)."""

from __future__ import annotations

from portia_envs.tasks.base import ArmTask, TaskSample
from portia_envs.tasks.drawer import DrawerTask
from portia_envs.tasks.family import family_index
from portia_envs.tasks.pick_place import PickPlaceTask
from portia_envs.tasks.push import PushTask
from portia_envs.tasks.reach import ReachTask
from portia_envs.tasks.slide import SlideTask
from portia_envs.tasks.stack import StackTask

# Raise when the code that samples, scores or describes tasks changes what it returns:
# it is part of every environment fingerprint and suite hash.
TASK_CODE_VERSION = "arm-tasks-2"
# The arm's task families, in the order of the observation's one-hot ``task`` key.
ARM_TASKS: tuple[ArmTask, ...] = (
    ReachTask(),
    PushTask(),
    PickPlaceTask(),
    SlideTask(),
    StackTask(),
    DrawerTask(),
)
ARM_TASK_NAMES = tuple(task.name for task in ARM_TASKS)


def arm_task_index(name: str) -> int:
    """Return the index of the arm task family ``name`` in ``ARM_TASKS``.

    Raises:
        UnknownTaskError: If no family has that name; the message lists the known ones.
    """
    return family_index(name, ARM_TASK_NAMES, "arm")


__all__ = [
    "ARM_TASKS",
    "ARM_TASK_NAMES",
    "TASK_CODE_VERSION",
    "ArmTask",
    "TaskSample",
    "arm_task_index",
]

"""Task specs and suites: frozen lists of train and held-out tasks with a content hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

from portia_envs.embodiments.arm_bodies import BODY_FAMILIES, check_body
from portia_envs.errors import (
    InvalidParameterError,
    UnknownSuiteError,
    UnknownTaskError,
    did_you_mean,
)
from portia_envs.sim.compose import arm_fingerprint
from portia_envs.tasks import ARM_TASK_NAMES, ARM_TASKS, arm_task_index

SPLITS = ("train", "heldout")
# The env every arm suite's tasks run in, with the task's body (the reference tables were
# measured in it too).
ARM_ENV_ID = "Portia/Arm-v0"


@dataclass(frozen=True)
class TaskSpec:
    """One task of a suite: a family, the parameter ranges it is drawn from, and a body.

    Args:
        task_id: A stable id, unique within its suite (e.g. ``"reach-left"``).
        family: The task family (``reach``, ``push``, ``pick_place``, ...).
        ranges: Parameter ranges replacing the family's defaults, ``{name: (low, high)}``.
        embodiment: The body that performs it: ``"arm"`` (six joints), or a four-hinge arm
            (``"arm4"``, ``"arm4_long"``), which does ``reach`` and ``push``.

    Raises:
        UnknownTaskError: On an unknown family, or one the body does not do.
        InvalidParameterError: On an unknown body or range.
    """

    task_id: str
    family: str
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    embodiment: str = "arm"

    def __post_init__(self) -> None:
        arm_task_index(self.family)
        check_body(self.embodiment)
        if self.family not in BODY_FAMILIES[self.embodiment]:
            raise UnknownTaskError(
                f"task {self.task_id!r}: body {self.embodiment!r} does not do {self.family}; "
                f"its families: {', '.join(BODY_FAMILIES[self.embodiment])}"
            )
        checked = ARM_TASKS[ARM_TASK_NAMES.index(self.family)].ranges(dict(self.ranges))
        # Checked, as floats, and read-only: a suite never changes once built.
        frozen = {key: checked[key] for key in self.ranges}
        object.__setattr__(self, "ranges", MappingProxyType(frozen))

    def full_ranges(self) -> dict[str, tuple[float, float]]:
        """Return every parameter's range: the family's defaults with this spec's changes."""
        return ARM_TASKS[ARM_TASK_NAMES.index(self.family)].ranges(dict(self.ranges))

    def content(self) -> dict[str, Any]:
        """Return everything that defines the task, as plain JSON-ready data."""
        return {
            "task_id": self.task_id,
            "family": self.family,
            "embodiment": self.embodiment,
            "ranges": {key: list(value) for key, value in sorted(self.full_ranges().items())},
        }


# The task type of a suite: ``TaskSpec`` for arm suites, ``DetourTask`` for Detour's.
TaskT = TypeVar("TaskT")


class SplitTasks(Generic[TaskT]):
    """The lookups every suite kind shares: its tasks by split, and one task by its id.

    A suite that mixes this in has ``name``, ``train`` and ``heldout``.
    """

    name: str
    train: tuple[TaskT, ...]
    heldout: tuple[TaskT, ...]

    def tasks(self, split: str) -> tuple[TaskT, ...]:
        """Return the tasks of ``split`` (``"train"`` or ``"heldout"``).

        Raises:
            UnknownSuiteError: For any other split.
        """
        if split == "train":
            return self.train
        if split == "heldout":
            return self.heldout
        raise UnknownSuiteError(
            f"unknown split {split!r}; accepted: {', '.join(SPLITS)}" + did_you_mean(split, SPLITS)
        )

    def task(self, task_id: str, split: str | None = None) -> TaskT:
        """Return the task ``task_id``, searched in ``split`` (or in both splits).

        Raises:
            UnknownTaskError: If the (split of the) suite has no such task.
        """
        candidates = self.tasks(split) if split is not None else self.train + self.heldout
        for task in candidates:
            if task.task_id == task_id:
                return task
        known = [task.task_id for task in candidates]
        where = f"the {split} split of {self.name}" if split else self.name
        raise UnknownTaskError(
            f"unknown task {task_id!r} in {where}; known: {', '.join(known)}"
            + did_you_mean(task_id, known)
        )


@dataclass(frozen=True)
class Suite(SplitTasks[TaskSpec]):
    """A frozen, versioned list of train and held-out tasks.

    Held-out tasks are unseen in training along the named ``heldout_axes`` (a body, too: a
    suite's tasks may name several, see ``bodies``). The ``hash`` covers every task's content
    and the environment fingerprint of every body (model XML, task code version, MuJoCo
    major version), so it changes whenever anything that affects results changes; it goes
    into every results file.

    Args:
        name: ``<name>-v<N>``; a published suite never changes (a change is a new version).
        description: What the suite measures, in a sentence.
        heldout_axes: How held-out tasks differ from train tasks.
        train: The tasks to train on.
        heldout: The tasks to evaluate generalization on.
    """

    # The env its tasks run in; every episode's time limit is this id's.
    env_id: ClassVar[str] = ARM_ENV_ID

    name: str
    description: str
    heldout_axes: tuple[str, ...]
    train: tuple[TaskSpec, ...]
    heldout: tuple[TaskSpec, ...]

    def __post_init__(self) -> None:
        ids = [task.task_id for task in self.train + self.heldout]
        duplicates = sorted({task_id for task_id in ids if ids.count(task_id) > 1})
        if duplicates:
            raise InvalidParameterError(
                f"suite {self.name}: task ids must be unique, repeated: {duplicates}"
            )

    def env_kwargs(self, task_id: str, split: str) -> dict[str, Any]:
        """Return what ``gymnasium.make(env_id, ...)`` is given for the task of ``split``.

        Raises:
            UnknownTaskError: If ``split`` has no task ``task_id``.
        """
        body = self.task(task_id, split).embodiment
        return {"suite": self.name, "split": split, "task": task_id, "body": body}

    def reset_options(self, task_id: str) -> dict[str, Any]:
        """Return the reset options that start task ``task_id`` in its split's env."""
        return {"task": task_id}

    def reward_floor(self, family: str) -> float:
        """Return the least reward any behaviour can earn in a control period of ``family``."""
        return ARM_TASKS[arm_task_index(family)].reward_floor()

    @property
    def bodies(self) -> tuple[str, ...]:
        """The bodies its tasks name, in order of first appearance (train, then held out)."""
        return tuple(dict.fromkeys(task.embodiment for task in self.train + self.heldout))

    def fingerprint(self) -> str | dict[str, str]:
        """Return the environment fingerprint: the arm's, or one per body if there are others.

        A suite of the six-joint arm alone keeps the plain fingerprint it always had.
        """
        if self.bodies == ("arm",):
            return arm_fingerprint()
        return {body: arm_fingerprint(body=body) for body in self.bodies}

    def environment(self) -> dict[str, str]:
        """Return a results file's ``environment``: the env id and the arm's fingerprint."""
        return {self.env_id: arm_fingerprint()}

    def content(self, fingerprint: str | dict[str, str]) -> dict[str, Any]:
        """Return the suite's defining content, including the environment ``fingerprint``."""
        return {
            "name": self.name,
            "heldout_axes": list(self.heldout_axes),
            "train": [task.content() for task in self.train],
            "heldout": [task.content() for task in self.heldout],
            "environment": fingerprint,
        }

    @property
    def hash(self) -> str:
        """The content hash: SHA-256 (hex, first 16) of the canonical JSON of ``content``."""
        canonical = json.dumps(self.content(self.fingerprint()), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

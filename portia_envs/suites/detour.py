"""Detour suites: frozen ranges of train and held-out level seeds, with a content hash.

A Detour suite names a difficulty and two disjoint ranges of level seeds, like Procgen's
train and test levels. Each split is one task, the split's levels: an episode's reset seed
draws its level, so a run's episodes spread over the split. ``gymnasium.make(
"Portia/Detour-v0", suite="detour-v0", split="heldout")`` plays the held-out levels, and
``portia bench --suite detour-v0`` scores an agent on both splits like any other suite.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from portia_envs.detour.config import LevelConfig
from portia_envs.errors import (
    InvalidParameterError,
)
from portia_envs.suites.spec import SplitTasks

# Bumped whenever level generation or the world's rules change: it goes into the hash.
DETOUR_CODE_VERSION = 1
DETOUR_ENV_ID = "Portia/Detour-v0"
DETOUR_FAMILY = "detour"
# Detour's single body: the spider of the 2D world (a square that walks and jumps).
DETOUR_BODY = "detour"
# A step moves the spider less than one cell along each axis (walking 0.5, jumping 0.75),
# so it changes its cell by at most one row and one column, and its walking distance to the
# prey by at most this much.
MAX_DISTANCE_CHANGE_CELLS = 2


@dataclass(frozen=True)
class DetourTask:
    """One task of a Detour suite: the levels of one split, played at the suite's settings.

    Attributes:
        task_id: ``"<suite>/<split>"``, as the env's ``info["task_id"]`` says.
        levels: ``(first seed, count)`` of its levels.
        family: Always ``"detour"``.
        embodiment: Always ``"detour"``, the 2D world's spider.
    """

    task_id: str
    levels: tuple[int, int]
    family: str = DETOUR_FAMILY
    embodiment: str = DETOUR_BODY


@dataclass(frozen=True)
class DetourSuite(SplitTasks[DetourTask]):
    """A frozen list of train and held-out Detour levels, one task per split.

    Args:
        name: ``<name>-v<N>``; a published suite never changes (a change is a new version).
        description: What the suite measures, in a sentence.
        difficulty: The named difficulty its levels are generated at.
        size: Level side, cells.
        train_levels: ``(first seed, count)`` of the train levels.
        heldout_levels: ``(first seed, count)`` of the held-out levels, disjoint from train.
        heldout_axes: How held-out levels differ from train levels.

    Raises:
        InvalidParameterError: If the difficulty or size is unknown, or the level seed
            ranges overlap or are empty.
    """

    # The env its tasks run in; every episode's time limit is this id's.
    env_id: ClassVar[str] = DETOUR_ENV_ID

    name: str
    description: str
    difficulty: str
    size: int
    train_levels: tuple[int, int]
    heldout_levels: tuple[int, int]
    heldout_axes: tuple[str, ...] = ("level layout: unseen level seeds",)

    def __post_init__(self) -> None:
        LevelConfig.from_difficulty(self.difficulty, size=self.size)
        (a, n), (b, m) = self.train_levels, self.heldout_levels
        if min(a, b) < 0 or min(n, m) < 1 or (a < b + m and b < a + n):
            raise InvalidParameterError(
                f"suite {self.name}: level seed ranges must be disjoint and valid"
            )

    @property
    def train(self) -> tuple[DetourTask, ...]:
        """The train task: the train levels."""
        return (DetourTask(f"{self.name}/train", self.train_levels),)

    @property
    def heldout(self) -> tuple[DetourTask, ...]:
        """The held-out task: the held-out levels."""
        return (DetourTask(f"{self.name}/heldout", self.heldout_levels),)

    @property
    def bodies(self) -> tuple[str, ...]:
        """The bodies its tasks name: Detour's one."""
        return (DETOUR_BODY,)

    def levels(self, split: str) -> tuple[int, int]:
        """Return ``(first seed, count)`` of the levels of ``split``.

        Raises:
            UnknownSuiteError: For a split other than ``"train"`` and ``"heldout"``.
        """
        return self.tasks(split)[0].levels

    def env_kwargs(self, task_id: str, split: str) -> dict[str, Any]:
        """Return what ``gymnasium.make(env_id, ...)`` is given for the task of ``split``.

        Raises:
            UnknownTaskError: If ``split`` has no task ``task_id``.
        """
        self.task(task_id, split)
        return {"suite": self.name, "split": split}

    def reset_options(self, task_id: str) -> dict[str, Any]:
        """Return the reset options that start task ``task_id`` in its split's env: none.

        The split's env plays the split's levels, its one task.
        """
        return {}

    def reward_floor(self, family: str) -> float:
        """Return the least reward any behaviour can earn in a step: a fall, moving away.

        Args:
            family: The task's family (Detour's one; the floor is the same for every task).
        """
        from portia_envs.detour.world import REWARD_FALL, REWARD_PROGRESS

        return REWARD_FALL - MAX_DISTANCE_CHANGE_CELLS * REWARD_PROGRESS

    def content(self) -> dict[str, Any]:
        """Return everything that defines the suite, as plain JSON-ready data."""
        return {
            "name": self.name,
            "config": LevelConfig.from_difficulty(self.difficulty, size=self.size).content(),
            "train_levels": list(self.train_levels),
            "heldout_levels": list(self.heldout_levels),
            "heldout_axes": list(self.heldout_axes),
            "code_version": DETOUR_CODE_VERSION,
        }

    def fingerprint(self) -> str:
        """Return the fingerprint of Detour's world: its env id and code version, hashed."""
        content = {"env_id": self.env_id, "code_version": DETOUR_CODE_VERSION}
        canonical = json.dumps(content, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def environment(self) -> dict[str, str]:
        """Return a results file's ``environment``: the env id and its fingerprint."""
        return {self.env_id: self.fingerprint()}

    @property
    def hash(self) -> str:
        """The content hash: SHA-256 (hex, first 16) of the canonical JSON of ``content``."""
        canonical = json.dumps(self.content(), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


DETOUR_V0 = DetourSuite(
    name="detour-v0",
    description="Catch prey behind walls and gaps on 11 x 11 levels; held out: unseen levels.",
    difficulty="medium",
    size=11,
    train_levels=(0, 10_000),
    heldout_levels=(1_000_000, 1_000),
)

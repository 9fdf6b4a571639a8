"""Detour suites: frozen ranges of train and held-out level seeds, with a content hash.

Detour levels are not arm ``TaskSpec``s: a Detour suite names a difficulty and two disjoint
ranges of level seeds, like Procgen's train and test levels. ``gymnasium.make(
"Portia/Detour-v0", suite="detour-v0", split="heldout")`` plays the held-out levels.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from portia_envs.detour.config import LevelConfig
from portia_envs.errors import InvalidParameterError, UnknownSuiteError, did_you_mean

SPLITS = ("train", "heldout")
# Bumped whenever level generation or the world's rules change: it goes into the hash.
DETOUR_CODE_VERSION = 1


@dataclass(frozen=True)
class DetourSuite:
    """A frozen list of train and held-out Detour levels.

    Args:
        name: ``<name>-v<N>``; a published suite never changes (a change is a new version).
        description: What the suite measures, in a sentence.
        difficulty: The named difficulty its levels are generated at.
        size: Level side, cells.
        train_levels: ``(first seed, count)`` of the train levels.
        heldout_levels: ``(first seed, count)`` of the held-out levels, disjoint from train.
        heldout_axes: How held-out levels differ from train levels.
    """

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

    def levels(self, split: str) -> tuple[int, int]:
        """Return ``(first seed, count)`` of the levels of ``split``.

        Raises:
            UnknownSuiteError: For a split other than ``"train"`` and ``"heldout"``.
        """
        if split == "train":
            return self.train_levels
        if split == "heldout":
            return self.heldout_levels
        raise UnknownSuiteError(
            f"unknown split {split!r}; accepted: {', '.join(SPLITS)}" + did_you_mean(split, SPLITS)
        )

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

DETOUR_SUITES: dict[str, DetourSuite] = {DETOUR_V0.name: DETOUR_V0}


def get_detour_suite(name: str) -> DetourSuite:
    """Return the Detour suite called ``name``.

    Raises:
        UnknownSuiteError: If there is none; the message lists the known Detour suites.
    """
    if name not in DETOUR_SUITES:
        raise UnknownSuiteError(
            f"unknown Detour suite {name!r}; known: {', '.join(sorted(DETOUR_SUITES))}"
            + did_you_mean(name, DETOUR_SUITES)
        )
    return DETOUR_SUITES[name]

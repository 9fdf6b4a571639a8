"""Detour's constants and level parameters: cells, motion, named difficulties (no numba here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from portia_envs.errors import InvalidParameterError, UnknownTaskError, did_you_mean

# Cell types of a level grid.
FLOOR, WALL, GAP = 0, 1, 2
# Motion, in cells and steps: a walk step moves up to WALK_SPEED along each axis; a jump flies
# JUMP_STEPS steps of JUMP_SPEED, JUMP_CELLS cells in all, clearing a gap of up to 2 cells.
WALK_SPEED = 0.5
JUMP_SPEED = 0.75
JUMP_STEPS = 4
JUMP_CELLS = 3
# Half side of the spider's square; dyadic, so its edges land exactly on cell borders.
HALF_SIZE = 0.25
CATCH_RADIUS = 0.5

# Difficulty -> (maze_density, gap_width, gap_chance). See ``LevelConfig`` for their meaning.
DIFFICULTIES: dict[str, tuple[float, int, float]] = {
    "easy": (0.05, 1, 0.25),
    "medium": (0.12, 1, 0.5),
    "hard": (0.2, 2, 0.75),
}
MAX_MAZE_DENSITY = 0.4
GAP_WIDTHS = (1, 2)
MIN_SIZE, MAX_SIZE = 9, 31


@dataclass(frozen=True)
class LevelConfig:
    """What a Detour level is generated from, besides its seed.

    Args:
        size: The level is ``size`` x ``size`` cells (odd, 9 to 31), walls on its border.
        maze_density: Chance that a free interior cell becomes a wall, 0 to 0.4.
        gap_width: Width in cells (1 or 2) of a gap strip; a jump clears 2 cells.
        gap_chance: Chance, 0 to 1, that a level has a gap strip to jump over.
    """

    size: int = 11
    maze_density: float = DIFFICULTIES["medium"][0]
    gap_width: int = DIFFICULTIES["medium"][1]
    gap_chance: float = DIFFICULTIES["medium"][2]

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise InvalidParameterError(f"size must be an odd int, got {self.size!r}")
        if not MIN_SIZE <= self.size <= MAX_SIZE or self.size % 2 == 0:
            raise InvalidParameterError(
                f"size must be odd, {MIN_SIZE} to {MAX_SIZE} cells, got {self.size}"
            )
        if not 0.0 <= float(self.maze_density) <= MAX_MAZE_DENSITY:
            raise InvalidParameterError(
                f"maze_density must be in [0, {MAX_MAZE_DENSITY}], got {self.maze_density!r}"
            )
        if self.gap_width not in GAP_WIDTHS or isinstance(self.gap_width, bool):
            raise InvalidParameterError(
                f"gap_width must be one of {GAP_WIDTHS} cells (a jump clears 2), "
                f"got {self.gap_width!r}"
            )
        if not 0.0 <= float(self.gap_chance) <= 1.0:
            raise InvalidParameterError(f"gap_chance must be in [0, 1], got {self.gap_chance!r}")
        object.__setattr__(self, "maze_density", float(self.maze_density))
        object.__setattr__(self, "gap_chance", float(self.gap_chance))

    @classmethod
    def from_difficulty(
        cls,
        difficulty: str,
        *,
        size: int = 11,
        maze_density: float | None = None,
        gap_width: int | None = None,
    ) -> LevelConfig:
        """Return the config of a named difficulty, with optional overrides.

        Args:
            difficulty: ``"easy"``, ``"medium"`` or ``"hard"`` (see ``DIFFICULTIES``).
            size: Level side in cells.
            maze_density: Replaces the difficulty's wall density when given.
            gap_width: Replaces the difficulty's gap width when given.

        Returns:
            The checked config.

        Raises:
            UnknownTaskError: For an unknown difficulty; the message lists the known ones.
            InvalidParameterError: For a value out of its accepted range.
        """
        if difficulty not in DIFFICULTIES:
            raise UnknownTaskError(
                f"unknown Detour difficulty {difficulty!r}; accepted: "
                f"{', '.join(DIFFICULTIES)}" + did_you_mean(str(difficulty), DIFFICULTIES)
            )
        density, width, chance = DIFFICULTIES[difficulty]
        return cls(
            size=size,
            maze_density=density if maze_density is None else maze_density,
            gap_width=width if gap_width is None else gap_width,
            gap_chance=chance,
        )

    def content(self) -> dict[str, float | int]:
        """Return the config as plain JSON-ready data."""
        return asdict(self)

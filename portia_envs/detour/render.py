"""Draws a Detour world with pygame: floor, walls, gaps, the prey, the spider, a planned path."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pygame
from numpy.typing import NDArray

from portia_envs.detour.config import GAP, WALL

FLOOR_COLOUR = (236, 226, 198)
GRID_COLOUR = (220, 208, 176)
WALL_COLOUR = (72, 62, 56)
GAP_COLOUR = (18, 22, 40)
GAP_EDGE_COLOUR = (60, 70, 110)
PREY_COLOUR = (40, 160, 70)
WING_COLOUR = (200, 230, 240)
SPIDER_COLOUR = (30, 24, 20)
EYE_COLOUR = (250, 250, 250)
SHADOW_COLOUR = (150, 140, 120)
PATH_COLOUR = (235, 120, 20)


class DetourRenderer:
    """Draws worlds of one level size onto an offscreen surface, or into a window.

    Args:
        size: Level side, cells.
        cell_px: Side of a cell, pixels.
    """

    def __init__(self, size: int, *, cell_px: int = 40) -> None:
        self.size, self.cell_px = size, cell_px
        self.surface = pygame.Surface((size * cell_px, size * cell_px))
        self._window: Any = None
        self._clock: Any = None

    def draw(
        self,
        grid: NDArray[np.int8],
        body: NDArray[np.float64],
        path: NDArray[np.float64] | None,
    ) -> NDArray[np.uint8]:
        """Draw a world and return the frame, ``(height, width, 3)`` uint8.

        Args:
            grid: The level, ``(size, size)``.
            body: ``(x, y, vx, vy, air, prey_x, prey_y)`` in cells.
            path: A planned path, ``(k, 2)`` points ``(x, y)`` in cells, or None.
        """
        px = self.cell_px
        surface = self.surface
        surface.fill(FLOOR_COLOUR)
        for row in range(self.size):
            for col in range(self.size):
                rect = pygame.Rect(col * px, row * px, px, px)
                if grid[row, col] == WALL:
                    pygame.draw.rect(surface, WALL_COLOUR, rect)
                elif grid[row, col] == GAP:
                    pygame.draw.rect(surface, GAP_COLOUR, rect)
                    pygame.draw.rect(surface, GAP_EDGE_COLOUR, rect, width=max(1, px // 16))
                else:
                    pygame.draw.rect(surface, GRID_COLOUR, rect, width=1)
        if path is not None and len(path) > 1:
            points = [(x * px, y * px) for x, y in path]
            pygame.draw.lines(surface, PATH_COLOUR, False, points, width=max(2, px // 10))
            for point in points:
                pygame.draw.circle(surface, PATH_COLOUR, point, max(3, px // 8))
        self._draw_prey(body[5] * px, body[6] * px)
        self._draw_spider(body)
        return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))

    def show(self, fps: int) -> None:
        """Show the last drawn frame in a window, at most ``fps`` frames per second."""
        if self._window is None:
            pygame.display.init()
            pygame.display.set_caption("Portia Detour")
            self._window = pygame.display.set_mode(self.surface.get_size())
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        self._window.blit(self.surface, (0, 0))
        pygame.display.flip()
        self._clock.tick(fps)

    def close(self) -> None:
        """Close the window, if one was opened."""
        if self._window is not None:
            pygame.display.quit()
            self._window = None

    def _draw_prey(self, x: float, y: float) -> None:
        """A fly: two pale wings and a green body."""
        r = self.cell_px * 0.22
        for side in (-1, 1):
            wing = pygame.Rect(0, 0, 1.6 * r, 1.0 * r)
            wing.center = (round(x + side * 0.8 * r), round(y - 0.5 * r))
            pygame.draw.ellipse(self.surface, WING_COLOUR, wing)
        pygame.draw.circle(self.surface, PREY_COLOUR, (x, y), r)

    def _draw_spider(self, body: NDArray[np.float64]) -> None:
        """A spider facing its motion, eight legs, larger and shadowed while it jumps."""
        px = self.cell_px
        x, y, vx, vy, air = body[0] * px, body[1] * px, body[2], body[3], body[4]
        heading = math.atan2(vy, vx) if vx or vy else -math.pi / 2
        scale = 1.3 if air > 0 else 1.0
        r = px * 0.2 * scale
        if air > 0:
            pygame.draw.circle(self.surface, SHADOW_COLOUR, (x + 0.3 * r, y + 0.5 * r), r * 1.2)
        fx, fy = math.cos(heading), math.sin(heading)
        for side in (-1, 1):
            for k in range(4):
                angle = heading + side * (0.5 + 0.55 * k)
                knee = (x + 1.6 * r * math.cos(angle), y + 1.6 * r * math.sin(angle))
                bend = angle + side * 0.5
                foot = (knee[0] + 0.9 * r * math.cos(bend), knee[1] + 0.9 * r * math.sin(bend))
                pygame.draw.lines(self.surface, SPIDER_COLOUR, False, [(x, y), knee, foot], 2)
        pygame.draw.circle(self.surface, SPIDER_COLOUR, (x - 0.7 * r * fx, y - 0.7 * r * fy), r)
        head = (x + 0.5 * r * fx, y + 0.5 * r * fy)
        pygame.draw.circle(self.surface, SPIDER_COLOUR, head, 0.7 * r)
        for side in (-1, 1):
            eye = (head[0] + 0.35 * r * (fx - side * fy), head[1] + 0.35 * r * (fy + side * fx))
            pygame.draw.circle(self.surface, EYE_COLOUR, eye, max(1.5, 0.15 * r))

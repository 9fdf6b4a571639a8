"""Observation vectors as named parts: ``(name, size, bound)`` of each part, in order.

A layout gives each part's slice of the vector and each value's bound (the limit no state
reaches, declared so that the observation space is finite).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

# (name, size, bound) of each part of a vector, in order.
Parts = Sequence[tuple[str, int, float]]


def part_slices(parts: Parts) -> dict[str, slice]:
    """Return each part's slice of the vector, by name, the parts laid end to end."""
    starts = np.cumsum([0] + [size for _, size, _ in parts])
    return {
        name: slice(int(start), int(start) + size)
        for (name, size, _), start in zip(parts, starts, strict=False)
    }


def part_bounds(parts: Parts) -> NDArray[np.float64]:
    """Return each value's bound, shape ``(vector size,)``: a part's bound for all its values."""
    return np.concatenate([np.full(size, bound) for _, size, bound in parts])

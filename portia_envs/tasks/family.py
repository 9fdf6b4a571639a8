"""What every task family shares, whatever the body: named parameter ranges and a name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from portia_envs.errors import InvalidParameterError, UnknownTaskError, did_you_mean

# A family's parameter ranges, or a suite's overrides of some of them: name -> (low, high).
Ranges = Mapping[str, tuple[float, float]]


class TaskFamily:
    """A task family whose parameters are drawn uniformly from named ranges.

    ``default_ranges`` are the family's own; a suite's task may narrow or move some of them
    (``ranges``).

    Attributes:
        name: The family's name, as used in ``task=`` and ids.
        default_ranges: Each parameter's default range.
    """

    name: ClassVar[str]
    default_ranges: ClassVar[dict[str, tuple[float, float]]]

    def ranges(self, overrides: Ranges | None = None) -> dict[str, tuple[float, float]]:
        """Return the default ranges updated with ``overrides``, after checking them.

        Raises:
            ValueError: On an unknown parameter, or a range that is not ``low <= high``.
        """
        ranges = dict(self.default_ranges)
        for key, value in (overrides or {}).items():
            if key not in ranges:
                raise InvalidParameterError(
                    f"{self.name} has no parameter {key!r}; its parameters: "
                    f"{', '.join(self.default_ranges)}"
                )
            low, high = (float(v) for v in value)
            if not (np.isfinite(low) and np.isfinite(high) and low <= high):
                raise InvalidParameterError(
                    f"range of {key!r} must be finite with low <= high, got {value}"
                )
            ranges[key] = (low, high)
        return ranges


def family_index(name: str, names: tuple[str, ...], body: str) -> int:
    """Return the index of the task family ``name`` in ``names``, the families of ``body``.

    Raises:
        UnknownTaskError: If no family has that name; the message lists the known ones
            (``known <body> tasks: ...``), with a "did you mean" for a misspelt one.
    """
    if name not in names:
        raise UnknownTaskError(
            f"unknown task {name!r}; known {body} tasks: {', '.join(names)}"
            + did_you_mean(str(name), names)
        )
    return names.index(name)

"""Error types raised by the wrappers, so users can catch them precisely."""

from __future__ import annotations


class WrapperInputError(ValueError):
    """An argument or input a wrapper cannot accept."""


class ThinkBudgetExceededError(RuntimeError):
    """An agent asked to imagine more than its think budget allows for one decision."""

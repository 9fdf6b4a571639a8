"""Clocks that say how long each decision took, for ``LatencyBudget``.

A clock is told when a decision starts (the observation is handed to the agent) and asked,
when the action arrives, how many seconds the decision took.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from wrappers.errors import WrapperInputError


@runtime_checkable
class Clock(Protocol):
    """Measures or models the latency of each decision."""

    def reset(self, seed: int | None) -> None:
        """Start an episode (reseeding a random clock when ``seed`` is given)."""

    def start(self) -> None:
        """The observation has been handed over: a decision begins."""

    def latency_s(self) -> float:
        """The action has arrived: return the decision's latency in seconds (>= 0)."""


class WallClock:
    """Measured wall time between an observation being returned and the next ``step`` call.

    Args:
        now: A monotonic time source in seconds (``time.perf_counter`` by default).
    """

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self._now = now
        self._started: float | None = None

    def reset(self, seed: int | None) -> None:
        """Forget any decision in progress."""
        self._started = None

    def start(self) -> None:
        """Note when the decision began."""
        self._started = self._now()

    def latency_s(self) -> float:
        """Return the seconds since ``start``.

        Raises:
            WrapperInputError: If the time source went backwards (it must be monotonic).
        """
        if self._started is None:
            raise WrapperInputError("WallClock.latency_s() before start(): reset the env first")
        elapsed = self._now() - self._started
        if elapsed < 0:
            raise WrapperInputError(
                f"the clock's time source went backwards by {-elapsed:.6f} s; "
                "a WallClock needs a monotonic source such as time.perf_counter"
            )
        return elapsed


class FixedLatency:
    """Every decision takes the same time: deterministic, Real-Time RL's setting at one period.

    Args:
        latency_s: The latency of every decision, seconds (>= 0).
    """

    def __init__(self, latency_s: float) -> None:
        self.fixed_s = _check_seconds(latency_s, "latency_s")

    def reset(self, seed: int | None) -> None:
        """Nothing to reset."""

    def start(self) -> None:
        """Nothing to note."""

    def latency_s(self) -> float:
        """Return the fixed latency."""
        return self.fixed_s


class RandomLatency:
    """Latencies drawn uniformly from ``[low_s, high_s]`` by a seeded generator.

    ``reset(seed)`` with a seed restarts the stream, so an episode's latencies follow the
    env's seed.

    Args:
        low_s: Smallest latency, seconds (>= 0).
        high_s: Largest latency, seconds (>= low_s).
        seed: Seed of the generator.
    """

    def __init__(self, low_s: float, high_s: float, *, seed: int | None = None) -> None:
        self.low_s = _check_seconds(low_s, "low_s")
        self.high_s = _check_seconds(high_s, "high_s")
        if high_s < low_s:
            raise WrapperInputError(f"high_s ({high_s}) must be >= low_s ({low_s})")
        self._rng = np.random.default_rng(seed)

    def reset(self, seed: int | None) -> None:
        """Reseed the generator when a seed is given."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)

    def start(self) -> None:
        """Nothing to note."""

    def latency_s(self) -> float:
        """Return the next latency."""
        return float(self._rng.uniform(self.low_s, self.high_s))


class ComputeClock:
    """Latency from the compute the agent declares for each decision, at a stated speed.

    Before each ``step`` the agent declares its cost, through ``LatencyBudget.declare_compute``
    (or ``declare`` here), in floating-point operations; the latency is that cost divided by
    the device speed, plus a fixed overhead.

    Args:
        flops_per_s: The modelled device's speed, floating-point operations per second.
        overhead_s: Fixed time added to every decision (sensing, communication), seconds.
    """

    def __init__(self, flops_per_s: float, *, overhead_s: float = 0.0) -> None:
        if not (math.isfinite(flops_per_s) and flops_per_s > 0):
            raise WrapperInputError(f"flops_per_s must be a positive number, got {flops_per_s}")
        self.flops_per_s = flops_per_s
        self.overhead_s = _check_seconds(overhead_s, "overhead_s")
        self._declared: float | None = None

    def declare(self, flops: float) -> None:
        """Declare the compute of the decision in progress, in floating-point operations."""
        if not (math.isfinite(flops) and flops >= 0):
            raise WrapperInputError(f"declared compute must be >= 0 FLOPs, got {flops}")
        self._declared = float(flops)

    def reset(self, seed: int | None) -> None:
        """Forget an undeclared decision."""
        self._declared = None

    def start(self) -> None:
        """A new decision: its compute is yet to be declared."""
        self._declared = None

    def latency_s(self) -> float:
        """Return the declared compute's duration.

        Raises:
            WrapperInputError: If nothing was declared for this decision.
        """
        if self._declared is None:
            raise WrapperInputError(
                "ComputeClock: declare the decision's compute (declare_compute(flops)) "
                "before each step"
            )
        return self.overhead_s + self._declared / self.flops_per_s


def _check_seconds(value: float, name: str) -> float:
    """Return ``value`` if it is a finite number of seconds >= 0, else raise."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise WrapperInputError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return float(value)

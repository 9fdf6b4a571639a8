"""Benchmarks run once as smoke tests by default; their targets hold when measured.

``pytest tests/benchmarks --benchmark-enable -s`` measures and asserts every ratio target;
the default test run (benchmarks disabled) runs each benchmark once, briefly, and checks
that it works, not how fast: a shared machine's timings are too noisy for a pass/fail.
"""

import pytest


@pytest.fixture
def measuring(benchmark):
    """Whether this run measures: timing targets are asserted only then."""
    return not benchmark.disabled


@pytest.fixture
def rounds(measuring):
    """How many alternating rounds a ratio is measured over (the fastest of each counts)."""
    return 15 if measuring else 1

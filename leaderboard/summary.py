"""What the leaderboard stores and ranks of a validated results file: a few numbers.

Every number is read from the scores that ``validate_results`` recomputed from the
episodes. The held-out success rate's 95% interval is the harness's own: the
stratified bootstrap of ``harness.scores`` over the held-out tasks' success matrix
(``scores.splits.heldout.success_rate``), so nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Interval:
    """A value with its confidence interval.

    Attributes:
        value: The point value.
        low: The interval's lower bound.
        high: The interval's upper bound.
    """

    value: float
    low: float
    high: float

    @classmethod
    def of(cls, estimate: Mapping[str, float]) -> Interval:
        """Return the interval of a scores entry ``{"value": ..., "low": ..., "high": ...}``."""
        return cls(float(estimate["value"]), float(estimate["low"]), float(estimate["high"]))


@dataclass(frozen=True)
class Summary:
    """The numbers of one results file that the leaderboard stores beside it.

    Attributes:
        suite: The suite's name.
        suite_hash: The suite's content hash.
        track: ``"paused"`` or ``"realtime"``.
        budget_ms: The latency budget per decision (realtime), else None.
        agent_name: The agent's name, as the file gives it.
        agent_hash: The agent's content hash, or None.
        episodes: How many episode records the file holds.
        heldout_success: Success rate over the held-out tasks, 0 to 1, with its CI.
        train_success: Success rate over the train tasks, 0 to 1, with its CI.
        heldout_iqm: Interquartile mean of the held-out normalized scores, with its CI.
        generalization_gap: Train IQM minus held-out IQM, with its CI.
        latency_compliance: Share of decisions within the budget (realtime), else None.
        latency_p50_ms: Median decision latency, ms (realtime), else None.
    """

    suite: str
    suite_hash: str
    track: str
    budget_ms: float | None
    agent_name: str
    agent_hash: str | None
    episodes: int
    heldout_success: Interval
    train_success: Interval
    heldout_iqm: Interval
    generalization_gap: Interval
    latency_compliance: float | None
    latency_p50_ms: float | None


def summarize(results: Mapping[str, Any], scores: Mapping[str, Any]) -> Summary:
    """Return the summary of a results file.

    Args:
        results: The results file's content, validated.
        scores: Its scores as ``validate_results`` recomputed them.

    Returns:
        The summary.
    """
    splits = scores["splits"]
    latency = scores["latency"] or {}
    return Summary(
        suite=results["suite"]["name"],
        suite_hash=results["suite"]["hash"],
        track=results["track"],
        budget_ms=results["budget_ms"],
        agent_name=results["agent"]["name"],
        agent_hash=results["agent"]["hash"],
        episodes=len(results["episodes"]),
        heldout_success=Interval.of(splits["heldout"]["success_rate"]),
        train_success=Interval.of(splits["train"]["success_rate"]),
        heldout_iqm=Interval.of(splits["heldout"]["iqm"]),
        generalization_gap=Interval.of(scores["generalization_gap"]),
        latency_compliance=latency.get("compliance"),
        latency_p50_ms=latency.get("p50_ms"),
    )

"""How entries are ranked: by held-out success rate, with ties read from the 95% intervals.

Entries are ranked per suite on boards: one for the paused track and one per latency
budget of the realtime track (runs at different budgets are not comparable). On a board,
rows are ordered by held-out success rate (then by the interval's lower bound, then
oldest first), and an entry's rank is 1 plus the number of entries on the board whose
interval's lower bound exceeds its upper bound: the entries that are better beyond doubt.
Entries whose intervals overlap share a rank, so a rank says how many entries are clearly
ahead, not a position in the list; two rows may even show ranks out of list order when
one has a wide interval.

Which entries are shown is the view's choice (``VIEWS``): by default verified entries and
the baselines the server ran itself; ``all`` adds self-reported entries, which are marked
as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leaderboard.models import BASELINE, TIERS, VERIFIED
from leaderboard.summary import Interval

# The views of a suite's boards and the tiers each shows.
VIEWS = {"verified": (VERIFIED, BASELINE), "all": TIERS}


@dataclass(frozen=True)
class Standing:
    """What the ranking reads of an entry.

    Attributes:
        entry_id: The entry.
        track: ``"paused"`` or ``"realtime"``.
        budget_ms: The latency budget (realtime), else None.
        heldout_success: Held-out success rate with its 95% interval.
    """

    entry_id: int
    track: str
    budget_ms: float | None
    heldout_success: Interval


@dataclass(frozen=True)
class Board:
    """The ranked entries of one track (and budget) of a suite.

    Attributes:
        track: ``"paused"`` or ``"realtime"``.
        budget_ms: The latency budget of its runs (realtime), else None.
        places: ``(rank, standing)`` in display order.
    """

    track: str
    budget_ms: float | None
    places: list[tuple[int, Standing]]


def tie_aware_ranks(intervals: Sequence[Interval]) -> list[int]:
    """Return each interval's rank: 1 + how many others' lower bounds exceed its upper bound.

    Args:
        intervals: One interval per entry, in any order.

    Returns:
        The ranks, in the order of ``intervals``.
    """
    return [1 + sum(other.low > this.high for other in intervals) for this in intervals]


def ordered(standings: Sequence[Standing]) -> list[Standing]:
    """Return ``standings`` by held-out success rate, then lower bound, high first, then id."""
    return sorted(
        standings,
        key=lambda s: (-s.heldout_success.value, -s.heldout_success.low, s.entry_id),
    )


def boards(standings: Sequence[Standing]) -> list[Board]:
    """Split ``standings`` into boards and rank each.

    Returns:
        The paused board first, then the realtime boards by budget, each in display
        order with its ranks; a board with no entry is left out.
    """
    keys = sorted(
        {(s.track, s.budget_ms) for s in standings},
        key=lambda key: (key[0] != "paused", key[1] or 0.0),
    )
    made = []
    for track, budget_ms in keys:
        rows = ordered([s for s in standings if (s.track, s.budget_ms) == (track, budget_ms)])
        ranks = tie_aware_ranks([s.heldout_success for s in rows])
        made.append(Board(track, budget_ms, list(zip(ranks, rows, strict=True))))
    return made

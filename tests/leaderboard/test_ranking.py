"""The ranking rule, worked by hand."""

from leaderboard.models import TIERS
from leaderboard.ranking import VIEWS, Standing, boards, ordered, tie_aware_ranks
from leaderboard.summary import Interval


def standing(entry_id, value, low, high, track="paused", budget_ms=None):
    return Standing(entry_id, track, budget_ms, Interval(value, low, high))


def test_a_rank_counts_the_entries_whose_lower_bound_exceeds_the_upper_bound():
    intervals = [
        Interval(0.75, 0.60, 0.90),  # no lower bound above 0.90: rank 1
        Interval(0.60, 0.50, 0.70),  # lower bounds 0.60, 0.65 are not above 0.70: rank 1
        Interval(0.20, 0.10, 0.30),  # 0.60, 0.50, 0.65 and 0.35 are above 0.30: rank 5
        Interval(0.70, 0.65, 0.80),  # none above 0.80: rank 1
        Interval(0.40, 0.35, 0.45),  # 0.60, 0.50 and 0.65 are above 0.45: rank 4
    ]
    assert tie_aware_ranks(intervals) == [1, 1, 5, 1, 4]


def test_separated_intervals_rank_one_two_three_and_equal_ones_share():
    assert tie_aware_ranks([Interval(0.9, 0.8, 1.0), Interval(0.5, 0.4, 0.6)]) == [1, 2]
    assert tie_aware_ranks([Interval(0.1, 0.0, 0.2)] * 3) == [1, 1, 1]
    # A lower bound equal to an upper bound is not above it.
    assert tie_aware_ranks([Interval(0.6, 0.5, 0.7), Interval(0.4, 0.3, 0.5)]) == [1, 1]


def test_rows_are_ordered_by_success_then_lower_bound_then_age():
    rows = [
        standing(1, 0.5, 0.2, 0.8),
        standing(2, 0.7, 0.6, 0.8),
        standing(3, 0.5, 0.4, 0.6),
        standing(4, 0.5, 0.4, 0.6),
    ]
    assert [s.entry_id for s in ordered(rows)] == [2, 3, 4, 1]


def test_a_wide_interval_can_rank_above_the_row_before_it():
    # Ordered by value: 0.9, 0.75, 0.74. The middle one's upper bound 0.76 is below 0.8,
    # the first one's lower bound; the last one's 0.99 is below nothing.
    made = boards(
        [
            standing(1, 0.75, 0.74, 0.76),
            standing(2, 0.74, 0.20, 0.99),
            standing(3, 0.90, 0.80, 0.95),
        ]
    )
    assert [(rank, s.entry_id) for rank, s in made[0].places] == [(1, 3), (2, 1), (1, 2)]


def test_each_track_and_budget_is_a_board_of_its_own():
    made = boards(
        [
            standing(1, 0.2, 0.1, 0.3, "realtime", 50.0),
            standing(2, 0.9, 0.8, 1.0, "realtime", 20.0),
            standing(3, 0.1, 0.0, 0.2, "realtime", 20.0),
            standing(4, 0.5, 0.4, 0.6),
        ]
    )
    assert [(b.track, b.budget_ms) for b in made] == [
        ("paused", None),
        ("realtime", 20.0),
        ("realtime", 50.0),
    ]
    assert [[(rank, s.entry_id) for rank, s in b.places] for b in made] == [
        [(1, 4)],
        [(1, 2), (2, 3)],
        [(1, 1)],
    ]
    assert boards([]) == []


def test_the_default_view_shows_verified_entries_and_baselines_and_all_adds_the_rest():
    assert VIEWS == {"verified": ("verified", "baseline"), "all": TIERS}
    assert TIERS == ("verified", "self-reported", "baseline")

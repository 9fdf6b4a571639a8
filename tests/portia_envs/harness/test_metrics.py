import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from portia_envs.errors import InvalidScoresError, PortiaError
from portia_envs.harness.metrics import (
    generalization_gap,
    interval,
    iqm,
    mean_score,
    median_score,
    optimality_gap,
    stratified_bootstrap_ci,
)

# Rows are runs, columns tasks.
SCORES_3X2 = np.array([[0.0, 10.0], [20.0, 30.0], [40.0, 100.0]])


def noisy_scores(seed, n_runs=20, n_tasks=4):
    return np.random.default_rng(seed).normal(60.0, 15.0, size=(n_runs, n_tasks))


class Recorder:
    """A statistic that keeps every matrix it is given and returns its mean."""

    def __init__(self):
        self.seen = []

    def __call__(self, scores):
        self.seen.append(scores.copy())
        return float(scores.mean())


# Point statistics, worked by hand.


def test_iqm_drops_a_quarter_of_the_pooled_scores_at_each_end():
    # n = 6 pooled scores, cut int(0.25 * 6) = 1 each side: 0 and 100 go,
    # mean(10, 20, 30, 40) = 25.
    assert iqm(SCORES_3X2) == 25.0
    # n = 4, cut 1: mean(2, 3) = 2.5.
    assert iqm([[1.0, 4.0], [3.0, 2.0]]) == 2.5
    # n = 9 (eight zeros and a 90), cut int(2.25) = 2: two zeros go at the bottom, a zero and
    # the 90 at the top, and the five zeros left average 0.
    assert iqm([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 90.0]]) == 0.0
    # n = 3, cut int(0.75) = 0: nothing is dropped, mean(1, 2, 9) = 4.
    assert iqm([[1.0], [2.0], [9.0]]) == 4.0


def test_mean_and_median_are_over_per_task_means():
    # Per-task means: (0 + 20) / 2 = 10, (10 + 30) / 2 = 20, (90 + 100) / 2 = 95.
    scores = [[0.0, 10.0, 90.0], [20.0, 30.0, 100.0]]
    assert mean_score(scores) == pytest.approx((10.0 + 20.0 + 95.0) / 3)
    assert median_score(scores) == 20.0
    # Two tasks: the median is the mean of the two task means, 20 and 140 / 3.
    assert median_score(SCORES_3X2) == pytest.approx((20.0 + 140.0 / 3) / 2)


def test_mean_score_of_successes_is_the_success_rate():
    # Task rates 2/4 and 4/4: the mean over tasks is 0.75.
    successes = np.array([[True, True], [False, True], [True, True], [False, True]])
    assert mean_score(successes) == 0.75


def test_optimality_gap_clips_scores_above_gamma():
    # min(s, 100) = 50, 100, 100, 0, mean 62.5: gap 100 - 62.5 = 37.5.
    scores = [[50.0, 150.0], [100.0, 0.0]]
    assert optimality_gap(scores) == 37.5
    # min(s, 50) = 50, 50, 50, 0, mean 37.5: gap 50 - 37.5 = 12.5.
    assert optimality_gap(scores, gamma=50.0) == 12.5
    assert optimality_gap([[100.0, 120.0]]) == 0.0


# Stratified bootstrap.


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    scores = noisy_scores(0)
    first = stratified_bootstrap_ci(scores, iqm, rng=np.random.default_rng(7), reps=300)
    again = stratified_bootstrap_ci(scores, iqm, rng=np.random.default_rng(7), reps=300)
    other = stratified_bootstrap_ci(scores, iqm, rng=np.random.default_rng(8), reps=300)
    assert first == again
    assert first != other


def test_the_interval_brackets_the_point_value():
    scores = noisy_scores(1)
    for statistic in (iqm, mean_score, median_score, optimality_gap):
        result = interval(scores, statistic, rng=np.random.default_rng(0), reps=500)
        assert result["value"] == statistic(scores)
        assert result["low"] < result["value"] < result["high"]


def test_a_wider_confidence_gives_a_wider_interval():
    scores = noisy_scores(2)
    low_90, high_90 = stratified_bootstrap_ci(
        scores, mean_score, rng=np.random.default_rng(0), reps=500, confidence=0.9
    )
    low_99, high_99 = stratified_bootstrap_ci(
        scores, mean_score, rng=np.random.default_rng(0), reps=500, confidence=0.99
    )
    assert low_99 < low_90 < high_90 < high_99


def test_the_interval_is_the_percentile_range_of_the_replicates():
    recorder = Recorder()
    low, high = stratified_bootstrap_ci(
        noisy_scores(3), recorder, rng=np.random.default_rng(0), reps=200, confidence=0.8
    )
    assert len(recorder.seen) == 200
    values = [seen.mean() for seen in recorder.seen]
    assert (low, high) == tuple(np.quantile(values, [0.1, 0.9]))


def test_a_constant_matrix_gives_a_zero_width_interval():
    result = interval(np.full((5, 3), 42.0), iqm, rng=np.random.default_rng(0), reps=100)
    assert result == {"value": 42.0, "low": 42.0, "high": 42.0}


def test_a_single_run_collapses_the_interval_to_the_point_value():
    # One run per task: every replicate redraws that one run, so it is the matrix itself.
    scores = [[10.0, 50.0, 90.0]]
    result = interval(scores, mean_score, rng=np.random.default_rng(0), reps=100)
    assert result == {"value": 50.0, "low": 50.0, "high": 50.0}


def test_each_task_is_resampled_within_its_own_column():
    # Column 0 only holds 0, 1, 2 and column 1 only 10, 11, 12.
    scores = np.array([[0.0, 10.0], [1.0, 11.0], [2.0, 12.0]])
    recorder = Recorder()
    stratified_bootstrap_ci(scores, recorder, rng=np.random.default_rng(0), reps=200)
    for seen in recorder.seen:
        assert seen.shape == (3, 2)
        assert set(seen[:, 0]) <= {0.0, 1.0, 2.0}
        assert set(seen[:, 1]) <= {10.0, 11.0, 12.0}
    # Drawn with replacement: some replicate repeats a run within a column.
    assert any(len(set(seen[:, 0])) < 3 for seen in recorder.seen)


def test_columns_are_resampled_independently():
    # Two identical columns: drawing the same rows for both would keep them equal.
    scores = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    recorder = Recorder()
    stratified_bootstrap_ci(scores, recorder, rng=np.random.default_rng(0), reps=50)
    assert any(not np.array_equal(seen[:, 0], seen[:, 1]) for seen in recorder.seen)


def test_a_replicate_never_mixes_tasks_so_their_mean_stays_put():
    # Task means are always 0 and 100 whatever runs are drawn: the mean is exactly 50.
    scores = np.column_stack([np.zeros(6), np.full(6, 100.0)])
    recorder = Recorder()
    low, high = stratified_bootstrap_ci(scores, recorder, rng=np.random.default_rng(0), reps=200)
    assert (low, high) == (50.0, 50.0)
    assert all(mean_score(seen) == 50.0 for seen in recorder.seen)


# Generalization gap.


def test_generalization_gap_by_hand():
    # iqm(train) = 25 (see above); heldout has n = 3, nothing cut: mean(5, 15, 10) = 10.
    heldout = [[5.0], [15.0], [10.0]]
    result = generalization_gap(SCORES_3X2, heldout, rng=np.random.default_rng(0), reps=200)
    assert result["value"] == 25.0 - 10.0
    assert result["low"] <= result["value"] <= result["high"]


def test_generalization_gap_is_positive_when_heldout_is_worse():
    train, heldout = np.full((4, 3), 80.0), np.full((6, 2), 20.0)
    result = generalization_gap(train, heldout, rng=np.random.default_rng(0), reps=50)
    assert result == {"value": 60.0, "low": 60.0, "high": 60.0}
    reverse = generalization_gap(heldout, train, rng=np.random.default_rng(0), reps=50)
    assert reverse == {"value": -60.0, "low": -60.0, "high": -60.0}


def test_generalization_gap_of_noisy_scores_is_seeded_and_brackets_its_value():
    train, heldout = noisy_scores(4, n_runs=15, n_tasks=3), noisy_scores(5, n_runs=10) - 20.0
    kwargs = {"statistic": mean_score, "reps": 300}
    first = generalization_gap(train, heldout, rng=np.random.default_rng(1), **kwargs)
    again = generalization_gap(train, heldout, rng=np.random.default_rng(1), **kwargs)
    assert first == again
    assert first["value"] == mean_score(train) - mean_score(heldout)
    assert first["low"] < first["value"] < first["high"]


# Bad input.


@pytest.mark.parametrize(
    ("scores", "shape"),
    [
        ([1.0, 2.0, 3.0], r"\(3,\)"),
        (np.empty((0, 3)), r"\(0, 3\)"),
        (np.empty((3, 0)), r"\(3, 0\)"),
        (np.zeros((2, 2, 2)), r"\(2, 2, 2\)"),
        (5.0, r"\(\)"),
    ],
)
def test_a_matrix_of_the_wrong_shape_is_refused(scores, shape):
    accepted = r"a 2-D array \(n_runs, n_tasks\) with at least one run and one task"
    with pytest.raises(InvalidScoresError, match=f"scores must be {accepted}, got shape {shape}"):
        iqm(scores)


def test_ragged_or_non_numeric_scores_are_refused():
    with pytest.raises(InvalidScoresError, match="of numbers; could not convert it"):
        mean_score([[1.0, 2.0], [3.0]])
    with pytest.raises(InvalidScoresError, match="of numbers; could not convert it"):
        mean_score([["a", "b"]])


@pytest.mark.parametrize(("bad", "shown"), [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_scores_are_refused(bad, shown):
    scores = np.zeros((3, 2))
    scores[2, 1] = bad
    with pytest.raises(
        InvalidScoresError,
        match=f"scores must be finite, got {shown} at run 2, task 1 \\(1 non-finite of 6\\)",
    ):
        median_score(scores)


def test_a_bad_matrix_is_named_in_the_gap_error():
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidScoresError, match=r"heldout must be .*got shape \(2,\)"):
        generalization_gap(SCORES_3X2, [1.0, 2.0], rng=rng)
    with pytest.raises(InvalidScoresError, match="train must be finite, got nan"):
        generalization_gap([[np.nan]], SCORES_3X2, rng=rng)


@pytest.mark.parametrize("reps", [0, -5, 2.5, True, "100"])
def test_reps_must_be_a_positive_integer(reps):
    with pytest.raises(InvalidScoresError, match="reps must be an integer of at least 1, got"):
        stratified_bootstrap_ci(SCORES_3X2, iqm, rng=np.random.default_rng(0), reps=reps)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1, float("nan")])
def test_confidence_must_be_strictly_between_0_and_1(confidence):
    with pytest.raises(InvalidScoresError, match="confidence must be strictly between 0 and 1"):
        interval(SCORES_3X2, iqm, rng=np.random.default_rng(0), confidence=confidence)


def test_gamma_must_be_finite():
    with pytest.raises(InvalidScoresError, match="gamma must be a finite number, got nan"):
        optimality_gap(SCORES_3X2, gamma=float("nan"))


def test_invalid_scores_are_portia_value_errors():
    assert issubclass(InvalidScoresError, PortiaError)
    assert issubclass(InvalidScoresError, ValueError)


# Cross-checks against rliable, the reference implementation.


def test_point_statistics_match_rliable():
    from rliable import metrics as rly_metrics

    scores = np.random.default_rng(0).normal(50.0, 30.0, size=(10, 5))
    assert iqm(scores) == pytest.approx(rly_metrics.aggregate_iqm(scores), abs=1e-9)
    assert mean_score(scores) == pytest.approx(rly_metrics.aggregate_mean(scores), abs=1e-9)
    assert median_score(scores) == pytest.approx(rly_metrics.aggregate_median(scores), abs=1e-9)
    for gamma in (100.0, 50.0):
        expected = rly_metrics.aggregate_optimality_gap(scores, gamma=gamma)
        assert optimality_gap(scores, gamma=gamma) == pytest.approx(expected, abs=1e-9)


def test_bootstrap_intervals_match_rliable():
    from rliable import library as rly
    from rliable import metrics as rly_metrics

    scores = np.random.default_rng(1).normal(50.0, 30.0, size=(10, 5))
    reps = 10_000

    def rly_statistics(x):
        return np.array([rly_metrics.aggregate_iqm(x), rly_metrics.aggregate_mean(x)])

    # rliable draws its indices from numpy's global generator: seed it, then put it back.
    state = np.random.get_state()
    try:
        np.random.seed(0)
        points, cis = rly.get_interval_estimates({"a": scores}, rly_statistics, reps=reps)
    finally:
        np.random.set_state(state)
    # One column per statistic: row 0 the lower bounds, row 1 the upper.
    assert cis["a"].shape == (2, 2)
    for column, statistic in enumerate((iqm, mean_score)):
        ours = interval(scores, statistic, rng=np.random.default_rng(0), reps=reps)
        assert ours["value"] == pytest.approx(points["a"][column], abs=1e-9)
        # Two independent Monte Carlo estimates of the same quantiles: allow 5% of the width.
        width = ours["high"] - ours["low"]
        assert ours["low"] == pytest.approx(cis["a"][0, column], abs=0.05 * width)
        assert ours["high"] == pytest.approx(cis["a"][1, column], abs=0.05 * width)


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 4)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    ),
    st.integers(0, 2**32 - 1),
)
def test_aggregates_and_their_intervals_lie_within_the_scores(scores, seed):
    low, high = scores.min(), scores.max()
    for statistic in (iqm, mean_score, median_score):
        found = interval(scores, statistic, rng=np.random.default_rng(seed), reps=20)
        tolerance = 1e-9 * max(1.0, abs(low), abs(high))
        assert low - tolerance <= found["low"] <= found["high"] <= high + tolerance
        assert low - tolerance <= found["value"] <= high + tolerance

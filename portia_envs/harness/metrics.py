"""Aggregate scores and their stratified-bootstrap confidence intervals.

The definitions follow rliable: R. Agarwal, M. Schwarzer, P. S. Castro, A. Courville and
M. G. Bellemare, "Deep Reinforcement Learning at the Edge of the Statistical Precipice",
NeurIPS 2021. Every function takes a score matrix of shape ``(n_runs, n_tasks)``: rows are
runs (in Portia, episodes), columns are tasks. Scores are normalized (0 = random agent,
100 = the reference teacher), but nothing here depends on the scale except the default
``gamma`` of `optimality_gap`.

Randomness comes only from the ``rng`` argument, so the same seed gives the same interval.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from portia_envs.errors import InvalidScoresError

Statistic = Callable[[NDArray[np.float64]], float]
"""A function of a score matrix ``(n_runs, n_tasks)`` to one number, such as `iqm`."""

IQM_CUT = 0.25
"""The fraction of scores that the interquartile mean drops at each end."""


def _check_scores(scores: ArrayLike, name: str = "scores") -> NDArray[np.float64]:
    """Convert a score matrix to float64 and check its shape and values.

    Args:
        scores: The scores, shape ``(n_runs, n_tasks)``.
        name: What to call the matrix in an error message.

    Returns:
        The scores as a float64 array of shape ``(n_runs, n_tasks)``.

    Raises:
        InvalidScoresError: If ``scores`` is not numeric, not 2-D, has no run or no task,
            or holds a NaN or an infinity.
    """
    accepted = "a 2-D array (n_runs, n_tasks) with at least one run and one task"
    try:
        array = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InvalidScoresError(
            f"{name} must be {accepted} of numbers; could not convert it: {error}"
        ) from error
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise InvalidScoresError(f"{name} must be {accepted}, got shape {array.shape}")
    finite = np.isfinite(array)
    if not finite.all():
        run, task = np.argwhere(~finite)[0]
        raise InvalidScoresError(
            f"{name} must be finite, got {array[run, task]} at run {run}, task {task} "
            f"({int((~finite).sum())} non-finite of {array.size}); fix or drop those runs"
        )
    return array


def iqm(scores: ArrayLike) -> float:
    """Interquartile mean over all runs and tasks together.

    The mean of the pooled scores after dropping the ``int(0.25 * n)`` lowest and as many
    highest of the ``n = n_runs * n_tasks`` values, as ``scipy.stats.trim_mean(scores,
    0.25, axis=None)``. With fewer than four scores nothing is dropped.

    Args:
        scores: The scores, shape ``(n_runs, n_tasks)``.

    Returns:
        The interquartile mean.

    Raises:
        InvalidScoresError: If ``scores`` is not a finite ``(n_runs, n_tasks)`` matrix.
    """
    flat = _check_scores(scores).ravel()
    cut = int(IQM_CUT * flat.size)
    # A partial sort is enough: only which values fall in the middle matters.
    middle = np.partition(flat, (cut, flat.size - cut - 1))[cut : flat.size - cut]
    return float(middle.mean())


def mean_score(scores: ArrayLike) -> float:
    """Mean over tasks of each task's mean over runs.

    Applied to a 0/1 matrix of successes, this is the success rate.

    Args:
        scores: The scores, shape ``(n_runs, n_tasks)``.

    Returns:
        The mean of the per-task means.

    Raises:
        InvalidScoresError: If ``scores`` is not a finite ``(n_runs, n_tasks)`` matrix.
    """
    return float(_check_scores(scores).mean(axis=0).mean())


def median_score(scores: ArrayLike) -> float:
    """Median over tasks of each task's mean over runs.

    Args:
        scores: The scores, shape ``(n_runs, n_tasks)``.

    Returns:
        The median of the per-task means (the mean of the two middle ones for an even
        number of tasks).

    Raises:
        InvalidScoresError: If ``scores`` is not a finite ``(n_runs, n_tasks)`` matrix.
    """
    return float(np.median(_check_scores(scores).mean(axis=0)))


def optimality_gap(scores: ArrayLike, gamma: float = 100.0) -> float:
    """How far the scores fall short of a target, on average: ``gamma - mean(min(s, gamma))``.

    Scores above ``gamma`` count as ``gamma``, so doing better than the target on one
    task cannot make up for falling short on another.

    Args:
        scores: The scores, shape ``(n_runs, n_tasks)``.
        gamma: The target, in normalized score units; 100 is the reference teacher.

    Returns:
        The optimality gap: 0 when every score reaches ``gamma``, larger is worse.

    Raises:
        InvalidScoresError: If ``scores`` is not a finite ``(n_runs, n_tasks)`` matrix, or
            ``gamma`` is not a finite number.
    """
    if not np.isfinite(gamma):
        raise InvalidScoresError(f"gamma must be a finite number, got {gamma!r}")
    return float(gamma - np.minimum(_check_scores(scores), gamma).mean())


def _check_bootstrap(reps: int, confidence: float) -> None:
    """Check the number of bootstrap replicates and the confidence level.

    Args:
        reps: The number of replicates.
        confidence: The coverage of the interval.

    Raises:
        InvalidScoresError: If ``reps`` is not an integer of at least 1, or
            ``confidence`` is not strictly between 0 and 1.
    """
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 1:
        raise InvalidScoresError(f"reps must be an integer of at least 1, got {reps!r}")
    if not 0.0 < confidence < 1.0:
        raise InvalidScoresError(
            f"confidence must be strictly between 0 and 1 (0.95 for a 95% interval), "
            f"got {confidence!r}"
        )


def _bootstrap_values(
    scores: NDArray[np.float64], statistic: Statistic, rng: np.random.Generator, reps: int
) -> NDArray[np.float64]:
    """The statistic of ``reps`` stratified resamples of a checked score matrix.

    Each replicate draws ``n_runs`` rows with replacement within every task's column,
    independently per column, so a resampled column only ever holds that task's scores.

    Args:
        scores: The checked scores, shape ``(n_runs, n_tasks)``.
        statistic: The function of a score matrix to bootstrap.
        rng: The source of the resampling indices.
        reps: The number of replicates.

    Returns:
        The statistic of each replicate, shape ``(reps,)``.
    """
    n_runs, n_tasks = scores.shape
    values = np.empty(reps)
    # One draw of (n_runs, n_tasks) indices per replicate keeps memory at one matrix.
    for rep in range(reps):
        rows = rng.integers(0, n_runs, size=(n_runs, n_tasks))
        values[rep] = statistic(np.take_along_axis(scores, rows, axis=0))
    return values


def _percentile_interval(values: NDArray[np.float64], confidence: float) -> tuple[float, float]:
    """The central ``confidence`` interval of bootstrap values, by the percentile method.

    Args:
        values: The bootstrap replicates of a statistic, shape ``(reps,)``.
        confidence: The coverage of the interval, strictly between 0 and 1.

    Returns:
        The ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles, linearly
        interpolated as `numpy.quantile` does by default.
    """
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, (tail, 1.0 - tail))
    return float(low), float(high)


def stratified_bootstrap_ci(
    scores: ArrayLike,
    statistic: Statistic,
    *,
    rng: np.random.Generator,
    reps: int = 2000,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile confidence interval of a statistic by stratified bootstrap over runs.

    In each replicate every task's column is resampled with replacement on its own
    (``n_runs`` draws from that column), and ``statistic`` is applied to the resampled
    matrix. The interval is the central ``confidence`` range of the replicates. This is
    rliable's ``StratifiedBootstrap`` with ``method="percentile"``: the uncertainty of
    rerunning the same tasks with new seeds.

    With a single run per task every replicate is the matrix itself, so the interval
    collapses to the point value. That is what the bootstrap can see, not certainty: one
    run says nothing about run-to-run variation.

    Args:
        scores: The scores, shape ``(n_runs, n_tasks)``.
        statistic: A function of a score matrix ``(n_runs, n_tasks)`` to a float, such as
            `iqm` or `mean_score`.
        rng: The source of randomness; the same seed gives the same interval.
        reps: The number of bootstrap replicates, at least 1.
        confidence: The coverage of the interval, strictly between 0 and 1.

    Returns:
        ``(low, high)``, the bounds of the interval.

    Raises:
        InvalidScoresError: If ``scores`` is not a finite ``(n_runs, n_tasks)`` matrix,
            ``reps`` is not an integer of at least 1, or ``confidence`` is not in (0, 1).
    """
    checked = _check_scores(scores)
    _check_bootstrap(reps, confidence)
    return _percentile_interval(_bootstrap_values(checked, statistic, rng, reps), confidence)


def interval(
    scores: ArrayLike,
    statistic: Statistic,
    *,
    rng: np.random.Generator,
    reps: int = 2000,
    confidence: float = 0.95,
) -> dict[str, float]:
    """A statistic of a score matrix with its stratified-bootstrap confidence interval.

    Args:
        scores: The scores, shape ``(n_runs, n_tasks)``.
        statistic: A function of a score matrix ``(n_runs, n_tasks)`` to a float.
        rng: The source of randomness; the same seed gives the same interval.
        reps: The number of bootstrap replicates, at least 1.
        confidence: The coverage of the interval, strictly between 0 and 1.

    Returns:
        ``{"value": statistic(scores), "low": ..., "high": ...}``, the interval as in
        `stratified_bootstrap_ci`.

    Raises:
        InvalidScoresError: As `stratified_bootstrap_ci`.
    """
    checked = _check_scores(scores)
    low, high = stratified_bootstrap_ci(
        checked, statistic, rng=rng, reps=reps, confidence=confidence
    )
    return {"value": float(statistic(checked)), "low": low, "high": high}


def generalization_gap(
    train: ArrayLike,
    heldout: ArrayLike,
    *,
    rng: np.random.Generator,
    statistic: Statistic = iqm,
    reps: int = 2000,
    confidence: float = 0.95,
) -> dict[str, float]:
    """How much better an agent scores on training tasks than on held-out ones.

    The value is ``statistic(train) - statistic(heldout)``; positive means the agent does
    worse on tasks it was not trained on. For the interval, each replicate resamples both
    matrices independently (each stratified, as in `stratified_bootstrap_ci`) and takes
    the difference of their statistics; the interval is the central ``confidence`` range
    of those differences. The two matrices may differ in both runs and tasks.

    Args:
        train: The scores on the training tasks, shape ``(n_runs, n_tasks)``.
        heldout: The scores on the held-out tasks, shape ``(n_runs', n_tasks')``.
        rng: The source of randomness; the same seed gives the same interval.
        statistic: The aggregate to compare, a function of a score matrix to a float.
        reps: The number of bootstrap replicates, at least 1.
        confidence: The coverage of the interval, strictly between 0 and 1.

    Returns:
        ``{"value": ..., "low": ..., "high": ...}`` in the units of ``statistic``.

    Raises:
        InvalidScoresError: If either matrix is not a finite ``(n_runs, n_tasks)``
            matrix, ``reps`` is not an integer of at least 1, or ``confidence`` is not in
            (0, 1).
    """
    train_scores = _check_scores(train, "train")
    heldout_scores = _check_scores(heldout, "heldout")
    _check_bootstrap(reps, confidence)
    differences = _bootstrap_values(train_scores, statistic, rng, reps) - _bootstrap_values(
        heldout_scores, statistic, rng, reps
    )
    low, high = _percentile_interval(differences, confidence)
    value = float(statistic(train_scores)) - float(statistic(heldout_scores))
    return {"value": value, "low": low, "high": high}

"""The columns of a leaderboard table on the web pages: label, text of a cell, sort value.

A row is a ``schemas.RowOut``. Every cell has a text (what the page shows) and a sort
value (a number, or None for a missing value, which sorts last either way), so that the
server can order a board by any column (``sort_rows``) and the page's script can do the
same in the browser from the ``data-sort`` attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from leaderboard.schemas import IntervalOut, RowOut
from portia_envs.errors import InvalidParameterError

ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class Column:
    """One column of a board's table.

    Attributes:
        key: Its name in URLs (``?sort=KEY``).
        label: Its heading.
        title: What it shows, as the heading's tooltip.
        text: The cell's text of a row.
        value: The cell's sort value of a row: a number, a string, or None if missing.
        realtime: Shown on realtime boards only.
    """

    key: str
    label: str
    title: str
    text: Callable[[RowOut], str]
    value: Callable[[RowOut], float | str | None]
    realtime: bool = False


def percent(fraction: float | None) -> str:
    """Return a fraction in [0, 1] as a whole percentage (``"75%"``), or ``"—"`` if None."""
    return "—" if fraction is None else f"{100 * fraction:.0f}%"


def percent_interval(interval: IntervalOut) -> str:
    """Return a fraction with its CI as whole percentages: ``"75% [50, 100]"``."""
    return f"{percent(interval.value)} [{100 * interval.low:.0f}, {100 * interval.high:.0f}]"


def score_interval(interval: IntervalOut) -> str:
    """Return a normalized score with its CI, one decimal: ``"61.2 [40.1, 80.0]"``."""
    return f"{interval.value:.1f} [{interval.low:.1f}, {interval.high:.1f}]"


def count(value: int | None) -> str:
    """Return an integer with thousands separators, or ``"—"`` if None."""
    return "—" if value is None else f"{value:,}"


def milliseconds(value: float | None) -> str:
    """Return a duration in ms with one decimal, or ``"—"`` if None."""
    return "—" if value is None else f"{value:.1f} ms"


COLUMNS = (
    Column(
        "rank",
        "rank",
        "1 + the entries whose held-out success CI lies wholly above this one's",
        lambda row: str(row.rank),
        lambda row: row.rank,
    ),
    Column("method", "method", "The method's name", lambda row: row.method, lambda r: r.method),
    Column(
        "heldout_success",
        "held-out success [95% CI]",
        "Success rate over the held-out tasks, with its stratified-bootstrap 95% CI",
        lambda row: percent_interval(row.heldout_success),
        lambda row: row.heldout_success.value,
    ),
    Column(
        "train_success",
        "train success [95% CI]",
        "Success rate over the train tasks, with its 95% CI",
        lambda row: percent_interval(row.train_success),
        lambda row: row.train_success.value,
    ),
    Column(
        "heldout_iqm",
        "held-out IQM [95% CI]",
        "Interquartile mean of the held-out normalized scores (0 random, 100 teacher)",
        lambda row: score_interval(row.heldout_iqm),
        lambda row: row.heldout_iqm.value,
    ),
    Column(
        "generalization_gap",
        "gap [95% CI]",
        "Generalization gap: train IQM minus held-out IQM",
        lambda row: score_interval(row.generalization_gap),
        lambda row: row.generalization_gap.value,
    ),
    Column(
        "latency_compliance",
        "latency compliance",
        "Share of decisions made within the latency budget",
        lambda row: percent(row.latency_compliance),
        lambda row: row.latency_compliance,
        realtime=True,
    ),
    Column(
        "latency_p50_ms",
        "p50 latency",
        "Median decision latency",
        lambda row: milliseconds(row.latency_p50_ms),
        lambda row: row.latency_p50_ms,
        realtime=True,
    ),
    Column(
        "policy_params",
        "policy size",
        "Parameters of the policy",
        lambda row: count(row.policy_params),
        lambda row: row.policy_params,
    ),
    Column(
        "env_steps",
        "env steps",
        "Environment steps used to train it, as the submitter states",
        lambda row: count(row.env_steps),
        lambda row: row.env_steps,
    ),
    Column(
        "episodes",
        "episodes",
        "Episodes in its results file",
        lambda row: str(row.episodes),
        lambda row: row.episodes,
    ),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)


def board_columns(track: str) -> list[Column]:
    """Return the columns of a board of ``track``: the latency ones on realtime boards only."""
    return [column for column in COLUMNS if track == "realtime" or not column.realtime]


def sort_rows(rows: Sequence[RowOut], key: str, order: str) -> list[RowOut]:
    """Return ``rows`` ordered by the column ``key``, ``asc`` or ``desc``; missing values last.

    The sort is stable: rows of equal value keep the ranking's order.

    Raises:
        ValueError: If ``key`` is not a column's key or ``order`` is not one of ``ORDERS``.
    """
    if key not in COLUMN_KEYS:
        raise InvalidParameterError(f"sort must be one of {', '.join(COLUMN_KEYS)}; got {key!r}")
    if order not in ORDERS:
        raise InvalidParameterError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
    value = COLUMNS[COLUMN_KEYS.index(key)].value
    present = [row for row in rows if value(row) is not None]
    missing = [row for row in rows if value(row) is None]
    present.sort(key=value, reverse=order == "desc")  # type: ignore[arg-type, return-value]
    return present + missing

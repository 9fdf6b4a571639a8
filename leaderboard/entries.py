"""Entries in the database: storing one, finding them, hiding and flagging them."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from leaderboard import audit
from leaderboard.errors import ConflictError, GoneError, NotFoundError
from leaderboard.models import Entry, Token
from leaderboard.ranking import Standing
from leaderboard.schemas import EntryMetadata
from leaderboard.summary import Interval, Summary
from portia_envs.suites import SUITES

# The summary's intervals, each stored as three columns: NAME, NAME_low, NAME_high.
INTERVALS = ("heldout_success", "train_success", "heldout_iqm", "generalization_gap")


def canonical_json(results: Mapping[str, Any]) -> str:
    """Return ``results`` as compact ASCII JSON with sorted keys: one text per content."""
    return json.dumps(results, sort_keys=True, separators=(",", ":"), allow_nan=False)


def add_entry(
    session: Session,
    *,
    results: Mapping[str, Any],
    summary: Summary,
    metadata: EntryMetadata,
    tier: str,
    token: Token | None,
    at: datetime.datetime,
) -> Entry:
    """Store an entry and log its submission (both written when ``session`` commits).

    Args:
        session: Where to add it.
        results: Its results file's content, validated.
        summary: ``summarize`` of it.
        metadata: What the submitter says of it.
        tier: One of ``models.TIERS``.
        token: Its submitter; None for a baseline the command line seeded.
        at: When, in UTC.

    Returns:
        The entry, with its id.

    Raises:
        ConflictError: If the same results file (the same JSON content) is stored.
    """
    text = canonical_json(results)
    digest = hashlib.sha256(text.encode()).hexdigest()
    stored = session.scalar(select(Entry.id).where(Entry.results_sha256 == digest))
    if stored is not None:
        raise ConflictError(f"this results file was already submitted: entry {stored}")
    intervals: dict[str, float] = {}
    for name in INTERVALS:
        interval: Interval = getattr(summary, name)
        intervals.update(
            {name: interval.value, f"{name}_low": interval.low, f"{name}_high": interval.high}
        )
    entry = Entry(
        tier=tier,
        token_id=None if token is None else token.id,
        created_at=at,
        **metadata.model_dump(),
        results=text,
        results_sha256=digest,
        suite=summary.suite,
        suite_hash=summary.suite_hash,
        track=summary.track,
        budget_ms=summary.budget_ms,
        agent_name=summary.agent_name,
        agent_hash=summary.agent_hash,
        episodes=summary.episodes,
        **intervals,
        latency_compliance=summary.latency_compliance,
        latency_p50_ms=summary.latency_p50_ms,
    )
    session.add(entry)
    session.flush()
    detail = {"tier": tier, "method": metadata.method, "suite": summary.suite}
    audit.record(session, "entry.submitted", at=at, token=token, entry_id=entry.id, detail=detail)
    return entry


def interval(entry: Entry, name: str) -> Interval:
    """Return one of the summary's intervals (``INTERVALS``) of a stored entry."""
    return Interval(
        getattr(entry, name), getattr(entry, f"{name}_low"), getattr(entry, f"{name}_high")
    )


def standing(entry: Entry) -> Standing:
    """Return what the ranking reads of ``entry``."""
    return Standing(entry.id, entry.track, entry.budget_ms, interval(entry, "heldout_success"))


def find_entry(session: Session, entry_id: int) -> Entry:
    """Return the entry of ``entry_id``, hidden or not.

    Raises:
        NotFoundError: If there is none.
    """
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFoundError(f"there is no entry {entry_id}")
    return entry


def shown_entry(session: Session, entry_id: int) -> Entry:
    """Return the entry of ``entry_id`` unless an admin hid it.

    Raises:
        NotFoundError: If there is none.
        GoneError: If it was hidden, with when and why.
    """
    entry = find_entry(session, entry_id)
    if entry.hidden_at is not None:
        raise GoneError(
            f"entry {entry_id} was hidden by an admin at "
            f"{entry.hidden_at.isoformat(timespec='seconds')}: {entry.hidden_reason}"
        )
    return entry


def hide_entry(
    session: Session, entry_id: int, *, reason: str, token: Token, at: datetime.datetime
) -> Entry:
    """Hide an entry from every leaderboard and log why.

    Raises:
        NotFoundError: If there is no such entry.
        ConflictError: If it is hidden already.
    """
    entry = find_entry(session, entry_id)
    if entry.hidden_at is not None:
        raise ConflictError(f"entry {entry_id} is already hidden: {entry.hidden_reason}")
    entry.hidden_at, entry.hidden_reason = at, reason
    audit.record(
        session, "entry.hidden", at=at, token=token, entry_id=entry_id, detail={"reason": reason}
    )
    return entry


def show_entry(
    session: Session, entry_id: int, *, reason: str, token: Token, at: datetime.datetime
) -> Entry:
    """Show a hidden entry again (it is ranked as before) and log why.

    Raises:
        NotFoundError: If there is no such entry.
        ConflictError: If it is not hidden.
    """
    entry = find_entry(session, entry_id)
    if entry.hidden_at is None:
        raise ConflictError(f"entry {entry_id} is not hidden")
    entry.hidden_at, entry.hidden_reason = None, None
    audit.record(
        session, "entry.shown", at=at, token=token, entry_id=entry_id, detail={"reason": reason}
    )
    return entry


def flag_entry(
    session: Session, entry_id: int, *, reason: str, token: Token, at: datetime.datetime
) -> Entry:
    """Flag an entry (it stays ranked, marked with the reason) and log it.

    A new flag replaces the shown reason; the audit log keeps every one.

    Raises:
        NotFoundError: If there is no such entry.
    """
    entry = find_entry(session, entry_id)
    entry.flagged_at, entry.flag_reason = at, reason
    audit.record(
        session, "entry.flagged", at=at, token=token, entry_id=entry_id, detail={"reason": reason}
    )
    return entry


def board_entries(session: Session, suite: str, tiers: tuple[str, ...]) -> list[Entry]:
    """Return the entries shown on ``suite``'s boards: of its current hash, not hidden.

    Their results files are not loaded (the boards read the summary columns).
    """
    query = (
        select(Entry)
        .options(defer(Entry.results))
        .where(
            Entry.suite == suite,
            Entry.suite_hash == SUITES[suite].hash,
            Entry.hidden_at.is_(None),
            Entry.tier.in_(tiers),
        )
    )
    return list(session.scalars(query))


def entry_counts(session: Session) -> dict[str, int]:
    """Return, per suite, how many entries of its current hash are not hidden."""
    query = (
        select(Entry.suite, Entry.suite_hash, func.count())
        .where(Entry.hidden_at.is_(None))
        .group_by(Entry.suite, Entry.suite_hash)
    )
    return {
        suite: count
        for suite, suite_hash, count in session.execute(query)
        if suite in SUITES and SUITES[suite].hash == suite_hash
    }

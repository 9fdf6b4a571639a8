"""A submission from arrival to storage: admit the token, check everything, store or refuse.

``admit`` runs before the body is read, so a request without a valid token or quota
reads nothing. ``accept`` checks the metadata and the results file and stores the entry;
``refuse`` logs an attempt that stored nothing. Each opens its own session: they run in
worker threads while the body is read on the event loop.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from leaderboard import audit
from leaderboard.entries import add_entry
from leaderboard.errors import ConflictError, LeaderboardError
from leaderboard.models import SELF_REPORTED, Token
from leaderboard.quota import take_attempt
from leaderboard.submission import check_results, parse_metadata
from leaderboard.summary import summarize
from leaderboard.tokens import authenticate

# The longest refusal reason the audit log keeps, characters.
MAX_LOGGED_REASON = 2000


def admit(
    sessions: sessionmaker[Session], authorization: str | None, *, limit: int, at: datetime.datetime
) -> Token:
    """Authenticate a submitter and count the attempt against its daily quota.

    Returns:
        The submitter's token.

    Raises:
        AuthenticationError: If the token is missing, unknown or revoked.
        QuotaExceededError: If the token has no attempt left today.
    """
    with sessions.begin() as session:
        token = authenticate(session, authorization)
        take_attempt(session, token, limit=limit, at=at)
    return token


def accept(
    sessions: sessionmaker[Session],
    token: Token,
    fields: Mapping[str, Any],
    results: Any,
    *,
    at: datetime.datetime,
) -> int:
    """Check a self-reported submission and store it.

    Returns:
        The new entry's id.

    Raises:
        RefusedEntryError: If the metadata or the results file is refused.
        ConflictError: If the same results file is stored already.
    """
    metadata = parse_metadata(fields)
    scores = check_results(results)
    summary = summarize(results, scores)
    try:
        with sessions.begin() as session:
            entry = add_entry(
                session,
                results=results,
                summary=summary,
                metadata=metadata,
                tier=SELF_REPORTED,
                token=session.get(Token, token.id),
                at=at,
            )
    except IntegrityError:  # the same file, stored by a concurrent request
        raise ConflictError("this results file was already submitted") from None
    return entry.id


def refuse(
    sessions: sessionmaker[Session],
    token: Token,
    error: LeaderboardError,
    fields: Mapping[str, Any],
    *,
    at: datetime.datetime,
) -> None:
    """Log a submission attempt that was refused, with its status and reason."""
    method = fields.get("method")
    detail = {
        "status": error.status,
        "reason": str(error)[:MAX_LOGGED_REASON],
        "method": method[:MAX_LOGGED_REASON] if isinstance(method, str) else None,
    }
    with sessions.begin() as session:
        audit.record(
            session, "entry.refused", at=at, token=session.get(Token, token.id), detail=detail
        )

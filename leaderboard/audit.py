"""The audit log: one row appended per change, never updated or deleted.

Actions: ``token.created``, ``token.revoked``, ``entry.submitted``, ``entry.refused`` (a
submission attempt that stored nothing, with the reason), ``entry.hidden``,
``entry.shown`` (a hidden entry shown again), ``entry.flagged`` and ``policy.queued``.
Every change to what a board shows writes a row, so the log's last id versions the
stored data (``page_cache``). Each row says when, who (a token's name, or ``COMMAND_LINE``), which
entry, and a JSON object of details.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leaderboard.models import AuditEvent, Token
from portia_envs.errors import InvalidParameterError

ACTIONS = (
    "token.created",
    "token.revoked",
    "entry.submitted",
    "entry.refused",
    "entry.hidden",
    "entry.shown",
    "entry.flagged",
    "policy.queued",
)
# The actor of changes made on the server's machine: `portia leaderboard ...` commands.
COMMAND_LINE = "(command line)"


def record(
    session: Session,
    action: str,
    *,
    at: datetime.datetime,
    token: Token | None,
    entry_id: int | None = None,
    detail: Mapping[str, Any],
) -> AuditEvent:
    """Append a row to the audit log in ``session`` (it is written when the session commits).

    Args:
        session: The session of the change, so that both are written or neither.
        action: One of ``ACTIONS``.
        at: When, in UTC.
        token: The token that made the change; None for the command line.
        entry_id: The entry changed, if any.
        detail: What changed and why, JSON-serializable.

    Returns:
        The row.

    Raises:
        InvalidParameterError: If ``action`` is not one of ``ACTIONS``.
    """
    if action not in ACTIONS:
        raise InvalidParameterError(
            f"unknown audit action {action!r}; accepted: {', '.join(ACTIONS)}"
        )
    event = AuditEvent(
        at=at,
        actor=COMMAND_LINE if token is None else token.name,
        token_id=None if token is None else token.id,
        action=action,
        entry_id=entry_id,
        detail=json.dumps(detail, sort_keys=True, allow_nan=False),
    )
    session.add(event)
    return event


def events(session: Session, *, after: int, limit: int) -> list[AuditEvent]:
    """Return up to ``limit`` rows of the log with ids above ``after``, oldest first."""
    query = select(AuditEvent).where(AuditEvent.id > after).order_by(AuditEvent.id).limit(limit)
    return list(session.scalars(query))

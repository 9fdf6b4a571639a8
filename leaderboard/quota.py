"""The daily quota of submission attempts per token, refused attempts included.

Each token may make ``Settings.daily_attempts`` attempts per UTC day. An attempt is taken
by one conditional ``UPDATE`` of the token's row, so concurrent requests cannot overrun
the quota on either database.
"""

from __future__ import annotations

import datetime
import math

from sqlalchemy import case, or_, update
from sqlalchemy.orm import Session

from leaderboard.errors import QuotaExceededError
from leaderboard.models import Token


def next_reset(day: datetime.date) -> datetime.datetime:
    """Return when the quota of the UTC day ``day`` resets: the following midnight, UTC."""
    following = day + datetime.timedelta(days=1)
    return datetime.datetime.combine(following, datetime.time(0), tzinfo=datetime.UTC)


def take_attempt(session: Session, token: Token, *, limit: int, at: datetime.datetime) -> None:
    """Count one submission attempt of ``token`` on the UTC day of ``at``.

    The count starts afresh on a new day. The session must be committed for the count to
    hold.

    Args:
        session: The session to update the token's row in.
        token: The submitter.
        limit: The attempts allowed per day.
        at: When, in UTC.

    Raises:
        QuotaExceededError: If ``token`` has made ``limit`` attempts today; the message
            states the limit and when it resets, ``retry_after_s`` the seconds until then.
    """
    today = at.astimezone(datetime.UTC).date()
    taken = session.execute(
        update(Token)
        .where(
            Token.id == token.id,
            or_(Token.quota_day.is_(None), Token.quota_day != today, Token.quota_used < limit),
        )
        .values(
            quota_day=today,
            quota_used=case((Token.quota_day == today, Token.quota_used + 1), else_=1),
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        return
    reset = next_reset(today)
    raise QuotaExceededError(
        f"submission quota exceeded: a token may make {limit} submission attempts per UTC "
        f"day, refused ones included, and {token.name!r} has made {limit} today; the count "
        f"resets at {reset.isoformat()}",
        retry_after_s=math.ceil((reset - at).total_seconds()),
    )

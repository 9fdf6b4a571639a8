"""One upload attempt over HTTP: the token admitted, the body read, accepted or refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from leaderboard import intake
from leaderboard.errors import LeaderboardError
from leaderboard.models import Token, utc_now
from leaderboard.settings import Settings

Accepted = TypeVar("Accepted")
# ``read(request, cap)`` -> ``(fields, body)``: an upload's form fields and its content.
Reader = Callable[[Request, int], Awaitable[tuple[dict[str, Any], Any]]]


async def attempt(
    request: Request,
    read: Reader,
    accept: Callable[[Token, dict[str, Any], Any], Accepted],
) -> Accepted:
    """Admit the request's token, read its upload and accept it; log and re-raise a refusal.

    The token is checked and charged one attempt of its daily quota first
    (``intake.admit``); the body is read under the settings' size cap; ``accept(token,
    fields, body)`` runs in a worker thread. Any ``LeaderboardError`` after admission is
    recorded against the token (``intake.refuse``) before it propagates.

    Returns:
        What ``accept`` returns.
    """
    sessions = request.app.state.sessions
    settings: Settings = request.app.state.settings
    token = await run_in_threadpool(
        intake.admit,
        sessions,
        request.headers.get("authorization"),
        limit=settings.daily_attempts,
        at=utc_now(),
    )
    fields: dict[str, Any] = {}
    try:
        fields, body = await read(request, settings.max_upload_bytes)
        return await run_in_threadpool(accept, token, fields, body)
    except LeaderboardError as error:
        await run_in_threadpool(intake.refuse, sessions, token, error, fields, at=utc_now())
        raise

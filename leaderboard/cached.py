"""Serving cached pages over HTTP: the render off the event loop, gzip, ETag and 304.

A cached page (``page_cache``) is served from the event loop itself while the data's
version is trusted; reading the version and rendering run in the thread pool. Clients
that accept gzip get the compressed bytes kept beside the page; a client that sends the
page's ETag back in ``If-None-Match`` gets 304 and no body.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from leaderboard.page_cache import Page, PageCache


async def cached_page(request: Request, key: Hashable, make: Callable[[], bytes]) -> Page:
    """Return the app's cached page of ``key``, rendered by ``make`` (in a thread) if needed."""
    cache: PageCache = request.app.state.page_cache
    current = cache.trusted()
    if current is None:
        current = await run_in_threadpool(cache.current)
    page = cache.kept(key, current)
    if page is None:
        page = await run_in_threadpool(cache.render, key, current, make)
    return page


def cached_response(
    request: Request, page: Page, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Return ``page`` as the answer to ``request``: 304, gzip-encoded or plain.

    Args:
        request: The request; its ``If-None-Match`` and ``Accept-Encoding`` are read.
        page: The page.
        media_type: Its media type.
        headers: More headers of the answer.
    """
    common = {"ETag": page.etag, "Vary": "Accept-Encoding", **(headers or {})}
    if page.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=common)
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        return Response(
            page.gzipped, media_type=media_type, headers={**common, "Content-Encoding": "gzip"}
        )
    return Response(page.body, media_type=media_type, headers=common)


def accepts_gzip(accept_encoding: str) -> bool:
    """Return whether an ``Accept-Encoding`` header accepts gzip (``gzip;q=0`` refuses it)."""
    for part in accept_encoding.lower().split(","):
        coding, *parameters = (piece.strip() for piece in part.split(";"))
        if coding in ("gzip", "*"):
            quality = next((p[2:] for p in parameters if p.startswith("q=")), "1")
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False

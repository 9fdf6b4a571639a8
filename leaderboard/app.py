"""The leaderboard's FastAPI application: the API, the web pages, their errors, the database.

Errors are answered as JSON (``{"error": message}``) under ``API_PREFIX`` and as an HTML
page elsewhere, with the same status and message.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leaderboard.api import router
from leaderboard.database import open_database, session_factory
from leaderboard.errors import LeaderboardError
from leaderboard.jobs_api import router as jobs_router
from leaderboard.page_cache import PageCache
from leaderboard.pages import PACKAGE, error_page
from leaderboard.pages import router as pages_router
from leaderboard.settings import Settings

API_PREFIX = "/api/v1"


def create_app(settings: Settings, sessions: sessionmaker[Session] | None = None) -> FastAPI:
    """Return the application serving the API under ``API_PREFIX`` and the pages at ``/``.

    Args:
        settings: The server's settings.
        sessions: The database's sessions; None opens the database of ``settings``
            (creating the SQLite file, applying the migrations).

    Returns:
        The app; its OpenAPI docs are at ``/api/v1/docs`` (``/api/v1/openapi.json``).
    """
    app = FastAPI(
        title="Portia leaderboard",
        summary="Ranks Portia results files per suite and track.",
        version="1",
        docs_url=f"{API_PREFIX}/docs",
        openapi_url=f"{API_PREFIX}/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.sessions = sessions or session_factory(open_database(settings))
    app.state.page_cache = PageCache(app.state.sessions, check_s=settings.page_check_s)
    app.include_router(router, prefix=API_PREFIX)
    app.include_router(jobs_router, prefix=API_PREFIX)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    app.add_exception_handler(LeaderboardError, _refusal)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(NoSniffing)
    return app


def _error(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """Answer an error: ``{"error": message}`` under the API, else an HTML page saying it."""
    if request.url.path.startswith(API_PREFIX):
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    answer = error_page(request, status, message)
    answer.headers.update(headers or {})
    return answer


async def _refusal(request: Request, error: Exception) -> Response:
    """Answer a ``LeaderboardError`` with its status and message."""
    assert isinstance(error, LeaderboardError)
    return _error(request, error.status, str(error), error.headers())


async def _invalid_request(request: Request, error: Exception) -> Response:
    """Answer a request whose parameters or body break the route's types with 422."""
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    where = " ".join(str(part) for part in first["loc"])
    return _error(request, 422, f"{where}: {first['msg']}")


async def _http_error(request: Request, error: Exception) -> Response:
    """Answer Starlette's own errors (no such route, method not allowed)."""
    assert isinstance(error, HTTPException)
    message = f"{error.detail}: {request.method} {request.url.path}"
    return _error(request, error.status_code, message, error.headers)


class NoSniffing:
    """Middleware that tells browsers to take every answer as the media type it declares.

    Args:
        app: The application it wraps.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add ``X-Content-Type-Options: nosniff`` to its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_marked)

"""The HTTP API under ``/api/v1``: suites, leaderboards, entries, submission, moderation, audit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security
from fastapi.security import HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from leaderboard import audit, intake
from leaderboard.attempts import attempt
from leaderboard.cached import cached_page, cached_response
from leaderboard.entries import (
    INTERVALS,
    board_entries,
    entry_counts,
    flag_entry,
    hide_entry,
    interval,
    show_entry,
    shown_entry,
    standing,
)
from leaderboard.errors import ForbiddenError, NotFoundError
from leaderboard.models import Entry, Token, utc_now
from leaderboard.page_cache import Page
from leaderboard.ranking import VIEWS, boards
from leaderboard.schemas import (
    AuditEventOut,
    BoardOut,
    EntryMetadata,
    EntryOut,
    ErrorOut,
    FlagOut,
    IntervalOut,
    LeaderboardOut,
    ModeratedOut,
    ModerationIn,
    RowOut,
    SubmissionBody,
    SubmittedOut,
    SuiteOut,
)
from leaderboard.tokens import authenticate
from leaderboard.upload import read_submission
from portia_envs.errors import UnknownSuiteError
from portia_envs.suites import SUITES, get_suite

RANKING_RULE = (
    "rows ordered by held-out success rate; rank = 1 + the number of entries on the board "
    "whose held-out success 95% CI lower bound exceeds this entry's upper bound"
)
# Audit log rows per page, at most.
MAX_AUDIT_PAGE = 1000

router = APIRouter()
# Declares the scheme in the OpenAPI docs; the header itself is read by ``tokens``.
bearer = HTTPBearer(auto_error=False, description="An API token: Authorization: Bearer TOKEN")
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "The request cannot be read."),
        (401, "No token, an unknown token or a revoked one."),
        (403, "The route needs an admin token."),
        (404, "No such suite or entry."),
        (409, "A conflict with what is stored."),
        (410, "The entry was hidden by an admin."),
        (413, "The upload is larger than the cap."),
        (415, "The body is neither JSON nor multipart."),
        (422, "The submission or a parameter is refused; nothing was stored."),
        (429, "The token's daily submission attempts are used up."),
    )
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return the OpenAPI descriptions of the error answers ``statuses``."""
    return {status: ERRORS[status] for status in statuses}


def database(request: Request) -> Iterator[Session]:
    """Yield a session of the app's database for one request."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        yield session


DB = Annotated[Session, Depends(database)]


def admin(request: Request, session: DB, _: Annotated[Any, Security(bearer)]) -> Token:
    """Return the request's token if it is a live admin token.

    Raises:
        AuthenticationError: If the token is missing, unknown or revoked.
        ForbiddenError: If it is not an admin token.
    """
    token = authenticate(session, request.headers.get("authorization"))
    if not token.admin:
        raise ForbiddenError(
            f"this route needs an admin token; the token of {token.name!r} is not one "
            f"(`portia leaderboard token create NAME --admin` makes one)"
        )
    return token


Admin = Annotated[Token, Depends(admin)]
EntryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The entry's id.")]


def suite_named(name: str) -> str:
    """Return ``name`` if Portia knows the suite.

    Raises:
        NotFoundError: If it does not, listing those it knows.
    """
    try:
        return get_suite(name).name
    except UnknownSuiteError as error:
        raise NotFoundError(str(error)) from None


@router.get("/suites", summary="List the suites")
def list_suites(request: Request, session: DB) -> list[SuiteOut]:
    """List every suite Portia knows, with its hash and its count of entries."""
    counts = entry_counts(session)
    return [
        SuiteOut(
            name=suite.name,
            hash=suite.hash,
            description=suite.description,
            train_tasks=len(suite.train),
            heldout_tasks=len(suite.heldout),
            entries=counts.get(suite.name, 0),
            leaderboard=str(request.url_for("leaderboard", suite=suite.name)),
        )
        for suite in SUITES.values()
    ]


def leaderboard_of(request: Request, session: Session, suite: str, view: str) -> LeaderboardOut:
    """Return the leaderboard of ``suite`` in ``view`` (see ``ranking``).

    Raises:
        NotFoundError: If Portia knows no suite ``suite``.
    """
    name = suite_named(suite)
    tiers = VIEWS[view]
    entries = {entry.id: entry for entry in board_entries(session, name, tiers)}
    made = boards([standing(entry) for entry in entries.values()])
    return LeaderboardOut(
        suite=name,
        suite_hash=SUITES[name].hash,
        view=view,
        tiers=list(tiers),
        ranking=RANKING_RULE,
        boards=[
            BoardOut(
                track=board.track,
                budget_ms=board.budget_ms,
                rows=[_row(request, rank, entries[s.entry_id]) for rank, s in board.places],
            )
            for board in made
        ],
    )


def _row(request: Request, rank: int, entry: Entry) -> RowOut:
    """Return the board row of ``entry`` at ``rank``."""
    return RowOut(
        rank=rank,
        entry_id=entry.id,
        tier=entry.tier,
        method=entry.method,
        flag=entry.flag_reason,
        **{name: IntervalOut(**vars(interval(entry, name))) for name in INTERVALS},
        latency_compliance=entry.latency_compliance,
        latency_p50_ms=entry.latency_p50_ms,
        policy_params=entry.policy_params,
        env_steps=entry.env_steps,
        episodes=entry.episodes,
        entry=str(request.url_for("entry", entry_id=entry.id)),
    )


View = Annotated[
    Literal["verified", "all"],
    Query(description="verified: verified entries and the baselines; all: self-reported too."),
]


@router.get(
    "/suites/{suite}/leaderboard",
    name="leaderboard",
    responses={200: {"model": LeaderboardOut}, **errors(404, 422)},
    response_class=Response,
)
async def leaderboard(request: Request, suite: str, tier: View = "verified") -> Response:
    """Rank a suite's entries per track: by held-out success rate, tie-aware.

    The answer is rendered once per change of the stored data (``page_cache``), sent
    gzip-encoded to clients that accept it, with an ETag.
    """
    page = await cached_board(request, suite_named(suite), tier)
    return cached_response(request, page, "application/json")


async def cached_board(request: Request, suite: str, view: str) -> Page:
    """Return the leaderboard of ``suite`` in ``view`` as a cached JSON page."""
    sessions: sessionmaker[Session] = request.app.state.sessions

    def make() -> bytes:
        with sessions() as session:
            return leaderboard_of(request, session, suite, view).model_dump_json().encode()

    return await cached_page(request, ("board.json", suite, view, str(request.base_url)), make)


@router.get(
    "/suites/{suite}/leaderboard.json",
    responses={200: {"model": LeaderboardOut}, **errors(404, 422)},
    response_class=Response,
)
async def download_leaderboard(request: Request, suite: str, tier: View = "verified") -> Response:
    """Download a suite's leaderboard as a JSON file (the same content as the leaderboard)."""
    name = suite_named(suite)
    page = await cached_board(request, name, tier)
    disposition = {"Content-Disposition": f'attachment; filename="{name}-leaderboard.json"'}
    return cached_response(request, page, "application/json", disposition)


@router.get("/entries/{entry_id}", name="entry", responses=errors(404, 410, 422))
def entry_detail(request: Request, session: DB, entry_id: EntryId) -> EntryOut:
    """Show an entry: its metadata, summary and scores."""
    entry = shown_entry(session, entry_id)
    submitter = None if entry.token_id is None else session.get(Token, entry.token_id)
    flag = None
    if entry.flagged_at is not None and entry.flag_reason is not None:
        flag = FlagOut(reason=entry.flag_reason, at=entry.flagged_at)
    return EntryOut(
        id=entry.id,
        tier=entry.tier,
        method=entry.method,
        description=entry.description,
        url=entry.url,
        license=entry.license,
        env_steps=entry.env_steps,
        trained_on=entry.trained_on,
        policy_params=entry.policy_params,
        submitted_by=None if submitter is None else submitter.name,
        created_at=entry.created_at,
        suite=entry.suite,
        suite_hash=entry.suite_hash,
        track=entry.track,
        budget_ms=entry.budget_ms,
        agent_name=entry.agent_name,
        agent_hash=entry.agent_hash,
        episodes=entry.episodes,
        **{name: IntervalOut(**vars(interval(entry, name))) for name in INTERVALS},
        latency_compliance=entry.latency_compliance,
        latency_p50_ms=entry.latency_p50_ms,
        flag=flag,
        scores=json.loads(entry.results)["scores"],
        results=str(request.url_for("entry_results", entry_id=entry.id)),
        leaderboard=str(request.url_for("leaderboard", suite=entry.suite)),
    )


@router.get(
    "/entries/{entry_id}/results.json",
    name="entry_results",
    responses={200: {"description": "The results file."}, **errors(404, 410, 422)},
    response_class=Response,
)
def entry_results(session: DB, entry_id: EntryId) -> Response:
    """Download an entry's results file, episodes and all."""
    entry = shown_entry(session, entry_id)
    return Response(
        entry.results,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="entry-{entry.id}-results.json"'},
    )


@router.post(
    "/entries",
    status_code=201,
    dependencies=[Security(bearer)],
    responses=errors(400, 401, 409, 413, 415, 422, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": SubmissionBody.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["results", "method"],
                        "properties": {
                            "results": {"type": "string", "format": "binary"},
                            **EntryMetadata.model_json_schema()["properties"],
                        },
                    }
                },
            },
        }
    },
)
async def submit(request: Request) -> SubmittedOut:
    """Submit a results file as a self-reported entry.

    The file is checked as `portia validate` checks it (schema, suite hash, every episode
    there once, every score recomputed from the episodes); anything wrong is refused
    (422) with the reason, and nothing is stored. Each attempt, refused or not, counts
    against the token's daily quota.
    """
    sessions: sessionmaker[Session] = request.app.state.sessions

    def accept(token: Token, fields: dict[str, Any], results: Any) -> int:
        return intake.accept(sessions, token, fields, results, at=utc_now())

    entry_id = await attempt(request, read_submission, accept)
    url = str(request.url_for("entry", entry_id=entry_id))
    return SubmittedOut(id=entry_id, tier="self-reported", url=url)


@router.post("/entries/{entry_id}/hide", responses=errors(401, 403, 404, 409, 422))
def hide(session: DB, token: Admin, entry_id: EntryId, body: ModerationIn) -> ModeratedOut:
    """Hide an entry from every leaderboard, with a reason (admin); `show` undoes it."""
    entry = hide_entry(session, entry_id, reason=body.reason, token=token, at=utc_now())
    session.commit()
    return ModeratedOut(id=entry.id, hidden=entry.hidden_reason, flag=entry.flag_reason)


@router.post("/entries/{entry_id}/show", responses=errors(401, 403, 404, 409, 422))
def show(session: DB, token: Admin, entry_id: EntryId, body: ModerationIn) -> ModeratedOut:
    """Show a hidden entry again, with a reason (admin): it is ranked as before."""
    entry = show_entry(session, entry_id, reason=body.reason, token=token, at=utc_now())
    session.commit()
    return ModeratedOut(id=entry.id, hidden=entry.hidden_reason, flag=entry.flag_reason)


@router.post("/entries/{entry_id}/flag", responses=errors(401, 403, 404, 422))
def flag(session: DB, token: Admin, entry_id: EntryId, body: ModerationIn) -> ModeratedOut:
    """Flag an entry with a reason: it stays ranked, marked (admin)."""
    entry = flag_entry(session, entry_id, reason=body.reason, token=token, at=utc_now())
    session.commit()
    return ModeratedOut(id=entry.id, hidden=entry.hidden_reason, flag=entry.flag_reason)


@router.get("/audit", responses=errors(401, 403, 422))
def audit_log(
    session: DB,
    token: Admin,
    after: Annotated[int, Query(ge=0, description="Rows with ids above this.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 100,
) -> list[AuditEventOut]:
    """Read the audit log, oldest first (admin): every change, appended, never altered."""
    return [
        AuditEventOut(
            id=event.id,
            at=event.at,
            actor=event.actor,
            action=event.action,
            entry_id=event.entry_id,
            detail=json.loads(event.detail),
        )
        for event in audit.events(session, after=after, limit=limit)
    ]

"""The web pages: suite index, a suite's boards, an entry, a job. Server-rendered with Jinja2.

Every page works without JavaScript: a board's column headings are links that sort it on
the server (``?sort=KEY&order=asc|desc``); ``static/sort.js`` sorts in the browser instead
when scripts run. Every string from a submitter is escaped by the templates' autoescape,
and the pages' Content-Security-Policy allows scripts, styles and images from this server
only, so nothing a submitter wrote can run. A suite page is rendered once per change of
the stored data and served from memory (``page_cache``, ``cached``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from leaderboard.api import DB, EntryId, leaderboard_of, suite_named
from leaderboard.cached import cached_page, cached_response
from leaderboard.columns import COLUMN_KEYS, ORDERS, board_columns, percent_interval, sort_rows
from leaderboard.entries import INTERVALS, entry_counts, interval, shown_entry
from leaderboard.errors import NotFoundError
from leaderboard.jobs import find_job, heartbeat_age_s, queue_position
from leaderboard.jobs_api import JobId
from leaderboard.models import FAILED, FINISHED, Entry, Job, Token, utc_now
from leaderboard.plots import PLOT_CAPTIONS, plot_png
from leaderboard.public_check import public_check_of
from leaderboard.ranking import VIEWS
from portia_envs.harness.report import split_table, success_gap_text, task_table
from portia_envs.suites import SUITES

PACKAGE = Path(__file__).parent
templates = Jinja2Templates(directory=PACKAGE / "templates")
templates.env.trim_blocks = templates.env.lstrip_blocks = True
router = APIRouter(include_in_schema=False)
# What a page may load: from this server only; no inline script, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The plot drawn only of runs whose latencies were measured.
LATENCY_PLOT = "latency.png"
# Seconds between reloads of the page of a job that is not done.
JOB_REFRESH_S = 5


def page(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
    """Return ``template`` rendered with ``context``, status ``code`` and the security headers."""
    response = templates.TemplateResponse(request, template, context, status_code=code)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """Return the page of a refused request: its status and why."""
    return page(request, "error.html", status, status=status, message=message)


@router.get("/", response_class=HTMLResponse)
def suite_index(request: Request, session: DB) -> HTMLResponse:
    """The suite index: every suite with its tasks and entries."""
    counts = entry_counts(session)
    suites = [(suite, counts.get(name, 0)) for name, suite in SUITES.items()]
    return page(request, "index.html", suites=suites)


SortKey = Annotated[
    Literal[COLUMN_KEYS],  # type: ignore[valid-type]
    Query(description="The column to order each board by."),
]


@router.get("/suites/{suite}", name="suite_page", response_class=HTMLResponse)
async def suite_page(
    request: Request,
    suite: str,
    tier: Literal["verified", "all"] = "verified",
    sort: SortKey = "rank",
    order: Literal[ORDERS] = "asc",  # type: ignore[valid-type]
) -> Response:
    """A suite's boards, one per track and budget, ordered by ``sort`` and ``order``."""
    name = suite_named(suite)
    sessions: sessionmaker[Session] = request.app.state.sessions

    def make() -> bytes:
        with sessions() as session:
            return _suite_body(request, session, name, tier, sort, order)

    key = ("suite.html", name, tier, sort, order, str(request.base_url))
    page = await cached_page(request, key, make)
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}
    return cached_response(request, page, "text/html; charset=utf-8", headers)


def _suite_body(
    request: Request, session: Session, suite: str, tier: str, sort: str, order: str
) -> bytes:
    """Return the rendered page of a suite's boards."""
    board = leaderboard_of(request, session, suite, tier)
    boards = [
        (made, board_columns(made.track), sort_rows(made.rows, sort, order))
        for made in board.boards
    ]
    response = page(
        request,
        "suite.html",
        suite=SUITES[suite],
        board=board,
        boards=boards,
        tier=tier,
        tiers=VIEWS,
        sort=sort,
        order=order,
    )
    return bytes(response.body)


@router.get("/entries/{entry_id}", name="entry_page", response_class=HTMLResponse)
def entry_page(request: Request, session: DB, entry_id: EntryId) -> HTMLResponse:
    """An entry: its metadata, summary, per-task and split tables, plots, public-seed check.

    Success leads the summary and the tables. An entry whose results file predates the
    success gap shows the difference of its success rates instead (``success_gap_text``).
    """
    entry = shown_entry(session, entry_id)
    results = json.loads(entry.results)
    measured = entry.track == "realtime" and entry.latency_p50_ms is not None
    submitter = None if entry.token_id is None else session.get(Token, entry.token_id)
    job = session.scalar(
        select(Job).where(or_(Job.paused_entry_id == entry.id, Job.realtime_entry_id == entry.id))
    )
    return page(
        request,
        "entry.html",
        entry=entry,
        submitter=None if submitter is None else submitter.name,
        intervals={name: interval(entry, name) for name in INTERVALS},
        percent_interval=percent_interval,
        success_gap=success_gap_text(results["scores"]),
        tasks=task_table(results),
        splits=split_table(results["scores"]),
        plots=[name for name in PLOT_CAPTIONS if name != LATENCY_PLOT or measured],
        captions=PLOT_CAPTIONS,
        job=job,
        public_check=None if job is None else public_check_of(job),
    )


@router.get("/entries/{entry_id}/plots/{name}", name="entry_plot")
def entry_plot(request: Request, session: DB, entry_id: EntryId, name: str) -> Response:
    """One of an entry's report plots, as PNG (drawn once, then kept on disk)."""
    entry = shown_entry(session, entry_id)
    if name not in PLOT_CAPTIONS:
        raise NotFoundError(f"entries have the plots {', '.join(PLOT_CAPTIONS)}; not {name!r}")
    data = plot_png(request.app.state.settings.data_dir, entry, name)
    return Response(data, media_type="image/png", headers={"Cache-Control": "max-age=86400"})


@router.get("/jobs/{job_id}", name="job_page", response_class=HTMLResponse)
def job_page(request: Request, session: DB, job_id: JobId) -> HTMLResponse:
    """A job: its state, place in the queue, heartbeat, outcome; reloads itself until done."""
    job = find_job(session, job_id)
    done = job.state in (FINISHED, FAILED)
    entries = [
        session.get(Entry, entry_id)
        for entry_id in (job.paused_entry_id, job.realtime_entry_id)
        if entry_id is not None
    ]
    return page(
        request,
        "job.html",
        job=job,
        position=queue_position(session, job),
        heartbeat_age_s=heartbeat_age_s(job, utc_now()),
        refresh_s=None if done else JOB_REFRESH_S,
        entries=entries,
        public_check=public_check_of(job),
    )

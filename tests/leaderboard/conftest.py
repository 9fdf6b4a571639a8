"""Fixtures of the leaderboard tests: a real results file, databases, a server on 127.0.0.1.

Every database test runs on a SQLite file and, when ``PORTIA_TEST_DATABASE_URL`` names a
PostgreSQL database (``postgresql+psycopg://USER@127.0.0.1:5432/DB``), on PostgreSQL too,
each time in a schema of its own that is dropped afterwards.
"""

import contextlib
import copy
import itertools
import os
import threading
import time
import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from leaderboard.app import create_app
from leaderboard.database import open_database, session_factory
from leaderboard.models import AuditEvent, Entry, utc_now
from leaderboard.server import listen, make_server, url_of
from leaderboard.settings import Settings
from leaderboard.tokens import create_token
from portia_envs.harness.agents import resolve_spec
from portia_envs.harness.episode import RunConfig
from portia_envs.harness.runner import bench
from portia_envs.harness.scores import compute_scores
from portia_envs.suites import get_suite
from portia_envs.suites.reference import load_reference

POSTGRESQL_URL = os.environ.get("PORTIA_TEST_DATABASE_URL")
DATABASES = ["sqlite", *(["postgresql"] if POSTGRESQL_URL else [])]
SMOKE = get_suite("smoke-v0")
# The test server's limits: small, so that tests can pass them.
UPLOAD_CAP = 2**20
DAILY_ATTEMPTS = 6
_unique = itertools.count(1)


@pytest.fixture(scope="session")
def bench_results(tmp_path_factory):
    """A real run: random on every task of smoke-v0, 1 episode, seed 0, through the harness."""
    config = RunConfig(
        suite=SMOKE.name,
        suite_hash=SMOKE.hash,
        track="paused",
        agent=resolve_spec("random"),
        budget_ms=None,
        clock=None,
        timeout_s=600.0,
    )
    out = tmp_path_factory.mktemp("random")
    return bench(config, agent_spec="random", episodes=1, seeds=[0], out_dir=out)


@pytest.fixture(scope="session")
def results(bench_results):
    """The real run rescored with 50 bootstrap replicates, so that validating it is quick.

    Anyone with the scoring code can rescore a run; a file keeps the settings it was
    scored with, and validation uses them.
    """
    rescored = copy.deepcopy(bench_results)
    rescored["scores"] = compute_scores(SMOKE, rescored["episodes"], load_reference(SMOKE), reps=50)
    return rescored


def fresh(results):
    """A copy of ``results`` whose content no other file of the session has (its wall_s)."""
    copied = copy.deepcopy(results)
    copied["wall_s"] = float(next(_unique))
    return copied


@contextlib.contextmanager
def scratch_database(kind, tmp_path):
    """Yield the URL of an empty database of ``kind``: a SQLite file or a PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'leaderboard-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    schema = f"portia_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRESQL_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(POSTGRESQL_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module", params=DATABASES)
def database_kind(request):
    return request.param


@pytest.fixture(scope="module")
def database_url(database_kind, tmp_path_factory):
    with scratch_database(database_kind, tmp_path_factory.mktemp("db")) as url:
        yield url


@dataclass
class Running:
    """A leaderboard served on 127.0.0.1 for a test module."""

    url: str
    app: object
    settings: Settings
    sessions: sessionmaker[Session]

    def token(self, *, admin=False, name=None):
        """Make a token as `portia leaderboard token create` does; return it."""
        with self.sessions.begin() as session:
            _, value = create_token(
                session, name or f"user-{next(_unique)}", admin=admin, at=utc_now()
            )
        return value

    def count(self, model):
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(model))

    def counts(self):
        """The number of entries and audit log rows."""
        return self.count(Entry), self.count(AuditEvent)

    def audit_rows(self):
        with self.sessions() as session:
            rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            return [(r.id, r.at, r.actor, r.action, r.entry_id, r.detail) for r in rows]


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    """The app on a free port of 127.0.0.1, in a thread; stopped when the module ends."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=database_url,
        max_upload_bytes=UPLOAD_CAP,
        daily_attempts=DAILY_ATTEMPTS,
    )
    engine = open_database(settings)
    sessions = session_factory(engine)
    app = create_app(settings, sessions)
    sock = listen("127.0.0.1", 0)
    uvicorn_server = make_server(app)
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]})
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    yield Running(url_of(sock), app, settings, sessions)
    uvicorn_server.should_exit = True
    thread.join(timeout=30)
    sock.close()
    engine.dispose()
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client

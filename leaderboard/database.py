"""The database: an engine for SQLite or PostgreSQL, sessions, and migrations at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from leaderboard.errors import SettingsError
from leaderboard.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")
# The drivers the leaderboard runs on.
DRIVERS = ("sqlite", "postgresql+psycopg")
# How long SQLite waits for another writer before giving up, ms.
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str) -> Engine:
    """Return an engine for ``url``: a SQLite file or PostgreSQL through psycopg 3.

    SQLite connections enforce foreign keys, write ahead (readers do not wait for the
    writer) and wait up to ``SQLITE_BUSY_TIMEOUT_MS`` for a lock.

    Raises:
        SettingsError: If ``url`` is not a URL of one of ``DRIVERS``.
    """
    accepted = "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SettingsError(f"cannot read the database URL; accepted: {accepted}") from None
    if parsed.drivername not in DRIVERS:
        raise SettingsError(
            f"database driver {parsed.drivername!r} is not supported; accepted: {accepted}"
        )
    if parsed.drivername == "postgresql+psycopg":
        return create_engine(parsed, pool_pre_ping=True)
    engine = create_engine(parsed, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    """Set a new SQLite connection's foreign keys, journal and lock timeout."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def alembic_config(connection: Connection) -> Config:
    """Return Alembic's configuration for the migrations shipped here, on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the database's schema up to the latest migration."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def open_database(settings: Settings) -> Engine:
    """Open the database of ``settings`` and bring its schema up to date.

    The embedded SQLite file's data directory is created when needed.

    Returns:
        The engine.

    Raises:
        SettingsError: If the database URL is not one the leaderboard runs on.
    """
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.url)
    migrate(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the sessions of ``engine``; their objects stay readable after a commit."""
    return sessionmaker(engine, expire_on_commit=False)

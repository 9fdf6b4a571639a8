"""The database tables, as SQLAlchemy's typed ORM classes.

The tables are made by the migrations in ``leaderboard/migrations`` (a test keeps them
equal to these classes). Times are stored in UTC.

- ``tokens``: accounts, one API token each; only the token's sha256 is stored.
- ``entries``: submitted and seeded results with the summary columns the ranking reads.
- ``audit_log``: every change, appended and never updated or deleted (the migration adds
  triggers that refuse both).
- ``jobs``: the verified tier's evaluations of an uploaded ONNX policy on hidden seeds.
  Their seeds are derived from a server secret (``hidden_seeds``); only their sha256
  (``seed_commitment``) is stored. A finished job links the verified entries it made.
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from leaderboard.errors import SettingsError

# The tiers of an entry: re-run by the server's workers, submitted results checked only
# for consistency, or a shipped baseline run by the server itself.
VERIFIED, SELF_REPORTED, BASELINE = "verified", "self-reported", "baseline"
TIERS = (VERIFIED, SELF_REPORTED, BASELINE)
QUEUED, RUNNING, FINISHED, FAILED = "queued", "running", "finished", "failed"
JOB_STATES = (QUEUED, RUNNING, FINISHED, FAILED)
# Lengths of the short text columns.
NAME_LENGTH = 100
URL_LENGTH = 500
TEXT_LENGTH = 2000
# "sha256:" and 64 hex digits.
HASH_LENGTH = 71


def utc_now() -> datetime.datetime:
    """Return the current time in UTC, as the tables store times."""
    return datetime.datetime.now(datetime.UTC)


class UTCDateTime(TypeDecorator[datetime.datetime]):
    """A timezone-aware UTC time, stored as a naive UTC ``DateTime`` on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        """Return ``value`` in UTC without its zone; a naive time is refused (``SettingsError``)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise SettingsError(f"times are stored in UTC and must carry a zone, got {value!r}")
        return value.astimezone(datetime.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        """Return the stored time marked as UTC."""
        return None if value is None else value.replace(tzinfo=datetime.UTC)


def one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """Return a check that ``column`` holds one of ``values``, named after the column."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


class Base(DeclarativeBase):
    """The tables' common base: floats are doubles, constraints named by the convention below."""

    type_annotation_map = {float: Double}
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Token(Base):
    """An account: a name and an API token, of which only the sha256 is kept."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    admin: Mapped[bool]
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    # The UTC day of the latest submission attempt and the attempts made on it.
    quota_day: Mapped[datetime.date | None]
    quota_used: Mapped[int]


class Entry(Base):
    """A results file on the leaderboard, its metadata and the columns the ranking reads."""

    __tablename__ = "entries"
    __table_args__ = (
        one_of("tier", TIERS),
        Index("ix_entries_board", "suite", "track"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    # What the submitter says.
    method: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    license: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    env_steps: Mapped[int | None] = mapped_column(BigInteger)
    trained_on: Mapped[str | None] = mapped_column(Text)
    policy_params: Mapped[int | None] = mapped_column(BigInteger)
    # The results file, as uploaded (JSON, ASCII), its sha256, and what it says.
    results: Mapped[str] = mapped_column(Text)
    results_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    suite: Mapped[str] = mapped_column(String(64))
    suite_hash: Mapped[str] = mapped_column(String(64))
    track: Mapped[str] = mapped_column(String(16))
    budget_ms: Mapped[float | None]
    agent_name: Mapped[str] = mapped_column(Text)
    agent_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    episodes: Mapped[int]
    # The summary: value and 95% interval bounds of the scores the ranking shows.
    heldout_success: Mapped[float]
    heldout_success_low: Mapped[float]
    heldout_success_high: Mapped[float]
    train_success: Mapped[float]
    train_success_low: Mapped[float]
    train_success_high: Mapped[float]
    heldout_iqm: Mapped[float]
    heldout_iqm_low: Mapped[float]
    heldout_iqm_high: Mapped[float]
    generalization_gap: Mapped[float]
    generalization_gap_low: Mapped[float]
    generalization_gap_high: Mapped[float]
    latency_compliance: Mapped[float | None]
    latency_p50_ms: Mapped[float | None]
    # Moderation: the latest hiding and flag, each with its reason (the audit log has all).
    hidden_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    flagged_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    flag_reason: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """One change, appended to the audit log; rows are never updated or deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    # Who: a token's name, or the command line's name for itself.
    actor: Mapped[str] = mapped_column(String(NAME_LENGTH))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"))
    action: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"), index=True)
    # What changed and why, as a JSON object (ASCII).
    detail: Mapped[str] = mapped_column(Text)


class Job(Base):
    """An evaluation of an uploaded policy by a worker, on seeds derived from a server secret."""

    __tablename__ = "jobs"
    __table_args__ = (one_of("state", JOB_STATES), Index("ix_jobs_state", "state", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id"))
    # What is evaluated: the policy file (stored by its sha256) on a suite at its hash.
    suite: Mapped[str] = mapped_column(String(64))
    suite_hash: Mapped[str] = mapped_column(String(64))
    policy_sha256: Mapped[str] = mapped_column(String(64))
    # The submitter's metadata of the entries to make (JSON, ASCII).
    entry_metadata: Mapped[str] = mapped_column(Text)
    # sha256 of the hidden seeds; the seeds themselves are never stored.
    seed_commitment: Mapped[str] = mapped_column(String(HASH_LENGTH))
    # Claims of the job by workers, the one that holds it, and its latest sign of life.
    attempts: Mapped[int]
    worker: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(UTCDateTime)
    # Why a failed job failed (one of ``jobs.REASONS``) and the end of the agent's log.
    reason: Mapped[str | None] = mapped_column(Text)
    log_tail: Mapped[str | None] = mapped_column(Text)
    # The public-seed check (``public_check``): the submitter's own paused run of the
    # policy, if they sent one, and the worker's run on the same public seeds (JSON).
    claimed_results: Mapped[str | None] = mapped_column(Text)
    public_results: Mapped[str | None] = mapped_column(Text)
    # The verified entries a finished job made, one per track.
    paused_entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    realtime_entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))

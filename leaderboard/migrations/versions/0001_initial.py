"""The first schema: tokens, entries, the append-only audit log and evaluation jobs.

Revision ID: 0001
Revises: (none)
"""

import sqlalchemy as sa
from alembic import op

from leaderboard.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = "the audit log is append-only: its rows are never updated or deleted"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_log_no_{operation.lower()} BEFORE {operation} ON audit_log
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"""
    for operation in ("UPDATE", "DELETE")
]
POSTGRESQL_TRIGGERS = [
    f"""CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{APPEND_ONLY} (% refused)', TG_OP; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]


def interval(name: str) -> list[sa.Column]:
    """Return the value, low and high columns of a summary interval."""
    return [
        sa.Column(f"{name}{suffix}", sa.Double(), nullable=False)
        for suffix in ("", "_low", "_high")
    ]


def upgrade() -> None:
    """Create the tables, and the triggers that keep the audit log append-only."""
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("quota_day", sa.Date(), nullable=True),
        sa.Column("quota_used", sa.Integer(), nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("tokens.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("method", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("license", sa.String(100), nullable=True),
        sa.Column("env_steps", sa.BigInteger(), nullable=True),
        sa.Column("trained_on", sa.Text(), nullable=True),
        sa.Column("policy_params", sa.BigInteger(), nullable=True),
        sa.Column("results", sa.Text(), nullable=False),
        sa.Column("results_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("suite", sa.String(64), nullable=False),
        sa.Column("suite_hash", sa.String(64), nullable=False),
        sa.Column("track", sa.String(16), nullable=False),
        sa.Column("budget_ms", sa.Double(), nullable=True),
        sa.Column("agent_name", sa.Text(), nullable=False),
        sa.Column("agent_hash", sa.String(71), nullable=True),
        sa.Column("episodes", sa.Integer(), nullable=False),
        *interval("heldout_success"),
        *interval("train_success"),
        *interval("heldout_iqm"),
        *interval("generalization_gap"),
        sa.Column("latency_compliance", sa.Double(), nullable=True),
        sa.Column("latency_p50_ms", sa.Double(), nullable=True),
        sa.Column("hidden_at", UTCDateTime(), nullable=True),
        sa.Column("hidden_reason", sa.Text(), nullable=True),
        sa.Column("flagged_at", UTCDateTime(), nullable=True),
        sa.Column("flag_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("tier IN ('verified', 'self-reported', 'baseline')", name="tier"),
    )
    op.create_index("ix_entries_board", "entries", ["suite", "track"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("tokens.id"), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("entries.id"), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_log_entry_id", "audit_log", ["entry_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("entries.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("seed_commitment", sa.String(71), nullable=True),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("results", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
    )
    op.create_index("ix_jobs_entry_id", "jobs", ["entry_id"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    """Drop everything ``upgrade`` made."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    for table in ("jobs", "audit_log", "entries", "tokens"):
        op.drop_table(table)

"""The verified tier's jobs: an uploaded policy, its seed commitment, claims and outcome.

The jobs table of the first schema was never written to; it is replaced by one that
holds what a worker needs.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from leaderboard.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replace the unused jobs table by the verified tier's."""
    op.drop_index("ix_jobs_entry_id", "jobs")
    op.drop_table("jobs")
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("token_id", sa.Integer(), sa.ForeignKey("tokens.id"), nullable=False),
        sa.Column("suite", sa.String(64), nullable=False),
        sa.Column("suite_hash", sa.String(64), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("entry_metadata", sa.Text(), nullable=False),
        sa.Column("seed_commitment", sa.String(71), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=True),
        sa.Column("paused_entry_id", sa.Integer(), sa.ForeignKey("entries.id"), nullable=True),
        sa.Column("realtime_entry_id", sa.Integer(), sa.ForeignKey("entries.id"), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'finished', 'failed')", name="state"),
    )
    op.create_index("ix_jobs_state", "jobs", ["state", "id"])


def downgrade() -> None:
    """Restore the first schema's jobs table."""
    op.drop_index("ix_jobs_state", "jobs")
    op.drop_table("jobs")
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

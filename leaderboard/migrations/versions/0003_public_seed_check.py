"""The public-seed check of a job: the submitter's own results and the worker's run.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two results columns of the public-seed check to the jobs."""
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("claimed_results", sa.Text(), nullable=True))
        jobs.add_column(sa.Column("public_results", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("public_results")
        jobs.drop_column("claimed_results")

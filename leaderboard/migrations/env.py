"""Alembic's entry point: runs the migrations on the connection ``database.migrate`` passes.

Only online migrations are made, on ``config.attributes["connection"]``; there is no
``alembic.ini``.
"""

from alembic import context

from leaderboard.models import Base

if context.is_offline_mode():
    raise RuntimeError(
        "the leaderboard's migrations run online only, through leaderboard.database.migrate"
    )
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

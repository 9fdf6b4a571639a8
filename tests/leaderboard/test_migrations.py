"""The migrations: they make exactly the tables of the models, and undo what they make."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from leaderboard.database import alembic_config, make_engine, migrate
from leaderboard.models import Base
from tests.leaderboard.conftest import scratch_database

TABLES = {"tokens", "entries", "audit_log", "jobs", "alembic_version"}


def test_the_migrated_schema_is_the_models_schema(database_kind, tmp_path):
    with scratch_database(database_kind, tmp_path) as url:
        engine = make_engine(url)
        migrate(engine)
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == TABLES
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        migrate(engine)  # applying them again changes nothing
        engine.dispose()


def test_a_downgrade_removes_every_table_and_an_upgrade_restores_them(database_kind, tmp_path):
    with scratch_database(database_kind, tmp_path) as url:
        engine = make_engine(url)
        migrate(engine)
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        migrate(engine)
        assert set(inspect(engine).get_table_names()) == TABLES
        engine.dispose()

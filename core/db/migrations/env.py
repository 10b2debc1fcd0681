"""Alembic environment: runs on the connection handed in by ``core.db.upgrade``."""

from alembic import context
from sqlalchemy import create_engine

from core.db import Base  # every table module, so the metadata is whole

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations on the handed-in connection, or on ``sqlalchemy.url`` if none."""
    connection = config.attributes.get("connection")
    if connection is None:  # invoked from the alembic command line
        url = config.get_main_option("sqlalchemy.url")
        with create_engine(url).begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()

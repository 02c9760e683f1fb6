"""Alembic environment: the app's own engine settings and the sqlmodel metadata.

Run through `chatapp.server.migrate` (no alembic.ini): the database URL comes from the Alembic config's
`sqlalchemy.url`, set from `DATABASE_URL` by the caller.
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from chatapp import models  # noqa: F401  (registers the tables
from chatapp.core.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    """Emits SQL for `alembic upgrade --sql` without a database connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrates through a connection the caller passed, or a fresh engine on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:
    # render_as_batch: SQLite can't ALTER most things; batch mode rebuilds the table instead.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

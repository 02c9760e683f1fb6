"""Database migrations with Alembic: upgrade at start-up, a readiness check, and regeneration.

Production (`chatapp.server.serve`) runs `upgrade()` before serving. Development and tests keep
`SQLModel.metadata.create_all` in `chatapp.core.db.init_db` (fast, no revision needed for a scratch
database); a database created that way has no `alembic_version` table and is *adopted*: stamped at
head when it already holds every table of the initial revision.

Deployments hold real data, so a change of models.py gets a revision of its own on top of the
others: `make migration MSG="what changed"` (`python -m chatapp.server.migrate revision -m …`)
autogenerates it against a scratch database at head; read it before committing (a new NOT NULL
column needs a server default for the rows already there), and give it a test that upgrades a
database holding data from the revision before (tests/server/test_migration_*.py).

Usage: `python -m chatapp.server.migrate [upgrade|current|check|revision -m MSG]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

from chatapp.core.db import make_engine, normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# An arbitrary constant shared by every instance: the PostgreSQL advisory lock around migrations.
_LOCK_KEY = 0x63686174617070


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """An Alembic config without an ini file, pointing at our scripts and `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # `%` is interpolation syntax in ConfigParser; a password may hold one.
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest revision among the scripts."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    """True when the database is at the scripts' head (the readiness check)."""
    with engine.connect() as conn:
        return current_revision(conn) == head_revision()


def _app_tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _schema(conn: Connection) -> dict[str, set[str]]:
    """The app's tables in the database and their column names."""
    inspector = inspect(conn)
    return {
        name: {c["name"] for c in inspector.get_columns(name)}
        for name in inspector.get_table_names()
        if name != "alembic_version"
    }


def _models_schema(metadata: MetaData) -> dict[str, set[str]]:
    return {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}


def _base_revision() -> str:
    """The first revision of the scripts."""
    base = ScriptDirectory.from_config(alembic_config("sqlite://")).get_base()
    assert isinstance(base, str)
    return base


def _initial_schema() -> dict[str, set[str]]:
    """The tables and columns of the first revision, as it builds them (on a scratch SQLite)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/initial.db"
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(url, conn), _base_revision())
                return _schema(conn)
        finally:
            engine.dispose()


def upgrade(url: str) -> str:
    """Brings the database at `url` to head; returns what was done, for the start-up log."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Instances starting together: one migrates, the others wait, then see head.
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            before = current_revision(conn)
            existing = _app_tables(conn)
            cfg = alembic_config(url, conn)
            if before is None and existing:
                from sqlmodel import SQLModel

                # Created by create_all (dev): adopt it rather than fail on "table exists" — at
                # head when it holds all of the models, at the first revision (then upgraded)
                # when it is exactly that revision's schema (made before the later ones).
                schema = _schema(conn)
                wanted = _models_schema(SQLModel.metadata)
                if all(columns <= schema.get(name, set()) for name, columns in wanted.items()):
                    command.stamp(cfg, "head")
                    return f"adopted an existing schema at {head_revision()}"
                if schema == _initial_schema():
                    base = _base_revision()
                    command.stamp(cfg, base)
                    command.upgrade(cfg, "head")
                    return f"adopted an existing schema at {base}, upgraded to head"
                missing = sorted(set(wanted) - existing) or sorted(
                    f"{name}.{column}"
                    for name, columns in wanted.items()
                    for column in columns - schema.get(name, set())
                )
                raise RuntimeError(
                    "database has tables but no migration history, and lacks "
                    f"{missing}: migrate it by hand"
                )
            command.upgrade(cfg, "head")
            after = current_revision(conn)
        return f"at {after}" if before == after else f"upgraded {before} -> {after}"
    finally:
        engine.dispose()


def pending_changes(url: str) -> list[object]:
    """Differences between the models and a database migrated to head (empty: scripts current)."""
    from alembic.autogenerate import compare_metadata
    from sqlmodel import SQLModel

    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, SQLModel.metadata))
    finally:
        engine.dispose()


def new_revision(message: str) -> Path:
    """Autogenerates the next revision (numbered after the head) from the models."""
    head = head_revision() or "0000"
    rev_id = f"{int(head) + 1:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/head.db"
        upgrade(url)
        command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev_id)
    return next((MIGRATIONS_DIR / "versions").glob(f"{rev_id}_*.py"))


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    from chatapp.core.config import load_settings

    parser = argparse.ArgumentParser(description="chatapp database migrations")
    parser.add_argument("action", choices=["upgrade", "current", "check", "revision"])
    parser.add_argument("-m", "--message", default="change")
    args = parser.parse_args(argv)
    if args.action == "revision":
        print(f"wrote {new_revision(args.message)}")
        return 0
    url = load_settings().database_url
    if args.action == "upgrade":
        print(upgrade(url))
        return 0
    if args.action == "check":
        with tempfile.TemporaryDirectory() as tmp:
            diff = pending_changes(f"sqlite:///{tmp}/check.db")
        if diff:
            print("models and migrations differ; run `make migration`:", *diff, sep="\n  ")
            return 1
        print("migrations match the models")
        return 0
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            print(f"database at {current_revision(conn)}, scripts at {head_revision()}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

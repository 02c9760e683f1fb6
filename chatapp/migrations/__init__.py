"""Alembic migration scripts (run by `chatapp.migrate`; regenerate the initial one with `make migration`)."""

"""Alembic migration scripts (run by `chatapp.server.migrate`; regenerate the initial one with `make migration`)."""

"""Alembic migration scripts, one revision per change of the models (run by `chatapp.server.migrate`; a new one with `make migration MSG=…`)."""

"""Logging set-up: one JSON object per line in production, with the request and conversation ids.

The ids live in context variables, so every log call made while handling a request (or inside a
task started from it: asyncio copies the context into new tasks) carries them without passing them
around. `chatapp.middleware` sets `request_id` per HTTP request and websocket connection; chat code
sets the conversation with `bind_conversation(cid)` (or `conversation_id.set(cid)`) before it starts
work for that conversation.

`LOG_FORMAT=json|text` chooses the format (the start script defaults to json, dev to text);
`LOG_LEVEL` the level (INFO).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
conversation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "conversation_id", default=None
)

# Which instance wrote a line, when several write to one log store: INSTANCE_NAME, else host:port.
INSTANCE = os.environ.get("INSTANCE_NAME") or f"{socket.gethostname()}:{os.environ.get('PORT', '')}"
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


@contextmanager
def bind_conversation(cid: str | None) -> Iterator[None]:
    """Tags the log lines written inside the block (and tasks started in it) with `cid`."""
    token = conversation_id.set(cid)
    try:
        yield
    finally:
        conversation_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "instance": INSTANCE,
            "pid": record.process,
        }
        if rid := request_id.get():
            out["request_id"] = rid
        if cid := conversation_id.get():
            out["conversation_id"] = cid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(fmt: str | None = None, level: str | None = None) -> None:
    """Configures the root logger once per process (idempotent: replaces our own handler)."""
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "text").lower()
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_chatapp", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._chatapp = True  # type: ignore[attr-defined]
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    # The readiness check asks Alembic for the revision on every probe; its INFO lines are noise.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    # httpx logs every request at INFO ("HTTP Request: POST ..."): one synchronous log line per
    # answer on the event loop, 300 of them within a second when many users send at once; our
    # own answer logs say what matters (bench/README.md, "concurrency").
    logging.getLogger("httpx").setLevel(logging.WARNING)

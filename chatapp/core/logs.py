"""Logging set-up: one JSON object per line in production, with the request and conversation ids.

The ids live in context variables, so every log call made while handling a request (or inside a
task started from it: asyncio copies the context into new tasks) carries them without passing them
around. `chatapp.api.middleware` sets `request_id` per HTTP request and websocket connection; chat code
sets the conversation with `bind_conversation(cid)` (or `conversation_id.set(cid)`) before it starts
work for that conversation.

`LOG_FORMAT=json|text` chooses the format (the start script defaults to json, dev to text);
`LOG_LEVEL` the level (INFO). Records of the libraries that quote client input pass through
`chatapp.core.log_guard` first.
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

from chatapp.core.log_guard import ClientLogGuard

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
conversation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "conversation_id", default=None
)

# Which instance wrote a line, when several write to one log store: INSTANCE_NAME, else host:port.
INSTANCE = os.environ.get("INSTANCE_NAME") or f"{socket.gethostname()}:{os.environ.get('PORT', '')}"
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# One guard per process, shared by the handlers it sits on (its rate limits are per process).
_guard = ClientLogGuard()


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
        elif record.exc_text:  # a traceback already formatted (and cleaned: see log_guard)
            out["exc"] = record.exc_text
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
    # What clients send (event payloads, the session cookie) never reaches the log, and a flood
    # of bad events writes a bounded amount (see chatapp/core/log_guard.py). Reflex's own handlers,
    # when it runs the process (`reflex run`), get the same guard.
    handler.addFilter(_guard)
    for reflex_handler in logging.getLogger("reflex").handlers:
        if _guard not in reflex_handler.filters:
            reflex_handler.addFilter(_guard)
    # The socket server's loggers: given a level before the server is made, python-socketio and
    # engine.io add no plain-text handler of their own (which printed every traceback a second
    # time, unguarded, outside the JSON lines); their records come here.
    for name in ("engineio.server", "socketio.server"):
        server_logger = logging.getLogger(name)
        if server_logger.level == logging.NOTSET:
            server_logger.setLevel(logging.ERROR)
        if _guard not in server_logger.filters:
            server_logger.addFilter(_guard)
    root.addHandler(handler)
    root.setLevel(level)
    # The readiness check asks Alembic for the revision on every probe; its INFO lines are noise.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    # httpx logs every request at INFO ("HTTP Request: POST ..."): one synchronous log line per
    # answer on the event loop, 300 of them within a second when many users send at once; our
    # own answer logs say what matters (bench/README.md, "concurrency").
    logging.getLogger("httpx").setLevel(logging.WARNING)

"""Keeps what clients send out of the log, and a flood of bad events from filling it.

Reflex, python-socketio and engine.io log the events they cannot handle together with the event:
an event naming an unknown handler is logged at ERROR with its whole payload and router data
(the websocket's headers, the session cookie among them), from any socket, anonymous ones too;
a frame that is not an event is logged with the frame, inside a traceback. A client choosing
what goes into the log can write its tokens there, or megabytes a second.

`ClientLogGuard` is a logging filter (on the app's log handler, see `chatapp.core.logs`) for the
records of those libraries and of our own handler-failure logger (`chatapp.handlers`, whose
exceptions may quote a hostile payload):

- a message that embeds an event keeps only the handler's name; where Reflex quotes the event
  data it could not read (in a message or an exception inside a traceback), the data is dropped;
- tokens are masked: JWTs, the session cookie's value, bearer tokens, and tab (client) tokens
  shortened to their first 8 characters;
- a message is cut at MAX_CHARS, a traceback at MAX_EXC_CHARS (each line at MAX_LINE_CHARS);
- at most BURST records per logger pass per WINDOW_S; the last one says that more are being
  dropped, and the first after the window says how many were.

Our own loggers (`chatapp.*` but the handler failures) are left alone: they log ids, not input.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

# Loggers whose records may carry what a client sent.
UNTRUSTED = ("reflex", "reflex_base", "engineio", "socketio", "chatapp.handlers")
BURST = 10
WINDOW_S = 60.0
MAX_CHARS = 500
MAX_EXC_CHARS = 3000
MAX_LINE_CHARS = 300

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_COOKIE = re.compile(r"(chatapp_session\s*[=:]\s*['\"]?)[^'\";,\s}]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_UUID = re.compile(
    r"\b([0-9a-fA-F]{8})-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
# Reflex's event processor: f"Error processing event queue entry for {entry.event} [txid=…]:".
_QUEUE_ERROR = re.compile(r"^Error processing event queue entry for Event\(name=(['\"])(.*?)\1")
# Reflex's words where it quotes the event or frame it could not read: "… Event data: {data}",
# "Failed to deserialize event data: {fields}.", "… must be a dictionary, but received {fields}
# of type …".
_EVENT_DATA = re.compile(r"((?:Event|event) data:)\s.*", re.DOTALL)
_RECEIVED = re.compile(r"(but received ).*( of type )", re.DOTALL)
_NAME_CHARS = re.compile(r"[^\w.\-]")


def untrusted(logger_name: str) -> bool:
    """Whether records of `logger_name` may quote client input."""
    return any(logger_name == p or logger_name.startswith(p + ".") for p in UNTRUSTED)


def mask(text: str) -> str:
    """`text` with tokens hidden (see the module docstring)."""
    text = _JWT.sub("<jwt>", text)
    text = _COOKIE.sub(r"\1<hidden>", text)
    text = _BEARER.sub(r"\1<hidden>", text)
    return _UUID.sub(r"\1…", text)


def cut(text: str, limit: int) -> str:
    """`text`, at most `limit` characters plus a note of how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def event_name(raw: str) -> str:
    """A client-chosen handler name as it may be logged: word characters, dots and dashes,
    at most 120 of them."""
    return cut(_NAME_CHARS.sub("?", raw), 120)


def clean_message(message: str) -> str:
    """The text of a record of an untrusted logger as it may be written."""
    found = _QUEUE_ERROR.match(message)
    if found:
        return f"could not queue the event {event_name(found.group(2))}"
    return cut(mask(_unquote(message)), MAX_CHARS)


_TRACEBACK_HEADS = ("Traceback (", "The above exception", "During handling of")


def _unquote_traceback(text: str) -> list[str]:
    """The lines of a traceback with quoted event data dropped from its exception messages (the
    lines at column 0; source lines are indented). Data may span lines: what follows a quote is
    dropped up to the next traceback or source line."""
    out: list[str] = []
    dropping = False
    for line in text.split("\n"):
        if line.startswith((" ", "\t", *_TRACEBACK_HEADS)):
            dropping = False
            out.append(line)
        elif not dropping:
            cleaned = _unquote(line)
            dropping = cleaned != line
            out.append(cleaned)
    return out


def _unquote(text: str) -> str:
    text = _RECEIVED.sub(r"\1<not logged>\2", text)
    return _EVENT_DATA.sub(r"\1 <not logged>", text)


def clean_traceback(text: str) -> str:
    """A formatted traceback as it may be written: masked, each line and the whole cut (its end,
    which names the exception, is kept)."""
    lines = [cut(line, MAX_LINE_CHARS) for line in _unquote_traceback(mask(text).rstrip("\n"))]
    out = "\n".join(lines)
    if len(out) > MAX_EXC_CHARS:
        out = f"… ({len(out) - MAX_EXC_CHARS} chars cut)\n{out[-MAX_EXC_CHARS:]}"
    return out


@dataclass
class _Window:
    start: float
    passed: int = 0
    dropped: int = 0
    dropped_before: int = 0  # in the previous window, told by the next record that passes


class ClientLogGuard(logging.Filter):
    """Masks, cuts and rate-limits the records of untrusted loggers (see the module docstring)."""

    def __init__(
        self,
        *,
        burst: int = BURST,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self._windows: dict[str, _Window] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """False drops the record; a passing record of an untrusted logger is rewritten."""
        if not untrusted(record.name):
            return True
        if getattr(record, "_chatapp_guarded", False):
            return True  # already rewritten (the guard sits on more than one handler)
        note = self._admit(record.name)
        if note is None:
            return False
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not fit its format: keep the format only
            message = str(record.msg)
        queue_error = _QUEUE_ERROR.match(message)
        if queue_error:
            # Reflex could not find or queue the handler the event names: its name and why are
            # all there is to say (the traceback is Reflex's own code).
            exc = record.exc_info[1] if record.exc_info else None
            why = "no such handler" if isinstance(exc, KeyError) else type(exc).__name__
            record.msg = f"refused the event {event_name(queue_error.group(2))}: {why}{note}"
            record.exc_info = None
            record.exc_text = None
        else:
            record.msg = clean_message(message) + note
        record.args = ()
        if record.exc_info:
            record.exc_text = clean_traceback("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = clean_traceback(record.exc_text)
        record.stack_info = None
        record._chatapp_guarded = True  # type: ignore[attr-defined]
        return True

    def _admit(self, key: str) -> str | None:
        """None to drop; otherwise the note to add to the message ("" mostly)."""
        now = self.clock()
        window = self._windows.get(key)
        if window is None or now - window.start >= self.window_s:
            before = window.dropped if window is not None else 0
            window = self._windows[key] = _Window(now, dropped_before=before)
        if window.passed >= self.burst:
            window.dropped += 1
            return None
        window.passed += 1
        note = ""
        if window.dropped_before:
            note = f" ({window.dropped_before} more lines like this were dropped before)"
            window.dropped_before = 0
        if window.passed == self.burst:
            note += f" (more lines of {key} are dropped for up to {self.window_s:.0f} s)"
        return note

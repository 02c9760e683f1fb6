"""The log guard: what clients send never reaches the log, and a flood writes a bounded amount."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from chatapp.core import log_guard
from chatapp.core.log_guard import ClientLogGuard
from chatapp.core.logs import JsonFormatter

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwianRpIjoieCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
TAB = "3f2b9c1e-8a4d-4e6f-9b0a-1c2d3e4f5a6b"
PAYLOAD = "the user's private text " * 40


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def written(clock) -> Iterator[tuple[io.StringIO, ClientLogGuard]]:
    """A JSON handler with the guard, on the loggers Reflex and engine.io write to."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    guard = ClientLogGuard(burst=5, window_s=60, clock=clock)
    handler.addFilter(guard)
    names = [
        "reflex_base.event.processor.event_processor",
        "reflex.app",
        "engineio.server",
        "chatapp.handlers",
        "chatapp.state.chat",
    ]
    loggers = [logging.getLogger(n) for n in names]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
    yield stream, guard
    for lg in loggers:
        lg.removeHandler(handler)
        lg.propagate = True


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _unknown_handler_error(name: str = "reflex___state____state.nope") -> None:
    """What Reflex's event processor logs for an event naming an unknown handler (its own words,
    with a real Event's repr)."""
    from reflex_base.event import Event

    event = Event(
        name=name,
        payload={"token": JWT, "text": PAYLOAD},
        router_data={"headers": {"cookie": f"chatapp_session={JWT}"}, "token": TAB},
    )
    try:
        try:
            raise KeyError(name)
        except KeyError as ke:
            raise KeyError(f"No registered handler found for event: {name}") from ke
    except KeyError:
        logging.getLogger("reflex_base.event.processor.event_processor").exception(
            f"Error processing event queue entry for {event} [txid=abc]:"
        )


def test_an_unknown_handler_is_logged_by_name_only(written):
    stream, _ = written
    _unknown_handler_error()
    (line,) = _lines(stream)
    assert line["msg"] == "refused the event reflex___state____state.nope: no such handler"
    assert "exc" not in line
    assert JWT not in stream.getvalue() and "private text" not in stream.getvalue()


def test_a_long_or_odd_handler_name_is_cut_and_defanged(written):
    stream, _ = written
    _unknown_handler_error("x" * 5000 + "\n<script>")
    (line,) = _lines(stream)
    assert len(line["msg"]) < 220
    assert "\n" not in line["msg"] and "<script>" not in line["msg"]


@pytest.mark.parametrize(
    ("logger", "message", "kept", "gone"),
    [
        (
            "reflex.app",
            f"Received event from session abc with no associated token. Event data: {PAYLOAD}",
            "Event data: <not logged>",
            "private text",
        ),
        (
            "reflex.app",
            f"Attempting to send delta to disconnected client '{TAB}'",
            "3f2b9c1e…",
            TAB,
        ),
        ("reflex.app", f"headers {{'cookie': 'chatapp_session={JWT}'}}", "<hidden>", JWT),
        ("reflex.app", "Authorization: Bearer sk-live-0123456789abc", "Bearer <hidden>", "sk-live"),
        ("reflex.app", "x" * 10_000, "(10000 chars)", "x" * 600),
    ],
)
def test_client_text_in_messages_is_masked_and_cut(written, logger, message, kept, gone):
    stream, _ = written
    logging.getLogger(logger).warning(message)
    (line,) = _lines(stream)
    assert kept in line["msg"]
    assert gone not in stream.getvalue()


def test_a_traceback_quoting_a_payload_is_masked_and_cut(written):
    stream, _ = written
    try:
        raise ValueError(f"bad token {JWT} then {'y' * 9000}")
    except ValueError:
        logging.getLogger("engineio.server").exception("message handler error")
    (line,) = _lines(stream)
    assert line["msg"] == "message handler error"
    assert "ValueError: bad token <jwt> then yyy" in line["exc"]
    assert JWT not in line["exc"]
    assert line["exc"].endswith("chars)") and "y" * 400 not in line["exc"]
    assert len(line["exc"]) <= log_guard.MAX_EXC_CHARS + 100


def test_our_own_loggers_are_left_alone(written):
    stream, _ = written
    logging.getLogger("chatapp.state.chat").warning("user 3 asked for conversation %s", TAB)
    (line,) = _lines(stream)
    assert line["msg"] == f"user 3 asked for conversation {TAB}"


def test_a_flood_writes_a_bounded_amount_and_says_so(written, clock):
    stream, _ = written
    for _ in range(2000):
        _unknown_handler_error()
    lines = _lines(stream)
    assert len(lines) == 5
    assert "dropped for up to 60 s" in lines[-1]["msg"]
    assert len(stream.getvalue()) < 2000
    # Other loggers have budgets of their own: the flood does not silence them.
    logging.getLogger("chatapp.handlers").error("event handler failed")
    assert _lines(stream)[-1]["msg"] == "event handler failed"
    # A minute later lines pass again, and the first says how many were dropped.
    clock.now += 61
    _unknown_handler_error()
    assert "1995 more lines like this were dropped before" in _lines(stream)[-1]["msg"]


def test_setup_logging_puts_the_guard_on_the_app_handler():
    from chatapp.core import logs

    logs.setup_logging("json", "INFO")
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_chatapp", False)]
    assert len(ours) == 1 and any(isinstance(f, ClientLogGuard) for f in ours[0].filters)


def test_event_data_quoted_in_an_exception_is_dropped_even_across_lines(written):
    stream, _ = written
    try:
        raise ValueError(f"Failed to deserialize event data: {PAYLOAD}\nsecond line {PAYLOAD}.")
    except ValueError:
        logging.getLogger("engineio.server").exception("message async handler error")
    (line,) = _lines(stream)
    assert "private text" not in line["exc"]
    assert "ValueError: Failed to deserialize event data: <not logged>" in line["exc"]

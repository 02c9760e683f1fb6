"""JSON logs with ids, the request/websocket middleware, and the answer metrics."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import httpx
import pytest

from chatapp.api.middleware import ObservabilityMiddleware, route_of
from chatapp.core import metrics
from chatapp.core.logs import JsonFormatter, bind_conversation, request_id


def _record(msg: str, **extra) -> logging.LogRecord:
    record = logging.getLogger("t").makeRecord("t", logging.INFO, __file__, 1, msg, (), None)
    for k, v in extra.items():
        setattr(record, k, v)
    return record


def test_json_lines_carry_request_and_conversation_ids_and_extras():
    token = request_id.set("rid-1234567")
    try:
        with bind_conversation("conv-abc"):
            line = JsonFormatter().format(_record("hello %s", status=200))
        after = json.loads(JsonFormatter().format(_record("later")))
    finally:
        request_id.reset(token)
    out = json.loads(line)
    assert out["msg"] == "hello %s"
    assert out["request_id"] == "rid-1234567"
    assert out["conversation_id"] == "conv-abc"
    assert out["status"] == 200 and out["level"] == "info" and "instance" in out
    assert "conversation_id" not in after  # unbound when the block ends


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/_event/", "event"),
        ("/ping", "ping"),
        ("/api/health", "api_health"),
        ("/metrics", "metrics"),
        ("/api/v1/wx/portal/abc", "api"),
        ("/chat/any-id", "frontend"),
        ("/../../etc/passwd", "frontend"),
    ],
)
def test_routes_have_few_label_values(path, route):
    assert route_of(path) == route


async def test_middleware_echoes_a_sane_request_id_and_counts_requests():
    seen = {}

    async def app(scope, receive, send):
        seen["rid"] = request_id.get()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=ObservabilityMiddleware(app))
    series = metrics.HTTP_REQUESTS.labels(method="GET", route="api", status="204")
    before = series._value.get()
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        given = await client.get("/api/x", headers={"X-Request-ID": "abcdef123456"})
        bogus = await client.get("/api/x", headers={"X-Request-ID": "bad id\n<script>"})
    assert given.headers["x-request-id"] == "abcdef123456"
    assert bogus.headers["x-request-id"] != "bad id\n<script>"
    assert len(bogus.headers["x-request-id"]) == 16
    assert seen["rid"] == bogus.headers["x-request-id"]
    assert series._value.get() == before + 2


@dataclass
class _Job:
    status: str
    length: int
    error_code: str | None = None
    started_at: float = 10.0
    first_token_at: float | None = 10.5


def test_answer_metrics_count_chars_errors_and_active_streams():
    active = metrics.ACTIVE_STREAMS._value.get()
    chars = metrics.STREAMED_CHARS._value.get()
    errors = metrics.UPSTREAM_ERRORS.labels(type="rate_limited")._value.get()
    metrics.answer_started()
    assert metrics.ACTIVE_STREAMS._value.get() == active + 1
    metrics.answer_finished(_Job("error", 42, "rate_limited"), completion_tokens=7)
    assert metrics.ACTIVE_STREAMS._value.get() == active
    assert metrics.STREAMED_CHARS._value.get() == chars + 42
    assert metrics.UPSTREAM_ERRORS.labels(type="rate_limited")._value.get() == errors + 1
    body, content_type = metrics.render()
    assert b"chatapp_login_attempts_total" in body and content_type.startswith("text/plain")

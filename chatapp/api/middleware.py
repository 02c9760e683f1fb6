"""ASGI middleware around the whole app (pages, `/_event` websocket, API): request ids, access
logs, and the request / websocket counters in `chatapp.core.metrics`.

A request id comes from `X-Request-ID` (nginx sets it to `$request_id`) when it looks sane, else
is generated; it is echoed in the response and set in `chatapp.core.logs.request_id` for every log line
written while handling the request — for a websocket, for the life of the connection (Reflex runs
a tab's event handlers in tasks started from it, which inherit the context).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from chatapp.core import metrics
from chatapp.core.logs import request_id

log = logging.getLogger("chatapp.access")

_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Health probes hit every few seconds: keep them out of the INFO log.
_QUIET = {"/ping", "/api/health", "/metrics", "/_health"}

Scope = dict[str, Any]


def route_of(path: str) -> str:
    """A low-cardinality label for a path (a scanner must not create a series per URL)."""
    if path.startswith("/_event"):
        return "event"
    if path.startswith("/_upload"):
        return "upload"
    if path in ("/ping", "/_health", "/api/health", "/metrics"):
        return path.strip("/").replace("/", "_")
    if path.startswith("/api/"):
        return "api"
    return "frontend"


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SANE_ID.match(candidate):
                return candidate
    return secrets.token_hex(8)


def _is_event_frame(message: dict[str, Any], incoming: bool) -> bool:
    # Engine.IO "4" = message; Socket.IO "2" = event, "0" = connect, which Reflex's client sends
    # carrying the tab's hydrate event. "2"/"3" alone are heartbeats.
    text = message.get("text")
    if not isinstance(text, str):
        return False
    return text.startswith(("42", "40")) if incoming else text.startswith("42")


class ObservabilityMiddleware:
    """Wraps an ASGI app; see the module docstring."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope.get("type")
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Any, send: Any) -> None:
        rid = _incoming_id(scope)
        token = request_id.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        path = scope.get("path", "")
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = route_of(path)
            metrics.HTTP_REQUESTS.labels(
                method=scope.get("method", ""), route=route, status=str(status)
            ).inc()
            log.log(
                logging.DEBUG if path in _QUIET else logging.INFO,
                "%s %s %s",
                scope.get("method"),
                path,
                status,
                extra={
                    "status": status,
                    "route": route,
                    "ms": round((time.perf_counter() - start) * 1000, 1),
                },
            )
            request_id.reset(token)

    async def _websocket(self, scope: Scope, receive: Any, send: Any) -> None:
        rid = _incoming_id(scope)
        token = request_id.set(rid)
        counts = {"in": 0, "out": 0}

        async def receive_wrapper() -> dict[str, Any]:
            message = await receive()
            if message.get("type") == "websocket.receive" and _is_event_frame(message, True):
                counts["in"] += 1
                metrics.WS_MESSAGES.labels(direction="in").inc()
            return message

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message.get("type") == "websocket.send" and _is_event_frame(message, False):
                counts["out"] += 1
                metrics.WS_MESSAGES.labels(direction="out").inc()
            await send(message)

        metrics.WS_CONNECTIONS.inc()
        log.info("websocket open %s", scope.get("path"), extra={"route": "event"})
        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            metrics.WS_CONNECTIONS.dec()
            log.info(
                "websocket closed %s",
                scope.get("path"),
                extra={"route": "event", "events_in": counts["in"], "events_out": counts["out"]},
            )
            request_id.reset(token)

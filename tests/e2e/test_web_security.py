"""Web hardening of the running app: the websocket and the API answer only the configured origin."""

from __future__ import annotations

import base64
import os
import socket

import httpx

EVIL = "http://evil.example"


def _ws_handshake(app, origin: str) -> int:
    """The status line of a raw websocket upgrade to the event endpoint, sent with `origin`."""
    host, port = "127.0.0.1", app.port
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request.encode())
        status = sock.recv(4096).split(b"\r\n", 1)[0].decode()
    if status.split()[1] != "101":
        return int(status.split()[1])
    return 101


def test_websocket_from_a_foreign_origin_is_refused(app):
    assert _ws_handshake(app, app.url) == 101
    assert _ws_handshake(app, EVIL) in (400, 403)


def test_api_does_not_grant_cors_to_a_foreign_origin(app):
    preflight = httpx.options(
        app.url + "/api/v1/auth/login",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.headers.get("access-control-allow-origin") not in (EVIL, "*")
    plain = httpx.get(app.url + "/api/health", headers={"Origin": EVIL}, timeout=10)
    assert plain.headers.get("access-control-allow-origin") not in (EVIL, "*")


def test_hostile_api_input_gets_4xx_not_500(app):
    cases = [
        (
            "POST",
            "/api/v1/auth/login",
            {"content": b"\xff\xfe garbage", "headers": {"Content-Type": "application/json"}},
        ),
        ("POST", "/api/v1/auth/login", {"data": {"code": "1" * 10_000}}),
        ("POST", "/api/v1/auth/login", {"data": {"code": "' OR 1=1 --"}}),
        (
            "GET",
            "/api/v1/auth/verify",
            {"headers": {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}},
        ),
        ("GET", "/api/v1/auth/verify", {"headers": {"Cookie": "chatapp_session=" + "A" * 5000}}),
        ("POST", "/api/v1/wx/portal/wxdev0000000000000", {"content": b"<xml>" * 20_000}),
        (
            "GET",
            "/api/v1/wx/portal/wxdev0000000000000?signature=x&timestamp=y&nonce=z&echostr=e",
            {},
        ),
    ]
    for method, path, kwargs in cases:
        response = httpx.request(method, app.url + path, timeout=10, **kwargs)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:200])

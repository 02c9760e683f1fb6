"""The client address for per-IP limits: X-Forwarded-For only behind trusted proxies."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from chatapp.api.routes import client_ip


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.2"),  # direct: a client-sent header is ignored
        (1, None, "10.0.0.2"),
        (1, "203.0.113.7", "203.0.113.7"),  # behind nginx: the address nginx saw
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a spoofed first entry is ignored
        (2, "203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.2"),  # fewer entries than hops: not trusted
    ],
)
def test_client_ip(hops, forwarded, expected):
    assert client_ip(_request("10.0.0.2", forwarded), hops) == expected

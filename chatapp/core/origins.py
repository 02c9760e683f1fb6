"""Which web origins may open the app's websocket: its own page, wherever it was opened from.

A page served by chatapp connects back to the host and port it came from, whatever name or address
that is: `localhost`, `127.0.0.1`, the server's LAN address from a laptop, or the public name behind
a proxy. So the socket accepts an `Origin` whose host and port equal the request's `Host` (same
origin), and behind our own proxies the host they forwarded (`X-Forwarded-Host`, read only when
`TRUSTED_PROXY_HOPS` says there are such proxies, like client addresses). `CORS_ORIGINS` (or
`PUBLIC_URL`) adds origins; any other site's page is refused: a foreign page must never drive a
logged-in user's socket (the session cookie travels with the handshake).

Reflex hands the socket server a fixed list; engine.io also takes a callable, which is what
`origin_checker` builds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _origin_key(origin: str) -> tuple[str, int] | None:
    """(host, port) of an origin like `https://chat.example.com:8443`; None when malformed."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    return parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def _host_key(host: str, scheme: str) -> tuple[str, int] | None:
    """(host, port) of a `Host` header value, the port defaulting to the origin's scheme's."""
    return _origin_key(f"{scheme}://{host.strip()}") if host.strip() else None


def is_allowed_origin(
    origin: str,
    *,
    host: str,
    forwarded_host: str = "",
    trusted_proxy_hops: int = 0,
    allowed: Iterable[str] = (),
) -> bool:
    """Whether a page of `origin` may open the websocket of a request with these headers.

    Args:
        origin: the request's `Origin` header.
        host: its `Host` header.
        forwarded_host: its `X-Forwarded-Host` header (comma-separated when several proxies).
        trusted_proxy_hops: how many of our own proxies stand in front (TRUSTED_PROXY_HOPS).
        allowed: origins allowed besides the page's own (CORS_ORIGINS or PUBLIC_URL).

    Returns:
        True for the same origin (or the origin our proxies forwarded) and for listed origins.
    """
    key = _origin_key(origin)
    if key is None:
        return False
    if any(_origin_key(a) == key for a in allowed):
        return True
    scheme = urlsplit(origin.strip()).scheme.lower()
    hosts = [host]
    if trusted_proxy_hops > 0 and forwarded_host:
        # Like X-Forwarded-For: the value the last trusted proxy set (earlier ones are the
        # client's to choose).
        values = [v.strip() for v in forwarded_host.split(",") if v.strip()]
        if len(values) >= trusted_proxy_hops:
            hosts.append(values[-trusted_proxy_hops])
    return any(_host_key(h, scheme) == key for h in hosts if h)


def origin_checker(
    allowed: Iterable[str], trusted_proxy_hops: int
) -> Callable[[str, Mapping[str, Any]], bool]:
    """An engine.io `cors_allowed_origins` callable (called with the Origin and the WSGI-style
    environ of the handshake)."""
    listed = tuple(a for a in allowed if a and a != "*")

    def check(origin: str, environ: Mapping[str, Any]) -> bool:
        return is_allowed_origin(
            origin or "",
            host=str(environ.get("HTTP_HOST", "")),
            forwarded_host=str(environ.get("HTTP_X_FORWARDED_HOST", "")),
            trusted_proxy_hops=trusted_proxy_hops,
            allowed=listed,
        )

    return check

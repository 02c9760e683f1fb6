"""The websocket's origin rule: the page's own origin from any address, listed origins, nothing else."""

from __future__ import annotations

import pytest

from chatapp.core.origins import is_allowed_origin, origin_checker


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://localhost:3000", "localhost:3000", True),
        ("http://127.0.0.1:3000", "127.0.0.1:3000", True),
        ("http://127.0.0.2:3000", "127.0.0.2:3000", True),
        ("http://192.168.1.20:3000", "192.168.1.20:3000", True),
        ("https://chat.example.com", "chat.example.com", True),
        ("https://chat.example.com", "chat.example.com:443", True),
        ("http://CHAT.example.com:80", "chat.example.com", True),
        ("http://[::1]:3000", "[::1]:3000", True),
        # Another site, another port, another host: refused.
        ("http://evil.example:3000", "127.0.0.1:3000", False),
        ("http://127.0.0.1:3001", "127.0.0.1:3000", False),
        ("http://localhost:3000", "127.0.0.1:3000", False),
        ("https://chat.example.com", "chat.example.com:8443", False),
        ("null", "127.0.0.1:3000", False),
        ("", "127.0.0.1:3000", False),
        ("http://127.0.0.1:3000/path", "127.0.0.1:3000", False),
        ("javascript://127.0.0.1:3000", "127.0.0.1:3000", False),
        ("http://127.0.0.1:99999", "127.0.0.1:99999", False),
    ],
)
def test_same_origin_from_any_address(origin: str, host: str, allowed: bool):
    assert is_allowed_origin(origin, host=host) is allowed


def test_listed_origins_are_allowed_besides_the_page():
    listed = ("https://app.example.com", "http://localhost:5173")
    assert is_allowed_origin("http://localhost:5173", host="127.0.0.1:3000", allowed=listed)
    assert is_allowed_origin("https://app.example.com:443", host="x:1", allowed=listed)
    assert not is_allowed_origin("https://other.example.com", host="x:1", allowed=listed)


def test_forwarded_host_counts_only_behind_trusted_proxies():
    # nginx sends Host without the port and X-Forwarded-Host with it.
    kw = {"host": "localhost", "forwarded_host": "localhost:8443"}
    assert not is_allowed_origin("https://localhost:8443", **kw)
    assert is_allowed_origin("https://localhost:8443", trusted_proxy_hops=1, **kw)
    # A client-supplied value in front of our proxy's is not believed.
    spoofed = {"host": "localhost", "forwarded_host": "evil.example, localhost:8443"}
    assert not is_allowed_origin("https://evil.example", trusted_proxy_hops=1, **spoofed)
    assert is_allowed_origin("https://localhost:8443", trusted_proxy_hops=1, **spoofed)


def test_checker_reads_the_handshake_environ():
    check = origin_checker(("*", "https://app.example.com"), trusted_proxy_hops=0)
    assert check("http://127.0.0.2:3000", {"HTTP_HOST": "127.0.0.2:3000"})
    assert check("https://app.example.com", {"HTTP_HOST": "127.0.0.2:3000"})
    # "*" in CORS_ORIGINS is not a way to allow every site's page.
    assert not check("http://evil.example", {"HTTP_HOST": "127.0.0.2:3000"})

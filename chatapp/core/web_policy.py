"""What the browser may load and embed: the security headers every response carries.

`security_headers(settings)` are sent by the app itself on every HTTP response (pages, build files,
API, health), so a deployment without the shipped nginx is protected as well:

- `Content-Security-Policy`: scripts, styles, fonts and connections from this origin only (Reflex
  needs 'unsafe-inline' for its bootstrap scripts and injected styles, and 'unsafe-eval' for the
  scripts the server sends over the websocket); no plugins, no `<base>`, forms post here only,
  and no page may frame ours (`frame-ancestors 'none'`).
- `img-src`: this origin, `data:` and `blob:`, the hosts the operator allows
  (`IMAGE_HOSTS_ALLOW`), and the WeChat QR image's host when the login page shows one. An image
  a model writes into an answer, or a role's avatar, from any other host is not loaded: the
  page shows a placeholder instead (assets/image_policy.jsx), and this policy blocks it even if
  the page tried. A prompt-injected model can no longer send conversation text out in an image URL.
- `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy:
  strict-origin-when-cross-origin`, and a `Permissions-Policy` turning off camera, microphone and
  geolocation.

`IMAGE_HOSTS_ALLOW` entries are CSP host sources: `host`, `*.host` (sub-domains only), with an
optional `http://` or `https://` and an optional `:port` or `:*`. Without a port only the scheme's
default port matches (as in CSP). Anything else is refused at start-up: the entries are copied
into a header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:  # config validates IMAGE_HOSTS_ALLOW with `parse_image_hosts`
    from chatapp.core.config import Settings

_HOST_SOURCE = re.compile(
    r"^(?:(?P<scheme>https?)://)?(?P<host>(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::(?P<port>\*|[0-9]{1,5}))?$"
)
_WECHAT_QR_DEFAULT = "https://mp.weixin.qq.com"


def parse_image_hosts(entries: Iterable[str]) -> tuple[str, ...]:
    """Validated, lower-cased `IMAGE_HOSTS_ALLOW` entries.

    Raises:
        ValueError: an entry is not a host source (a path, a quote, a space, a bare `*`...).
    """
    hosts: list[str] = []
    for raw in entries:
        entry = raw.strip().lower().rstrip("/")
        if not entry:
            continue
        match = _HOST_SOURCE.fullmatch(entry)
        port = match and match.group("port")
        if not match or (port and port != "*" and not 0 < int(port) < 65536):
            raise ValueError(f"not a host (host, *.host, optional scheme and :port): {raw!r}")
        hosts.append(entry)
    return tuple(dict.fromkeys(hosts))


def _origin(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL, else None."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.raw_host.decode('ascii')}{port}"


def image_sources(settings: Settings) -> list[str]:
    """The `img-src` sources: this origin, data/blob, the allow-list, the WeChat QR host."""
    sources = ["'self'", "data:", "blob:", *settings.image_hosts_allow]
    if settings.wechat_login in ("scan", "both"):
        base = settings.wechat_api_base.rstrip("/")
        # The scan QR comes from mp.weixin.qq.com (or the API base a test points it at).
        qr = _WECHAT_QR_DEFAULT if base == "https://api.weixin.qq.com" else _origin(base)
        if qr:
            sources.append(qr)
    if settings.wechat_qr_image.startswith(("http://", "https://")):
        qr = _origin(settings.wechat_qr_image)
        if qr:
            sources.append(qr)
    return list(dict.fromkeys(sources))


def content_security_policy(settings: Settings) -> str:
    """The policy every response carries (see the module docstring)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
            "style-src 'self' 'unsafe-inline'",
            "img-src " + " ".join(image_sources(settings)),
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers added to every HTTP response, as ASGI (name, value) byte pairs."""
    headers = {
        "content-security-policy": content_security_policy(settings),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "strict-origin-when-cross-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
    }
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class SecurityHeadersMiddleware:
    """ASGI middleware: adds `security_headers` to every HTTP response (replacing any the inner
    app set under the same names, so there is one policy, not two to intersect)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self._headers = security_headers(settings)
        self._names = {name for name, _ in self._headers}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v) for k, v in message.get("headers") or [] if k.lower() not in self._names
                ]
                message["headers"] = [*kept, *self._headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_config(settings: Settings) -> dict[str, Any]:
    """What the page's scripts need to know of the settings (GET /api/v1/client-config)."""
    return {"image_hosts": list(settings.image_hosts_allow)}

"""The session cookie: set and cleared only by our own HTTP routes, so it can be HttpOnly.

`chatapp_session` holds the session JWT. It is HttpOnly (no script on the page can read it, so an
injected script cannot steal the session), SameSite=Lax, Secure when PUBLIC_URL is https, path `/`,
and lives exactly as long as the JWT (`JWT_TTL_DAYS`): a cookie that outlived its token would only
be sent for nothing. The Reflex state reads it on the server from the websocket's handshake
headers (`read`); nginx `auth_request` and API clients send it to `/api/v1/auth/verify`.
"""

from __future__ import annotations

from starlette.responses import Response

from chatapp.core.config import Settings

NAME = "chatapp_session"


def max_age_s(settings: Settings) -> int:
    """The cookie's Max-Age: the JWT's lifetime in seconds."""
    return settings.jwt_ttl_days * 24 * 3600


def is_secure(settings: Settings) -> bool:
    """Secure exactly when the site is served over https."""
    return settings.public_url.lower().startswith("https://")


def set_on(response: Response, *, settings: Settings, token: str) -> None:
    """Adds the Set-Cookie header carrying `token`."""
    response.set_cookie(
        NAME,
        token,
        max_age=max_age_s(settings),
        path="/",
        secure=is_secure(settings),
        httponly=True,
        samesite="lax",
    )


def clear_on(response: Response, *, settings: Settings) -> None:
    """Adds the Set-Cookie header that removes the cookie."""
    response.delete_cookie(
        NAME, path="/", secure=is_secure(settings), httponly=True, samesite="lax"
    )


def read(cookie_header: str) -> str:
    """The session token in a `Cookie:` header ("" when absent).

    Parsed by hand: `http.cookies.SimpleCookie` drops every cookie of a header when one of them is
    malformed, which another site's cookie on the same host could cause.
    """
    for part in cookie_header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name == NAME:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value
    return ""

"""The open API's own settings, read from the environment once, when the HTTP app is built.

    API_KEY_REQUESTS_PER_MINUTE   calls one key may make per minute (default 60; 0 = no limit)
    API_MAX_BODY_BYTES            the largest request body (default 1 MiB)
    API_CORS_ORIGINS              comma-separated origins allowed to call /v1 from a browser page
                                  (default none: no CORS headers at all)

Kept apart from `chatapp.core.config` because only the `/v1` routes read them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from chatapp.errors import ConfigError

DEFAULT_KEY_REQUESTS_PER_MINUTE = 60
DEFAULT_MAX_BODY_BYTES = 1 << 20
# Below this a normal request (a few messages) would not fit; above it one call could hold a
# worker's memory hostage.
MIN_BODY_BYTES = 4096
MAX_BODY_BYTES = 64 << 20


@dataclass(frozen=True)
class OpenApiSettings:
    """What the `/v1` routes read (see the module docstring)."""

    key_requests_per_minute: int = DEFAULT_KEY_REQUESTS_PER_MINUTE
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    cors_origins: tuple[str, ...] = ()


def load_open_api_settings(environ: Mapping[str, str] | None = None) -> OpenApiSettings:
    """The settings from `environ` (the process's when omitted).

    Raises:
        ConfigError: a number that is not one, or out of its range; an origin that is not a URL.
    """
    env = os.environ if environ is None else environ
    per_minute = _int(
        env, "API_KEY_REQUESTS_PER_MINUTE", DEFAULT_KEY_REQUESTS_PER_MINUTE, 0, 100_000
    )
    body = _int(env, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, MIN_BODY_BYTES, MAX_BODY_BYTES)
    origins = tuple(
        o.strip().rstrip("/") for o in env.get("API_CORS_ORIGINS", "").split(",") if o.strip()
    )
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigError(f"API_CORS_ORIGINS: {origin!r} is not an http(s) origin")
    return OpenApiSettings(per_minute, body, origins)


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be from {lo} to {hi}, got {value}")
    return value

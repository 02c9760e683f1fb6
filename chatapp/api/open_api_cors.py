"""CORS for the open API only: `/v1/…` answers the origins in `API_CORS_ORIGINS` (a browser
page elsewhere calling with a key); every other route of the app never answers another origin.
Without origins configured nothing changes (no CORS headers, a preflight gets 405)."""

from __future__ import annotations

from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class OpenApiCors:
    """CORS for `/v1/…` only, and only for `API_CORS_ORIGINS`: the rest of the app (the pages,
    the session routes) never answers another origin. With no origins configured, it passes
    everything through untouched (no CORS headers)."""

    def __init__(self, app: ASGIApp, *, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors: ASGIApp | None = None
        if origins:
            self.cors = CORSMiddleware(
                app,
                allow_origins=list(origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["authorization", "content-type", "accept-language"],
                allow_credentials=False,
                max_age=600,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.cors is not None and scope["type"] == "http" and _is_open_api(scope):
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _is_open_api(scope: Scope) -> bool:
    path: Any = scope.get("path", "")
    return isinstance(path, str) and path.startswith("/v1/")

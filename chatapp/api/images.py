"""The pictures image models drew, served from the database to their owner only:

    GET /api/v1/images/{id}              the picture (shown inline)
    GET /api/v1/images/{id}?download=1   the same, as a file to save

The session comes from the session cookie (what an `<img>` in the page sends), or `Authorization:
Bearer <session JWT>`. Another user's id is a 404, exactly like an id that does not exist, so ids
cannot be probed. A picture never changes: it is cached a year, privately (never by a shared
proxy); `nosniff` keeps browsers from reading it as anything but the image type we checked.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from starlette.responses import Response

from chatapp.api.auth import bearer_or_cookie
from chatapp.api.openai_compat import caller_language, error_response
from chatapp.api.openai_frames import api_text
from chatapp.auth import sessions
from chatapp.chat.images import get_image
from chatapp.core.config import Settings
from chatapp.core.db import session_scope
from chatapp.errors import AuthError

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
CACHE_CONTROL = "private, max-age=31536000, immutable"


def add_image_routes(app: FastAPI, settings: Settings) -> None:
    """Adds the route listed in the module docstring."""

    def read(token: str, image_id: str) -> tuple[bytes, str] | None:
        with session_scope() as session:
            user_id = sessions.verify_session(session, settings=settings, token=token).user_id
            row = get_image(session, user_id=user_id, image_id=image_id)
            return None if row is None else (row.data, row.mime)

    @app.get("/api/v1/images/{image_id}", include_in_schema=False)
    async def image(image_id: str, request: Request, download: int = 0) -> Response:
        lang = caller_language(request)
        try:
            found = await asyncio.to_thread(read, bearer_or_cookie(request), image_id[:32])
        except AuthError:
            return error_response(
                401, api_text("session", lang), type_="invalid_request_error", code="no_session"
            )
        if found is None:
            return error_response(
                404,
                api_text("image_not_found", lang),
                type_="invalid_request_error",
                code="not_found",
            )
        data, mime = found
        name = f"chatapp-{image_id}.{_EXTENSIONS.get(mime, 'png')}"
        disposition = "attachment" if download else "inline"
        return Response(
            data,
            media_type=mime,
            headers={
                "Cache-Control": CACHE_CONTROL,
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'{disposition}; filename="{name}"',
            },
        )

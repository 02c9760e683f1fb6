"""Open API keys over HTTP, for scripts, with the user's session (as `Authorization: Bearer
<session JWT>` or the session cookie):

    POST   /api/v1/keys        form or JSON `name` → {"id", "key", "name"} (the key shown once)
    GET    /api/v1/keys        {"data": [{"id", "name", "prefix", "created_at", "last_used_at",
                               "requests", "prompt_tokens", "completion_tokens"}]}
    DELETE /api/v1/keys/{id}   {"id", "revoked": true}; 404 when it is not the user's

Errors are OpenAI-shaped (`{"error": {"message", "type", "param", "code"}}`) in the caller's
`Accept-Language`. A key cannot manage keys: only a session can, so a leaked key cannot mint
more. Writes from another site are refused (`Sec-Fetch-Site`), as for the login handoff.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from chatapp.api.auth import bearer_or_cookie
from chatapp.api.forms import BadForm, read_form
from chatapp.api.openai_compat import caller_language, error_response
from chatapp.api.openai_frames import api_text
from chatapp.auth import api_keys, sessions
from chatapp.core.config import Settings
from chatapp.core.db import session_scope
from chatapp.errors import AuthError, InvalidInput
from chatapp.models import ApiKey


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def key_item(row: ApiKey) -> dict[str, Any]:
    """What a list shows of a key (never its hash)."""
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": _iso(row.created_at),
        "last_used_at": _iso(row.last_used_at),
        "requests": row.requests,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
    }


def add_key_routes(app: FastAPI, settings: Settings) -> None:
    """Adds the routes listed in the module docstring."""

    def user_of(token: str) -> int:
        with session_scope() as session:
            return sessions.verify_session(session, settings=settings, token=token).user_id

    async def session_user(request: Request, lang: str) -> int | Response:
        try:
            return await asyncio.to_thread(user_of, bearer_or_cookie(request))
        except AuthError:
            return error_response(
                401, api_text("session", lang), type_="invalid_request_error", code="no_session"
            )

    def cross_site(request: Request, lang: str) -> Response | None:
        if request.headers.get("sec-fetch-site", "") in {"cross-site", "same-site"}:
            return error_response(
                403, api_text("cross_site", lang), type_="permission_error", code="cross_site"
            )
        return None

    def create(user_id: int, name: str) -> tuple[ApiKey, str]:
        with session_scope() as session:
            row, secret = api_keys.create_key(session, user_id=user_id, name=name)
            session.refresh(row)
            return row, secret

    def listing(user_id: int) -> list[dict[str, Any]]:
        with session_scope() as session:
            return [key_item(r) for r in api_keys.list_keys(session, user_id=user_id)]

    def revoke(user_id: int, key_id: int) -> bool:
        with session_scope() as session:
            return api_keys.revoke_key(session, user_id=user_id, key_id=key_id)

    @app.post("/api/v1/keys")
    async def create_key(request: Request) -> Response:
        lang = caller_language(request)
        refused = cross_site(request, lang)
        if refused is not None:
            return refused
        user = await session_user(request, lang)
        if isinstance(user, Response):
            return user
        try:
            form = await read_form(request)
            row, secret = await asyncio.to_thread(create, user, form.get("name", ""))
        except BadForm:
            return error_response(
                400, api_text("bad_form", lang), type_="invalid_request_error", code="bad_form"
            )
        except InvalidInput as exc:
            message = api_text(exc.reason, lang, n=exc.detail)
            return error_response(
                400, message, type_="invalid_request_error", code=exc.reason, param="name"
            )
        return JSONResponse({"id": row.id, "key": secret, "name": row.name}, status_code=201)

    @app.get("/api/v1/keys")
    async def list_keys(request: Request) -> Response:
        lang = caller_language(request)
        user = await session_user(request, lang)
        if isinstance(user, Response):
            return user
        return JSONResponse({"data": await asyncio.to_thread(listing, user)})

    @app.delete("/api/v1/keys/{key_id}")
    async def revoke_key(key_id: str, request: Request) -> Response:
        lang = caller_language(request)
        refused = cross_site(request, lang)
        if refused is not None:
            return refused
        user = await session_user(request, lang)
        if isinstance(user, Response):
            return user
        if not key_id.isdigit() or not await asyncio.to_thread(revoke, user, int(key_id)):
            return error_response(
                404,
                api_text("key_not_found", lang),
                type_="invalid_request_error",
                code="key_not_found",
            )
        return JSONResponse({"id": int(key_id), "revoked": True})

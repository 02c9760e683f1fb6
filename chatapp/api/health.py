"""Readiness: `/api/health` answers 200 when the database answers and is migrated to head, and
Redis (when configured) answers; 503 otherwise. Liveness is Reflex's own `/ping`."""

from __future__ import annotations

import asyncio
import functools

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from chatapp.core.config import Settings
from chatapp.core.db import get_engine


@functools.cache
def _head() -> str | None:
    from chatapp.server.migrate import head_revision

    return head_revision()


def _db_checks() -> dict[str, bool]:
    """Database reachable, and at the migration head (an old schema must not take traffic)."""
    from chatapp.server.migrate import current_revision

    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                migrated = current_revision(conn) == _head()
            except Exception:
                migrated = False
        return {"database": True, "migrations": migrated}
    except Exception:
        return {"database": False, "migrations": False}


async def _redis_ok(url: str) -> bool:
    try:
        import redis.asyncio as aioredis

        client = aioredis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(await client.ping())  # type: ignore[misc]
        finally:
            await client.aclose()
    except Exception:
        return False


def add_health_routes(api: FastAPI, settings: Settings) -> None:
    """Adds `/api/health`."""

    @api.get("/api/health")
    async def health() -> JSONResponse:
        checks = await asyncio.to_thread(_db_checks)
        if settings.redis_url:
            checks["redis"] = await _redis_ok(settings.redis_url)
        ok = all(checks.values())
        return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)

"""HTTP routes mounted on the Reflex app (same port): health now; WeChat and auth routes join here."""

from __future__ import annotations

from fastapi import FastAPI

from chatapp.api_health import add_health_routes
from chatapp.config import Settings


def build_api(settings: Settings) -> FastAPI:
    """The FastAPI app Reflex mounts its own routes under."""
    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    add_health_routes(api, settings)
    return api

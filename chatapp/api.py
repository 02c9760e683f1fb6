"""HTTP routes mounted on the Reflex app (same port): health, metrics; WeChat and auth routes join here."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from chatapp import metrics
from chatapp.api_health import add_health_routes
from chatapp.config import Settings
from chatapp.middleware import ObservabilityMiddleware


def build_api(settings: Settings) -> FastAPI:
    """The FastAPI app Reflex mounts its own routes under.

    Its middleware therefore wraps every request of the instance, `/_event` included.
    """
    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    api.add_middleware(ObservabilityMiddleware)
    add_health_routes(api, settings)

    @api.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return api

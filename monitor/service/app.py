"""The ASGI application of `serve`: the health check at the root, and each feature mounted under its own prefix.

Features are Starlette routes or mounted sub-applications (the clinic visit API under `/api/v1`, see
monitor/service/api); a mounted app keeps its own error pages (JSON for the API). Anything else answers a JSON 404
listing the paths, as the health check always did.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from monitor.service.health import HEALTH_PATHS, NO_STORE, StatusProvider, health_routes


def _paths(routes: Sequence[BaseRoute]) -> list[str]:
    return [route.path for route in routes if isinstance(route, Route | Mount)]


def build_app(health: StatusProvider, mounts: Sequence[BaseRoute] = ()) -> Starlette:
    """The service: `HEALTH_PATHS` answered by `health()`, then `mounts` (e.g. `Mount("/api/v1", app=...)`)."""
    routes: list[BaseRoute] = [*health_routes(health), *mounts]
    paths = sorted({*HEALTH_PATHS, *_paths(mounts)})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        status = "not found" if exc.status_code == 404 else exc.detail
        return JSONResponse(
            {"status": status, "paths": paths}, exc.status_code, headers={**NO_STORE, **(exc.headers or {})}
        )

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})

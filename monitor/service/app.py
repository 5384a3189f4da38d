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

    prefixes = [route.path for route in mounts if isinstance(route, Mount)]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = {**NO_STORE, **(exc.headers or {})}
        path = request.url.path
        mounted = next((p for p in prefixes if path.startswith(p + "/")), None)
        if mounted is not None:  # a path no route of that feature matches (e.g. a line break in an ID): its shape
            message = f"no such path under {mounted} (a segment may hold characters no route accepts)"
            return JSONResponse({"error": "not_found", "message": message}, exc.status_code, headers=headers)
        status = "not found" if exc.status_code == 404 else exc.detail
        return JSONResponse({"status": status, "paths": paths}, exc.status_code, headers=headers)

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})

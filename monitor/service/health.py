"""The health endpoint of `serve`: `GET /healthz` (or `/health`, and HEAD) answers the monitor's status as JSON.

200 while the last analysis run succeeded, else 503; never cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HEALTH_PATHS = ("/healthz", "/health")

StatusProvider = Callable[[], tuple[int, dict[str, Any]]]

NO_STORE = {"Cache-Control": "no-store"}


def health_routes(provider: StatusProvider) -> list[Route]:
    """`GET`/`HEAD` routes answering `provider()` → (status code, JSON body) on each of `HEALTH_PATHS`."""

    async def health(request: Request) -> Response:
        status, body = provider()
        return JSONResponse(body, status_code=status, headers=NO_STORE)

    return [Route(path, health, methods=["GET"], name=f"health{path.replace('/', '_')}") for path in HEALTH_PATHS]

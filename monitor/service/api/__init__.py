"""The clinic API of `serve` under `/api/v1`: record treatment visits, read them and the treatment response.

`clinic_api(...)` builds the Starlette app that `serve` mounts at `PREFIX` (monitor/service/app.py). Its OpenAPI
document (monitor/service/api/openapi.py) is public at `/api/v1/openapi.json`; every other path needs the clinic's
bearer token (monitor/service/api/auth.py). Without a token configured the API answers 503 `api_off`.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from ingest.timeline import wall_clock_ms
from monitor.service.api.auth import BearerAuth
from monitor.service.api.errors import EXCEPTION_HANDLERS
from monitor.service.api.openapi import PREFIX, openapi_document
from monitor.service.api.routes import VisitRoutes
from monitor.service.shared_store import SharedStore

__all__ = ["PREFIX", "clinic_api", "clinic_api_mount"]


def clinic_api(
    stores: SharedStore,
    auth: BearerAuth | None,
    *,
    clock_ms: Callable[[], int] = wall_clock_ms,
    on_visit: Callable[[], None] = lambda: None,
) -> Starlette:
    """The API app (paths relative to `PREFIX`); `clock_ms` is the server's clock for the future-time check;
    `on_visit()` runs after each visit written."""
    routes = VisitRoutes(stores, auth, clock_ms, on_visit)
    document = openapi_document()

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    return Starlette(
        routes=[
            Route("/openapi.json", openapi, methods=["GET"]),
            Route("/visits", routes.record_visit, methods=["POST"]),
            Route("/athletes/{athlete}/visits", routes.list_visits, methods=["GET"]),
            Route("/athletes/{athlete}/response", routes.response, methods=["GET"]),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )


def clinic_api_mount(
    stores: SharedStore,
    auth: BearerAuth | None,
    *,
    clock_ms: Callable[[], int] = wall_clock_ms,
    on_visit: Callable[[], None] = lambda: None,
) -> Mount:
    """`clinic_api` mounted at `/api/v1`, for `build_app(health, [mount])`."""
    return Mount(PREFIX, app=clinic_api(stores, auth, clock_ms=clock_ms, on_visit=on_visit))

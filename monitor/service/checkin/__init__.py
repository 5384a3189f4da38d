"""The athlete check-in of `serve` under `/checkin`: session RPE, morning wellness with a soreness body map, watch-file
uploads and the athlete's last 14 days, on the phone, without an app or a password.

`checkin_app(...)` builds the Starlette app that `serve` mounts at `PREFIX` (monitor/service/app.py), next to the
clinic API. An athlete opens `PREFIX/TOKEN/` from the personal link `recovery-monitor athlete link ID` printed;
a therapist opens `PREFIX/clinic/ID/` read-only with the clinic API's bearer token. Pages are server-rendered
HTML (monitor/service/checkin/templates) with one small script for the body map; every form also works without it.
Access rules: monitor/service/checkin/access.py; the order of checks: monitor/service/checkin/routes.py.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from ingest.timeline import wall_clock_ms
from monitor.service.api.auth import BearerAuth
from monitor.service.checkin.access import RateLimiter
from monitor.service.checkin.pages import Settings
from monitor.service.checkin.render import PREFIX, error_page, static_file
from monitor.service.checkin.routes import CheckinRoutes
from monitor.service.shared_store import SharedStore

__all__ = ["PREFIX", "Settings", "checkin_app", "checkin_mount"]


def checkin_app(
    stores: SharedStore,
    auth: BearerAuth | None,
    *,
    clock_ms: Callable[[], int] = wall_clock_ms,
    limiter: RateLimiter | None = None,
    settings: Settings | None = None,
) -> Starlette:
    """The check-in app (paths relative to `PREFIX`); ``clock_ms`` stamps check-ins, ``limiter`` is the per-link
    rate (default 10 submissions a minute)."""
    routes = CheckinRoutes(stores, auth, clock_ms, limiter or RateLimiter(), settings or Settings())

    async def static(request: Request) -> Response:
        return static_file(request.path_params["name"])

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_page(exc.status_code, "Nothing here." if exc.status_code == 404 else str(exc.detail))

    async def internal_error(request: Request, exc: Exception) -> Response:
        return error_page(500, "Something went wrong on the server. Please try again later.")

    return Starlette(
        routes=[
            Route("/static/{name}", static, methods=["GET"]),
            Route("/clinic/{athlete}/", routes.clinic_page, methods=["GET"]),
            Route("/clinic/{athlete}/{page}", routes.clinic_page, methods=["GET"]),
            Route("/clinic/{athlete}/{page}", routes.clinic_submit, methods=["POST"]),
            Route("/{token}/", routes.link_page, methods=["GET"]),
            Route("/{token}/{page}", routes.link_page, methods=["GET"]),
            Route("/{token}/{page}", routes.link_submit, methods=["POST"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )


def checkin_mount(
    stores: SharedStore,
    auth: BearerAuth | None,
    *,
    clock_ms: Callable[[], int] = wall_clock_ms,
    limiter: RateLimiter | None = None,
    settings: Settings | None = None,
) -> Mount:
    """`checkin_app` mounted at `/checkin`, for `build_app(health, [...])`."""
    return Mount(PREFIX, app=checkin_app(stores, auth, clock_ms=clock_ms, limiter=limiter, settings=settings))

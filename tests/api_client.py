"""A clinic API under test: the real Starlette app on uvicorn (port 0, in a thread) over a real store, and an HTTP
client whose every request and response is checked against the OpenAPI document the server publishes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug import Response as WerkzeugResponse
from werkzeug.test import EnvironBuilder

from ingest.model import MEASUREMENTS, READINESS
from ingest.store.base import Store
from monitor.service.api import clinic_api_mount
from monitor.service.api.auth import BearerAuth
from monitor.service.app import build_app
from monitor.service.server import WebServer
from monitor.service.shared_store import SharedStore

TOKEN = "clinic-test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = dt.datetime(2025, 5, 1, 12, 0, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)
ATHLETE = "A01"


def seed(store: Store, athlete: str = ATHLETE) -> None:
    """One morning HRV reading, so that the store knows the athlete."""
    store.write([READINESS.batch({"athlete": athlete}, [NOW_MS - 86_400_000], {"rmssd_ms": [55.0], "ln_rmssd": [4.0]})])


def points(store: Store) -> dict[str, int]:
    """Points per measurement: what "nothing was written" compares."""
    return {m.name: store.count(m.name) for m in MEASUREMENTS}


@contextmanager
def running_api(
    store_url: str, auth: BearerAuth | None = None, now_ms: int = NOW_MS, store_timeout_s: float = 10.0
) -> Iterator[WebServer]:
    """`serve`'s app (health and the clinic API) on a free loopback port, with the server clock at `now_ms`."""
    stores = SharedStore(store_url, timeout_s=store_timeout_s)
    app = build_app(lambda: (200, {"status": "ok"}), [clinic_api_mount(stores, auth, clock_ms=lambda: now_ms)])
    try:
        with WebServer("127.0.0.1", 0, app) as server:
            yield server
    finally:
        stores.close()


def _werkzeug_request(request: httpx.Request, body: bytes) -> Any:
    builder = EnvironBuilder(
        method=request.method,
        base_url=f"{request.url.scheme}://{request.url.netloc.decode()}",
        path=request.url.path,
        query_string=request.url.query.decode(),
        headers=[(k, v) for k, v in request.headers.items() if k.lower() != "content-length"],
        data=body,
    )
    return builder.get_request()


class Client:
    """httpx against the running API; `call` checks the exchange against the served OpenAPI document."""

    def __init__(self, server: WebServer) -> None:
        self.base = server.url
        self.http = httpx.Client(base_url=server.url, timeout=10.0)
        self.document = self.http.get("/api/v1/openapi.json").json()
        self.openapi = OpenAPI.from_dict(self.document)
        self.exchanges = 0

    def close(self) -> None:
        self.http.close()

    def call(
        self, method: str, path: str, *, valid_request: bool = True, sent: bytes | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send; the response must conform to the document, and the request must be valid by it exactly when
        `valid_request` (the server and the document agree on what is refused). `sent`: the body of a streamed
        request, which httpx cannot read back."""
        response = self.http.request(method, path, **kwargs)
        body = sent if sent is not None else response.request.read()
        request = WerkzeugOpenAPIRequest(_werkzeug_request(response.request, body))
        request_errors = self.openapi.unmarshal_request(request).errors
        assert (not request_errors) == valid_request, (method, path, request_errors)
        answer = WerkzeugResponse(response.content, status=response.status_code, headers=list(response.headers.items()))
        self.openapi.validate_response(request, WerkzeugOpenAPIResponse(answer))
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        self.exchanges += 1
        return response

    def post_visit(self, body: dict[str, Any], *, headers: dict[str, str] = AUTH, **kwargs: Any) -> httpx.Response:
        return self.call("POST", "/api/v1/visits", json=body, headers=headers, **kwargs)

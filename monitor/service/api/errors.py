"""Errors of the clinic API: every one is JSON `{"error": CODE, "message": ONE LINE, ...}` (schema `Error` in the
OpenAPI document), never a traceback, never an echo of a token."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.service.health import NO_STORE


class ApiError(Exception):
    """An answer other than success: HTTP `status`, a stable `code`, a one-line `message` and extra JSON fields."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, " ".join(message.split())
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


def error_response(exc: ApiError) -> Response:
    return JSONResponse(exc.body(), exc.status, headers={**NO_STORE, **exc.headers})


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no route, wrong method) in the API's JSON shape."""
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return error_response(ApiError(exc.status_code, code, message, headers=dict(exc.headers or {})))


async def internal_error(request: Request, exc: Exception) -> Response:
    """A bug: answered as a JSON 500 without details; Starlette re-raises it and uvicorn logs the traceback."""
    return error_response(ApiError(500, "internal_error", "internal error; the server log has the details"))


EXCEPTION_HANDLERS = {ApiError: api_error, HTTPException: http_error, Exception: internal_error}

"""Request bodies of the clinic API: size-capped, JSON, validated against the OpenAPI document's schema.

The cap holds twice: a `Content-Length` over it is refused before a byte is read, and a body sent without one
(chunked) is counted while it streams and refused as soon as it passes the cap, so no request makes the server
hold more than `limit` bytes. Before answering 413 the server reads and drops up to `DRAIN_BYTES` of the body: a
client still sending when the server closes gets a connection reset instead of the 413 (the kernel discards
unread data with a RST), so bodies up to a few MiB get their JSON answer; larger ones are cut off at once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from starlette.requests import Request

from ingest.regions import REGION_NAMES, UnknownRegionError
from monitor.service.api.errors import ApiError
from monitor.service.api.openapi import MAX_BODY_BYTES

_MAX_ERRORS = 10
DRAIN_BYTES = 4 * 1024 * 1024


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "payload_too_large", f"request body over the limit of {limit} bytes", headers={"Connection": "close"}
    )


async def _drain(chunks: AsyncIterator[bytes], size: int) -> None:
    """Read and drop the rest of the body while at most `DRAIN_BYTES` have come in all told."""
    async for chunk in chunks:
        size += len(chunk)
        if size > DRAIN_BYTES:
            return


async def read_capped(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, or ApiError 413 once it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")  # the HTTP server has checked it is a number
    stream = request.stream()
    if declared.isdigit() and int(declared) > limit:
        if int(declared) <= DRAIN_BYTES:
            await _drain(stream, 0)
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            await _drain(stream, size)
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _json_path(error: ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(body)"


def _unknown_regions(errors: list[ValidationError], body: Any) -> ApiError | None:
    """The 422 of an unknown region, naming it and listing the vocabulary (ingest/regions.py's message)."""
    unknown = sorted(
        {
            str(error.instance)
            for error in errors
            if error.validator == "enum" and len(error.absolute_path) == 2 and error.absolute_path[0] == "regions"
        }
    )
    if not unknown:
        return None
    exc = UnknownRegionError(unknown)
    return ApiError(422, "unknown_region", str(exc), unknown=list(exc.unknown), allowed=list(REGION_NAMES))


class JsonBody:
    """Parses and validates request bodies against one JSON Schema of the OpenAPI document."""

    def __init__(self, schema: dict[str, Any], limit: int = MAX_BODY_BYTES) -> None:
        Draft202012Validator.check_schema(schema)
        self.validator = Draft202012Validator(schema)  # formats (date-time) are checked by the route itself
        self.limit = limit

    async def read(self, request: Request) -> Any:
        """The request's JSON body, valid against the schema; ApiError 413, 415 or 422 otherwise."""
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise ApiError(
                415, "unsupported_media_type", f"Content-Type {media_type or '(none)'!r}: send application/json"
            )
        raw = await read_capped(request, self.limit)
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(422, "malformed_json", f"request body is not JSON: {exc}") from None
        except RecursionError:
            raise ApiError(422, "malformed_json", "request body is not JSON: nested too deeply") from None
        errors = sorted(self.validator.iter_errors(body), key=lambda e: (list(map(str, e.absolute_path)), e.message))
        if not errors:
            return body
        if (region_error := _unknown_regions(errors, body)) is not None:
            raise region_error
        listed = [{"path": _json_path(e), "message": e.message[:200]} for e in errors[:_MAX_ERRORS]]
        first = listed[0]
        raise ApiError(422, "invalid_body", f"{first['path']}: {first['message']}", errors=listed)

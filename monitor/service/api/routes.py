"""The endpoints of the clinic API (paths and schemas: monitor/service/api/openapi.py).

Every request is checked in this order, and the first failure answers: the bearer token (401, or 503 while no
token is configured), the body's size, media type, JSON and schema (413, 415, 422), the visit's own rules (422:
time with offset, not more than a day ahead), then the store (404 unknown athlete or visit, 409 a visit of the
same athlete and second stored with other values, 503 store unreachable). Recording follows `recovery-monitor
visit add`: the same visit again changes nothing (200), values the stored visit lacks are filled in (200), other
values are refused (409; the API has no `--replace`). Only a request that passed all of them writes, so an error never
leaves anything behind. Store calls run in worker threads, one at a time (`SharedStore`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ingest.ids import PSEUDONYM_RULE, is_pseudonymous_id
from ingest.store.base import Store
from ingest.timeline import iso_utc, parse_iso_ms
from ingest.visits import (
    MAX_AHEAD_API_MS,
    FutureVisitError,
    UnknownVisitRegionError,
    Visit,
    VisitError,
    changed_fields,
    describe_visit,
    find_visit,
    merge_visit,
    new_visit,
    read_visits,
    visit_document,
    write_visits,
)
from monitor.service.api.auth import TOKEN_ENV, TOKEN_FILE_ENV, BearerAuth
from monitor.service.api.body import JsonBody
from monitor.service.api.errors import NO_STORE, ApiError
from monitor.service.api.openapi import VISIT_ID_PATTERN, VISIT_IN
from monitor.service.api.treatment import treatment_response
from monitor.service.shared_store import SharedStore

T = TypeVar("T")
_VISIT_ID = re.compile(VISIT_ID_PATTERN)
_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)\Z", re.IGNORECASE)


def parse_time_ms(text: str, name: str = "at") -> int:
    """An ISO 8601 time with a UTC offset (`Z` or `±HH:MM`) → ms since the epoch; ApiError 422 otherwise.
    The parser is the CLI's (`parse_iso_ms`), but the API insists on the offset: a clinic system's local time
    must not be taken for UTC."""
    if _OFFSET.search(text.strip()):
        with contextlib.suppress(ValueError):
            return parse_iso_ms(text)
    shown = repr(text[:40] + ("…" if len(text) > 40 else ""))
    raise ApiError(
        422,
        "invalid_time",
        f"{name} {shown}: not an ISO 8601 time with a UTC offset (e.g. 2025-05-01T09:30:00+02:00 or …T07:30:00Z)",
    )


def _visit_error(exc: VisitError) -> ApiError:
    if isinstance(exc, UnknownVisitRegionError):
        return ApiError(422, "unknown_region", str(exc), unknown=list(exc.unknown), allowed=list(exc.allowed))
    if isinstance(exc, FutureVisitError):
        return ApiError(422, "future_time", f"{exc}; the API accepts at most {MAX_AHEAD_API_MS // 3_600_000} h ahead")
    return ApiError(422, "invalid_visit", str(exc))


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return JSONResponse(body, status, headers=NO_STORE)


class VisitRoutes:
    """The endpoints over one store, behind one token (`auth` None: the API is off and answers 503)."""

    def __init__(
        self,
        stores: SharedStore,
        auth: BearerAuth | None,
        clock_ms: Callable[[], int],
        on_visit: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_visit()` runs after a visit was written (serve wakes its loop: episode closed, after-care sent)."""
        self.stores, self.auth, self.clock_ms, self.on_visit = stores, auth, clock_ms, on_visit
        self.visit_body = JsonBody(VISIT_IN)

    # -- checks -----------------------------------------------------------------------------------------------

    def authorize(self, request: Request) -> None:
        if self.auth is None:
            raise ApiError(
                503, "api_off", f"the clinic API is off: start serve with {TOKEN_ENV} or {TOKEN_FILE_ENV} set"
            )
        header = request.headers.get("authorization")
        if not self.auth.check(header):
            sent = "invalid_token" if header else None
            message = "wrong bearer token" if header else "missing Authorization: Bearer TOKEN"
            raise ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": self.auth.challenge(sent)})

    @staticmethod
    def athlete_of(request: Request) -> str:
        athlete = request.path_params["athlete"]
        if not is_pseudonymous_id(athlete):
            raise ApiError(422, "invalid_athlete", f"athlete {athlete[:40]!r}: not an athlete ID ({PSEUDONYM_RULE})")
        return athlete

    @staticmethod
    def known(store: Store, athlete: str) -> None:
        if athlete not in store.list_athletes():
            raise ApiError(404, "unknown_athlete", f"athlete {athlete!r}: no data in the store")

    async def in_store(self, work: Callable[[Store], T]) -> T:
        """`work(store)` in a worker thread with the store to itself; StoreError → 503."""
        return await self.stores.run(
            work, lambda exc: ApiError(503, "store_unavailable", f"the store is unavailable: {exc}")
        )

    # -- endpoints --------------------------------------------------------------------------------------------

    async def record_visit(self, request: Request) -> Response:
        self.authorize(request)
        body = await self.visit_body.read(request)
        try:
            visit = new_visit(
                body["athlete"],
                parse_time_ms(body["at"]),
                body["regions"],
                therapist=body.get("therapist"),
                needles=body.get("needles"),
                note=body.get("note"),
                now_ms=self.clock_ms(),
                max_ahead_ms=MAX_AHEAD_API_MS,
            )
        except VisitError as exc:
            raise _visit_error(exc) from None

        def record(store: Store) -> tuple[int, Visit]:
            stored = find_visit(store, visit.visit_id)
            if stored is None:
                self.known(store, visit.athlete)
                write_visits(store, [visit])
                return 201, visit
            if merge_visit(stored, visit) == stored:
                return 200, stored  # the same visit again (optional fields left out keep their values)
            if changed_fields(stored, visit):
                raise ApiError(
                    409,
                    "visit_conflict",
                    f"visit {stored.visit_id} of {stored.athlete} at {iso_utc(stored.at_ms)} is already stored with "
                    f"other values ({describe_visit(stored)}); nothing was written",
                    visit=visit_document(stored),
                )
            write_visits(store, [visit])  # fills in optional fields the stored visit lacks
            return 200, find_visit(store, visit.visit_id) or visit

        status, recorded = await self.in_store(record)
        if status == 201 or recorded != visit:
            self.on_visit()
        return _json(visit_document(recorded), status)

    async def list_visits(self, request: Request) -> Response:
        self.authorize(request)
        athlete = self.athlete_of(request)

        def visits(store: Store) -> list[Visit]:
            self.known(store, athlete)
            return read_visits(store, athlete)

        return _json({"athlete": athlete, "visits": [visit_document(v) for v in await self.in_store(visits)]})

    async def response(self, request: Request) -> Response:
        self.authorize(request)
        athlete = self.athlete_of(request)
        visit_id = request.query_params.get("visit_id")
        if visit_id is not None and not _VISIT_ID.fullmatch(visit_id):
            raise ApiError(422, "invalid_visit_id", f"visit_id {visit_id[:40]!r}: expected v- and 12 hex digits")

        def response(store: Store) -> dict[str, Any]:
            self.known(store, athlete)
            if visit_id is not None:
                visit = find_visit(store, visit_id)
                if visit is None or visit.athlete != athlete:
                    raise ApiError(404, "unknown_visit", f"visit {visit_id}: no such visit of athlete {athlete!r}")
            return treatment_response(store, athlete, visit_id)

        return _json(await self.in_store(response))

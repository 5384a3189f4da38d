"""InfluxDB store over the v1-compatible HTTP API (`/ping`, `/write`, `/query` with InfluxQL).

The same calls work on InfluxDB 1.x, 2.x (≥ 2.5, virtual DBRP) and 3.x. Only on a 1.x server is the database
created (`CREATE DATABASE` is idempotent); on 2.x/3.x buckets and databases are provisioned outside.

Reading: `read` returns int64 millisecond times; integer, float and boolean fields become float64 columns
(booleans as 0.0/1.0, integers beyond 2**53 lose precision) with NaN where a row has no value; string fields
become object arrays with None. Use `query` for exact raw values.

The token is sent as `Authorization: Token <token>` and never appears in messages, logs or `repr`. Credentials
in the URL (`http://user:password@host:8086`) are sent as HTTP Basic auth (InfluxDB 1.x with auth enabled).
"""

from __future__ import annotations

import gzip
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from ingest.retry import backoff_delay_s, parse_retry_after
from ingest.store.base import FieldType, Frame, ManyFrame, PointBatch, RetryBudget, SeriesInfo
from ingest.store.bulk import read_many_tagged
from ingest.store.errors import StoreAuthError, StoreConfigError, StoreRequestError, StoreUnavailable
from ingest.store.influx_results import FrameBuilder, MalformedResponse, RawResults, iter_json_objects
from ingest.store.influxql import quote_ident, quote_literal, time_range_clause
from ingest.store.lineprotocol import MAX_LINES_PER_REQUEST, encode_block

T = TypeVar("T")

ATHLETE_TAG = "athlete"
_CHUNK_SIZE = 10_000
_GZIP_LEVEL = 1
_MAX_MESSAGE = 300
_RETRY = RetryBudget()
_TYPE_PREFERENCE: tuple[FieldType, ...] = ("string", "float", "integer", "boolean")
"""The type a field is exported as when a 1.x type conflict gave it several (strings hold any value)."""


def major_version(version: str | None) -> int | None:
    """The major number of an `X-Influxdb-Version` header (`1.6.7~rc0`, `v2.7.1`, `3.0.1`), else None."""
    match = re.match(r"\s*v?(\d+)", version or "")
    return int(match.group(1)) if match else None


def _one_line(text: str, limit: int = _MAX_MESSAGE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _server_message(response: httpx.Response) -> str:
    """The server's own explanation: `{"error": ...}` from the body, else the body text or reason phrase."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error") or body.get("message"), str):
        return _one_line(body.get("error") or body["message"])
    text = response.text.strip() if response.content else ""
    return _one_line(text or response.headers.get("X-Influxdb-Error", "") or response.reason_phrase or "no details")


def _describe_transport_error(exc: httpx.TransportError, timeout_s: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__.removesuffix("Timeout").lower() or "request"
        return f"{kind} timed out after {timeout_s:g} s"
    text = _one_line(re.sub(r"\[Errno -?\d+\]\s*", "", str(exc)))
    if "refused" in text.lower():
        return "connection refused"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {text.lower() or 'no details'}"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class InfluxStore:
    """The Store protocol over InfluxDB's v1-compatible HTTP API, with gzip batches and bounded retries."""

    def __init__(
        self,
        base_url: str,
        database: str,
        *,
        token: str | None = None,
        retention_policy: str | None = None,
        timeout_s: float = _RETRY.timeout_s,
        max_retries: int = _RETRY.max_retries,
        backoff_base_s: float = _RETRY.backoff_base_s,
        backoff_cap_s: float = _RETRY.backoff_cap_s,
        max_total_s: float = _RETRY.max_total_s,
        url: str | None = None,
    ) -> None:
        try:
            parsed = httpx.URL(base_url)
        except (httpx.InvalidURL, TypeError):
            parsed = httpx.URL("invalid:")
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise StoreConfigError("InfluxDB URL must look like http://host:8086 (scheme http or https and a host)")
        if not database:
            raise StoreConfigError("InfluxDB database name must not be empty")
        if token is not None and (parsed.username or parsed.password):
            raise StoreConfigError("give InfluxDB credentials either in the URL or as a token, not both")
        if timeout_s <= 0 or max_retries < 0 or backoff_base_s < 0 or backoff_cap_s < 0 or max_total_s < 0:
            raise StoreConfigError("InfluxDB timeout must be positive and retry settings must not be negative")
        safe = parsed.copy_with(username=None, password=None, query=None, fragment=None)
        self._safe_base = str(safe).rstrip("/")
        self._base_url = str(parsed.copy_with(query=None, fragment=None)).rstrip("/")
        self.database = database
        self.retention_policy = retention_policy or None
        self.url = url or f"influxdb+{self._safe_base}/{database}"
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_base_s = float(backoff_base_s)
        self.backoff_cap_s = float(backoff_cap_s)
        self.max_total_s = float(max_total_s)
        self.server_version: str | None = None
        self.chunk_size = _CHUNK_SIZE
        self._token = token or None
        self._client: httpx.Client | None = None
        self._connected = False
        self._log = logging.getLogger(__name__)
        self._sleep: Callable[[float], None] = time.sleep
        self._clock: Callable[[], float] = time.monotonic
        self._random = random.Random()

    def __repr__(self) -> str:
        token = ", token=<set>" if self._token else ""
        return f"InfluxStore({self.url!r}{token})"

    def __enter__(self) -> InfluxStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _http(self) -> httpx.Client:
        if self._client is None:
            headers = {"User-Agent": "recovery-monitor"}
            if self._token:
                headers["Authorization"] = f"Token {self._token}"
            self._client = httpx.Client(base_url=self._base_url, headers=headers, timeout=httpx.Timeout(self.timeout_s))
        return self._client

    def connect(self) -> str:
        """Ping the server, remember its version and, on InfluxDB 1.x only, create the database. Returns the version."""
        version = self._call("GET", "/ping", lambda response: response.headers.get("X-Influxdb-Version", ""))
        self.server_version = version or "unknown"
        if major_version(version) == 1:
            self._query_stream(f"CREATE DATABASE {quote_ident(self.database)}", RawResults)
        self._connected = True
        return self.server_version

    def _ensure_connected(self) -> None:
        if not self._connected:
            self.connect()

    def close(self) -> None:
        """Close the HTTP connections; every `write` has already waited for its responses."""
        if self._client is not None:
            self._client.close()
            self._client = None
        self._connected = False

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _call(self, method: str, path: str, consume: Callable[[httpx.Response], T], **request: Any) -> T:
        """One request, retried on 429, 5xx, timeouts and connection errors; `consume` reads a 2xx response."""
        client, where = self._http(), f"InfluxDB at {self._safe_base}{path}"
        started, attempts = self._clock(), 0
        while True:
            attempts += 1
            retry_after: float | None = None
            try:
                with client.stream(method, path, **request) as response:
                    if response.status_code < 300:
                        return consume(response)
                    response.read()
                    status = response.status_code
                    problem = f"HTTP {status}: {_server_message(response)}"
                    if status in (401, 403):
                        raise StoreAuthError(self._scrub(f"{where}: authentication failed ({problem})"))
                    if status != 429 and status < 500:
                        raise StoreRequestError(self._scrub(f"{where}: request rejected ({problem})"), status)
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
            except httpx.TransportError as exc:
                problem = _describe_transport_error(exc, self.timeout_s)
            elapsed, tries = self._clock() - started, f"{attempts} attempt{'s' * (attempts > 1)}"
            if attempts > self.max_retries:
                raise StoreUnavailable(self._scrub(f"{where}: {problem}; gave up after {tries} in {elapsed:.1f} s"))
            if retry_after is None:
                retry_after = backoff_delay_s(attempts, self.backoff_base_s, self.backoff_cap_s, self._random)
            delay = retry_after
            if elapsed + delay > self.max_total_s:
                budget = f"waiting {delay:.1f} s more would exceed {self.max_total_s:g} s"
                raise StoreUnavailable(self._scrub(f"{where}: {problem}; gave up after {tries}: {budget}"))
            self._log.info("%s: %s; retry %d in %.2f s", where, self._scrub(problem), attempts, delay)
            self._sleep(delay)

    def write(self, batches: Iterable[PointBatch] | PointBatch) -> int:
        """Encode and send the batches in order, ≤ 5000 lines per gzip request; returns the number of points.

        Each request is acknowledged before the next is sent. If a later batch cannot be encoded or sent,
        earlier requests stay written; writing them again is harmless (same series and time overwrite).
        """
        self._ensure_connected()
        written = 0
        pieces: list[bytes] = []
        pending = 0
        for batch in [batches] if isinstance(batches, PointBatch) else batches:
            data, ends = encode_block(batch)
            line = offset = 0
            while line < len(ends):
                take = min(MAX_LINES_PER_REQUEST - pending, len(ends) - line)
                end = int(ends[line + take - 1])
                pieces.append(data[offset:end])
                pending, line, offset = pending + take, line + take, end
                if pending == MAX_LINES_PER_REQUEST:
                    written += self._send_lines(b"".join(pieces), pending)
                    pieces, pending = [], 0
        if pending:
            written += self._send_lines(b"".join(pieces), pending)
        return written

    def _send_lines(self, body: bytes, lines: int) -> int:
        """POST newline-terminated lines gzip-compressed; a 413 (body too large) splits them in halves."""
        params = {"db": self.database, "precision": "ms"}
        if self.retention_policy:
            params["rp"] = self.retention_policy
        headers = {"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=utf-8"}
        content = gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0)
        try:
            self._call("POST", "/write", lambda response: None, params=params, content=content, headers=headers)
        except StoreRequestError as exc:
            if exc.status != 413 or lines < 2:
                raise
            split = body.splitlines(keepends=True)
            half = len(split) // 2
            return self._send_lines(b"".join(split[:half]), half) + self._send_lines(
                b"".join(split[half:]), lines - half
            )
        return lines

    def _query_stream(self, q: str, collector: Callable[[], Any]) -> Any:
        """POST an InfluxQL query (chunked) and feed every statement result to a fresh collector per attempt."""
        params = {"db": self.database, "epoch": "ms", "chunked": "true", "chunk_size": str(self.chunk_size)}
        if self.retention_policy:
            params["rp"] = self.retention_policy

        def consume(response: httpx.Response) -> Any:
            target = collector()
            try:
                for document in iter_json_objects(response.iter_bytes()):
                    failure = document.get("error") or next(
                        (result["error"] for result in document.get("results", []) if result.get("error")), None
                    )
                    if failure:
                        raise StoreRequestError(
                            self._scrub(f"InfluxDB at {self._safe_base}/query: query failed: {_one_line(failure)}")
                        )
                    for result in document.get("results", []):
                        target.add(result)
            except MalformedResponse as exc:
                raise StoreUnavailable(f"InfluxDB at {self._safe_base}/query: malformed JSON response: {exc}") from None
            return target.finish()

        return self._call("POST", "/query", consume, params=params, data={"q": q})

    def query(self, q: str) -> list[dict[str, Any]]:
        """Run InfluxQL; the `results` list, with series streamed in chunks merged back together."""
        self._ensure_connected()
        return self._query_stream(q, RawResults)

    def _where_clause(
        self, athlete: str | None, tags: Mapping[str, str] | None, start_ms: int | None, end_ms: int | None
    ) -> str:
        conditions = []
        if athlete is not None:
            conditions.append(f"{quote_ident(ATHLETE_TAG)} = {quote_literal(athlete)}")
        for key in sorted(tags or {}):
            conditions.append(f"{quote_ident(key)} = {quote_literal(str((tags or {})[key]))}")
        if time_range := time_range_clause(start_ms, end_ms):
            conditions.append(time_range)
        return " WHERE " + " AND ".join(conditions) if conditions else ""

    def field_types(self, measurement: str) -> dict[str, set[str]]:
        """Field name → InfluxDB types (`float`, `integer`, `string`, `boolean`; several after a 1.x conflict)."""
        types: dict[str, set[str]] = {}
        for result in self.query(f"SHOW FIELD KEYS FROM {quote_ident(measurement)}"):
            for series in result.get("series", []):
                for name, kind in series.get("values") or []:
                    types.setdefault(name, set()).add(kind)
        return types

    def read(
        self,
        measurement: str,
        athlete: str | None,
        fields: Sequence[str],
        start_ms: int | None = None,
        end_ms: int | None = None,
        tags: Mapping[str, str] | None = None,
        with_tags: Sequence[str] = (),
    ) -> Frame:
        """Rows of `measurement` in [start_ms, end_ms) sorted by time, one athlete's or everyone's (``None``), with
        ``with_tags`` as extra columns (see the module docstring)."""
        names = list(dict.fromkeys(fields))
        if not names:
            raise ValueError("read needs at least one field")
        tag_names = [key for key in dict.fromkeys(with_tags) if key not in names]
        strings = {name for name, kinds in self.field_types(measurement).items() if "string" in kinds}
        selected = ", ".join(
            [f"{quote_ident(name)}::field AS {quote_ident(name)}" for name in names]
            + [f"{quote_ident(key)}::tag AS {quote_ident(key)}" for key in tag_names]
        )
        where = self._where_clause(athlete, tags, start_ms, end_ms)
        q = f"SELECT {selected} FROM {quote_ident(measurement)}{where}"
        return self._query_stream(q, lambda: FrameBuilder([*names, *tag_names], strings | set(tag_names)))

    def read_many(
        self,
        measurement: str,
        fields: Sequence[str],
        athletes: Sequence[str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> ManyFrame:
        """Numeric fields of many athletes: one `read` with the athlete tag as a column (see bulk.py)."""
        return read_many_tagged(self, measurement, fields, athletes, start_ms, end_ms)

    def count(
        self, measurement: str, athlete: str | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> int:
        """Rows of a measurement: the largest `count_<field>` of `SELECT count(*)` (0 when there is no data)."""
        where = self._where_clause(athlete, None, start_ms, end_ms)
        results = self.query(f"SELECT count(*) FROM {quote_ident(measurement)}{where}")
        counts = [
            int(value)
            for result in results
            for series in result.get("series", [])
            for row in series.get("values") or []
            for name, value in zip(series["columns"], row, strict=False)
            if name.startswith("count") and value is not None
        ]
        return max(counts, default=0)

    def series(self, athlete: str) -> list[SeriesInfo]:
        """Every series of one athlete (`GROUP BY *` over the measurements holding the athlete tag), with the
        measurement's field types, the per-field counts' maximum as points, and the first and last time."""
        who = f"{quote_ident(ATHLETE_TAG)} = {quote_literal(athlete)}"
        measurements = [
            row[0]
            for result in self.query(f"SHOW MEASUREMENTS WHERE {who}")
            for series in result.get("series", [])
            for row in series.get("values") or []
        ]
        if not measurements:
            return []
        statements = []
        for measurement in measurements:
            source = quote_ident(measurement)
            statements += [
                f"SHOW FIELD KEYS FROM {source}",
                f"SELECT count(*) FROM {source} WHERE {who} GROUP BY *",
                f"SELECT * FROM {source} WHERE {who} GROUP BY * ORDER BY time ASC LIMIT 1",
                f"SELECT * FROM {source} WHERE {who} GROUP BY * ORDER BY time DESC LIMIT 1",
            ]
        results = self.query("; ".join(statements))
        by_statement = {result.get("statement_id", 0): result.get("series", []) for result in results}
        found = []
        for index, measurement in enumerate(measurements):
            keys, counts, firsts, lasts = (by_statement.get(4 * index + k, []) for k in range(4))
            kinds: dict[str, set[str]] = {}
            for series in keys:
                for name, kind in series.get("values") or []:
                    kinds.setdefault(name, set()).add(kind)
            types = {name: next(t for t in _TYPE_PREFERENCE if t in k) for name, k in kinds.items()}
            first, last = _times_by_tags(firsts), _times_by_tags(lasts)
            for series in counts:
                tags = _present_tags(series)
                row = (series.get("values") or [[]])[0]
                present = {
                    column.removeprefix("count_"): int(value)
                    for column, value in zip(series["columns"], row, strict=False)
                    if column.startswith("count_") and value
                }
                key = tuple(sorted(tags.items()))
                fields = {name: types.get(name, "float") for name in sorted(present)}
                found.append(
                    SeriesInfo(measurement, tags, fields, max(present.values(), default=0), first[key], last[key])
                )
        return sorted(found, key=lambda s: (s.measurement, sorted(s.tags.items())))

    def delete_athlete(self, athlete: str) -> int:
        """Remove every point of one athlete in all measurements (`DELETE WHERE`, served by 1.x and 2.x); returns
        the points counted (see `series`) just before."""
        removed = sum(series.points for series in self.series(athlete))
        self.query(f"DELETE WHERE {quote_ident(ATHLETE_TAG)} = {quote_literal(athlete)}")
        return removed

    def list_athletes(self, measurement: str | None = None) -> list[str]:
        """Every value of the `athlete` tag across measurements (or in one), sorted."""
        athletes: set[str] = set()
        source = f" FROM {quote_ident(measurement)}" if measurement is not None else ""
        for result in self.query(f"SHOW TAG VALUES{source} WITH KEY = {quote_ident(ATHLETE_TAG)}"):
            for series in result.get("series", []):
                column = series.get("columns", ["key", "value"]).index("value")
                athletes.update(row[column] for row in series.get("values") or [])
        return sorted(athletes)


def _present_tags(series: Mapping[str, Any]) -> dict[str, str]:
    """The tags of a `GROUP BY *` series; keys the series lacks come back as "" and are left out."""
    return {key: value for key, value in sorted((series.get("tags") or {}).items()) if value}


def _times_by_tags(results: list[dict[str, Any]]) -> dict[tuple[tuple[str, str], ...], int]:
    """Sorted tag items → the time of the one row of each `GROUP BY * … LIMIT 1` series."""
    return {
        tuple(sorted(_present_tags(series).items())): int(series["values"][0][0])
        for series in results
        if series.get("values")
    }

"""Read `flag` points with their tags (family, signal, severity) and group them into episodes.

The `Store` protocol reads fields of one athlete filtered by known tags; flags need their tag values back, so
this module reads them per backend: InfluxQL `GROUP BY *` on an InfluxDB store, the series table of the embedded
SQLite file (read-only) otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ingest.store.base import Store
from ingest.store.errors import StoreUnavailable
from ingest.store.influxql import quote_ident, quote_literal, time_range_clause

DAY_MS = 86_400_000
FLAG_FIELDS = ("value", "threshold", "window", "since", "reason")


@dataclass(frozen=True)
class FlagPoint:
    """One stored flag: one athlete, signal and evaluated day."""

    athlete: str
    family: str
    signal: str
    severity: str
    time_ms: int
    value: float | None
    threshold: float | None
    window: str
    since: str
    reason: str


@dataclass(frozen=True)
class FlagEpisode:
    """A continuous run of one signal for one athlete: from `since` to the last day it was evaluated."""

    athlete: str
    family: str
    signal: str
    severity: str  # the most severe level seen in the run
    start_ms: int
    last_ms: int
    reason: str  # the latest explanation

    @property
    def key(self) -> str:
        """Stable identity of the episode, used to find it again among published annotations."""
        return f"{self.athlete}/{self.signal}/{dt.datetime.fromtimestamp(self.start_ms / 1000, dt.UTC):%Y-%m-%d}"


def _since_ms(since: str, fallback: int) -> int:
    try:
        day = dt.date.fromisoformat(since)
    except (TypeError, ValueError):
        return fallback
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def _point(tags: dict[str, Any], time_ms: int, fields: dict[str, Any]) -> FlagPoint:
    def number(name: str) -> float | None:
        value = fields.get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return FlagPoint(
        athlete=str(tags.get("athlete", "")),
        family=str(tags.get("family", "")),
        signal=str(tags.get("signal", "")),
        severity=str(tags.get("severity", "")),
        time_ms=int(time_ms),
        value=number("value"),
        threshold=number("threshold"),
        window=str(fields.get("window") or ""),
        since=str(fields.get("since") or ""),
        reason=str(fields.get("reason") or ""),
    )


def _influx_flags(store: Any, athlete: str | None, start_ms: int | None, end_ms: int | None) -> list[FlagPoint]:
    conditions = [f'"athlete" = {quote_literal(athlete)}'] if athlete else []
    if clause := time_range_clause(start_ms, end_ms):
        conditions.append(clause)
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    selected = ", ".join(quote_ident(name) for name in FLAG_FIELDS)
    points = []
    for result in store.query(f'SELECT {selected} FROM "flag"{where} GROUP BY *'):
        for series in result.get("series", []):
            columns = series.get("columns", [])
            for row in series.get("values") or []:
                record = dict(zip(columns, row, strict=False))
                points.append(_point(series.get("tags") or {}, int(record.pop("time")), record))
    return points


def _sqlite_flags(path: str, athlete: str | None, start_ms: int | None, end_ms: int | None) -> list[FlagPoint]:
    sql = (
        "SELECT s.tagset, p.time_ms, p.field, p.value FROM points p JOIN series s ON s.id = p.series_id "
        "WHERE s.measurement = 'flag'"
    )
    params: list[Any] = []
    if athlete:
        sql += " AND s.athlete = ?"
        params.append(athlete)
    if start_ms is not None:
        sql += " AND p.time_ms >= ?"
        params.append(int(start_ms))
    if end_ms is not None:
        sql += " AND p.time_ms < ?"
        params.append(int(end_ms))
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute(sql, params).fetchall()
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"SQLite store {path}: {exc}") from exc
    grouped: dict[tuple[str, int], dict[str, Any]] = {}
    for tagset, time_ms, name, value in rows:
        grouped.setdefault((tagset, time_ms), {})[name] = value
    return [_point(json.loads(tagset), time_ms, fields) for (tagset, time_ms), fields in grouped.items()]


def read_flags(
    store: Store, athlete: str | None = None, start_ms: int | None = None, end_ms: int | None = None
) -> list[FlagPoint]:
    """Flag points in [start_ms, end_ms), all athletes or one, sorted by athlete, time and signal."""
    if hasattr(store, "query"):
        points = _influx_flags(store, athlete, start_ms, end_ms)
    elif hasattr(store, "path") and type(store).__name__ == "SQLiteStore":
        points = _sqlite_flags(str(store.path), athlete, start_ms, end_ms)
    else:
        raise StoreUnavailable(f"{type(store).__name__}: reading flags with their tags is not supported")
    return sorted(points, key=lambda p: (p.athlete, p.time_ms, p.signal))


def episodes(points: list[FlagPoint]) -> list[FlagEpisode]:
    """Group flag points by athlete, signal and `since` (the first day of the continuous run)."""
    runs: dict[tuple[str, str, int], list[FlagPoint]] = {}
    for point in points:
        runs.setdefault((point.athlete, point.signal, _since_ms(point.since, point.time_ms)), []).append(point)
    result = []
    for (athlete, signal, start_ms), run in sorted(runs.items()):
        run.sort(key=lambda p: p.time_ms)
        latest = run[-1]
        severity = "act" if any(p.severity == "act" for p in run) else latest.severity
        result.append(FlagEpisode(athlete, latest.family, signal, severity, start_ms, latest.time_ms, latest.reason))
    return result

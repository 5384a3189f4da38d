"""Bulk reads for analysis jobs: one measurement of many athletes at once, numeric fields only.

On the embedded store this is one SQL query per chunk of series, on separate read-only connections (WAL readers
never block the writer), that pivots the long (series, time, field, value) rows into one row per point inside
SQLite; on InfluxDB one InfluxQL query grouped by athlete; any other backend falls back to one `Store.read` per
athlete.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.store.base import Store
from ingest.store.errors import StoreUnavailable


@dataclass
class ManyFrame:
    """Points of many athletes: ``athletes[athlete_index[i]]`` owns row ``i``; sorted by athlete, then time.

    Columns are float64 with NaN where a point has no (numeric) value.
    """

    athletes: list[str]
    athlete_index: np.ndarray
    time_ms: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time_ms)


def _empty(athletes: Sequence[str], fields: Sequence[str]) -> ManyFrame:
    return ManyFrame(list(athletes), np.empty(0, np.int64), np.empty(0, np.int64), {f: np.empty(0) for f in fields})


def _sqlite_path(store: Store) -> Path | None:
    from ingest.store.sqlite import SQLiteStore

    return store.path if isinstance(store, SQLiteStore) else None


def _connect(path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"SQLite store {path}: {exc}") from exc


def _fetch_all(path: Path, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    """Every row of one query on a fresh read-only connection; StoreUnavailable on any SQLite error."""
    db = _connect(path)
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"SQLite store {path}: {exc}") from exc
    finally:
        db.close()


def _time_sql(start_ms: int | None, end_ms: int | None) -> tuple[str, list[int]]:
    sql, params = "", []
    if start_ms is not None:
        sql, params = sql + " AND p.time_ms >= ?", [*params, int(start_ms)]
    if end_ms is not None:
        sql, params = sql + " AND p.time_ms < ?", [*params, int(end_ms)]
    return sql, params


_MISSING = -1.0e308  # stands for "no value" inside SQL, so rows convert to floats without Python objects


def _pivot_chunk(path: Path, fields: list[str], sids: list[int], time_sql: str, time_params: list[int]) -> np.ndarray:
    """Rows (series_id, time_ms, *fields) of one chunk of series as a float array (NaN = no value)."""
    pivot = ", ".join(f"IFNULL(MAX(p.value) FILTER (WHERE p.field = ?), {_MISSING})" for _ in fields)
    sql = (
        f"SELECT p.series_id, p.time_ms, {pivot} FROM points p WHERE p.series_id IN ({','.join('?' * len(sids))}) "
        f"AND p.field IN ({','.join('?' * len(fields))}){time_sql} GROUP BY p.series_id, p.time_ms"
    )
    rows = _fetch_all(path, sql, [*fields, *sids, *fields, *time_params])
    width = len(fields) + 2
    try:
        flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=float, count=len(rows) * width)
    except (TypeError, ValueError):  # a string value among the fields: keep the numbers
        flat = np.array([v if isinstance(v, int | float) else _MISSING for r in rows for v in r], dtype=float)
    flat = flat.reshape(len(rows), width)
    flat[flat == _MISSING] = np.nan
    return flat


def read_many(
    store: Store,
    measurement: str,
    fields: Sequence[str],
    athletes: Sequence[str] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    *,
    workers: int = 2,
) -> ManyFrame:
    """Numeric ``fields`` of ``measurement`` for ``athletes`` (default: every athlete) in [start_ms, end_ms).

    On the embedded store the series are split into ``workers`` chunks queried on parallel read-only
    connections (SQLite runs without the GIL), with the pivot done inside SQLite.
    """
    fields = list(dict.fromkeys(fields))
    path = _sqlite_path(store)
    if path is None:
        if _is_influx(store):
            return _read_influx(store, measurement, fields, athletes, start_ms, end_ms)
        return _read_each(store, measurement, fields, athletes, start_ms, end_ms)
    series = _fetch_all(path, "SELECT id, athlete FROM series WHERE measurement = ?", (measurement,))
    wanted = None if athletes is None else set(athletes)
    series = [(sid, a) for sid, a in series if a is not None and (wanted is None or a in wanted)]
    names = sorted({a for _, a in series}) if athletes is None else list(athletes)
    if not series or not fields:
        return _empty(names, fields)
    time_sql, time_params = _time_sql(start_ms, end_ms)
    sids = sorted(sid for sid, _ in series)
    n_chunks = max(1, min(workers, len(sids)))
    chunks = [sids[i::n_chunks] for i in range(n_chunks)]
    if n_chunks == 1:
        parts = [_pivot_chunk(path, fields, chunks[0], time_sql, time_params)]
    else:
        with ThreadPoolExecutor(n_chunks) as pool:
            parts = list(pool.map(lambda c: _pivot_chunk(path, fields, c, time_sql, time_params), chunks))
    values = np.concatenate(parts) if parts else np.empty((0, len(fields) + 2))
    if not len(values):
        return _empty(names, fields)
    row_of = {a: i for i, a in enumerate(names)}
    athlete_of_series = np.zeros(max(sids) + 1, np.int64)
    for sid, a in series:
        athlete_of_series[sid] = row_of[a]
    index = athlete_of_series[values[:, 0].astype(np.int64)]
    time_ms = values[:, 1].astype(np.int64)
    order = np.lexsort((time_ms, index))
    values = values[order]
    return ManyFrame(names, index[order], time_ms[order], {f: values[:, i + 2] for i, f in enumerate(fields)})


def _is_influx(store: Store) -> bool:
    from ingest.store.influx import InfluxStore

    return isinstance(store, InfluxStore)


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else np.nan


def _read_influx(
    store: Store,
    measurement: str,
    fields: list[str],
    athletes: Sequence[str] | None,
    start_ms: int | None,
    end_ms: int | None,
) -> ManyFrame:
    """One `SELECT … GROUP BY "athlete"` instead of a query per athlete."""
    from ingest.store.influxql import quote_ident, time_range_clause

    selected = ", ".join(f"{quote_ident(f)}::field AS {quote_ident(f)}" for f in fields)
    where = time_range_clause(start_ms, end_ms)
    q = f'SELECT {selected} FROM {quote_ident(measurement)}{" WHERE " + where if where else ""} GROUP BY "athlete"'
    by_athlete: dict[str, list[list]] = {}
    for result in store.query(q):
        for series in result.get("series", []):
            athlete = (series.get("tags") or {}).get("athlete")
            if athlete:
                position = {name: i for i, name in enumerate(series["columns"])}
                rows = by_athlete.setdefault(athlete, [])
                for row in series.get("values") or []:
                    rows.append([row[0]] + [row[position[f]] if f in position else None for f in fields])
    names = list(athletes) if athletes is not None else sorted(by_athlete)
    parts = [(i, by_athlete[a]) for i, a in enumerate(names) if by_athlete.get(a)]
    if not parts:
        return _empty(names, fields)
    index = np.concatenate([np.full(len(rows), i, np.int64) for i, rows in parts])
    rows = [r for _, part in parts for r in part]
    time_ms = np.array([int(r[0]) for r in rows], np.int64)
    values = np.array([[_number(v) for v in r[1:]] for r in rows], dtype=float).reshape(len(rows), len(fields))
    order = np.lexsort((time_ms, index))
    return ManyFrame(names, index[order], time_ms[order], {f: values[order, i] for i, f in enumerate(fields)})


def _read_each(
    store: Store,
    measurement: str,
    fields: list[str],
    athletes: Sequence[str] | None,
    start_ms: int | None,
    end_ms: int | None,
) -> ManyFrame:
    names = list(athletes) if athletes is not None else store.list_athletes()
    parts_index, parts_time, parts_cols = [], [], {f: [] for f in fields}
    for i, athlete in enumerate(names):
        frame = store.read(measurement, athlete, fields, start_ms, end_ms)
        if not len(frame):
            continue
        parts_index.append(np.full(len(frame), i, np.int64))
        parts_time.append(np.asarray(frame.time_ms, np.int64))
        for f in fields:
            column = frame.columns.get(f, np.full(len(frame), np.nan))
            if column.dtype.kind not in "fiub":
                column = np.array([v if isinstance(v, int | float) else np.nan for v in column], dtype=float)
            parts_cols[f].append(column.astype(float))
    if not parts_index:
        return _empty(names, fields)
    return ManyFrame(
        names,
        np.concatenate(parts_index),
        np.concatenate(parts_time),
        {f: np.concatenate(parts_cols[f]) for f in fields},
    )


def athletes_with(store: Store, measurement: str) -> set[str]:
    """Athletes that have any series of ``measurement`` (cheap on the embedded store; a count per athlete else)."""
    path = _sqlite_path(store)
    if path is None and _is_influx(store):
        from ingest.store.influxql import quote_ident

        athletes = set()
        for result in store.query(f'SHOW TAG VALUES FROM {quote_ident(measurement)} WITH KEY = "athlete"'):
            for series in result.get("series", []):
                column = series.get("columns", ["key", "value"]).index("value")
                athletes.update(row[column] for row in series.get("values") or [])
        return athletes
    if path is None:
        return {a for a in store.list_athletes() if store.count(measurement, a) > 0}
    rows = _fetch_all(path, "SELECT DISTINCT athlete FROM series WHERE measurement = ?", (measurement,))
    return {r[0] for r in rows if r[0] is not None}

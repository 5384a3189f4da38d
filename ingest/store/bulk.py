"""Bulk reads for analysis jobs (`Store.read_many`): one measurement of many athletes at once, numeric fields only.

Helpers of the backends, not called by anyone else:

- `read_many_sqlite` (the embedded store): one SQL query per chunk of series, on separate read-only connections
  (WAL readers never block the writer), that pivots the long (series, time, field, value) rows into one row per
  point inside SQLite;
- `read_many_tagged` (any backend that reads tags as columns, i.e. InfluxDB): one `Store.read` of every athlete
  with the athlete tag as a column.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ingest.store.base import ManyFrame, Store
from ingest.store.errors import StoreUnavailable

ATHLETE = "athlete"


def _empty(athletes: Sequence[str], fields: Sequence[str]) -> ManyFrame:
    return ManyFrame(list(athletes), np.empty(0, np.int64), np.empty(0, np.int64), {f: np.empty(0) for f in fields})


def time_filter(start_ms: int | None, end_ms: int | None) -> tuple[str, list[int]]:
    """`AND time_ms …` clauses of the SQLite store's `points` table for [start_ms, end_ms), and their parameters."""
    clauses, params = [], []
    if start_ms is not None:
        clauses.append("time_ms >= ?")
        params.append(int(start_ms))
    if end_ms is not None:
        clauses.append("time_ms < ?")
        params.append(int(end_ms))
    return "".join(f" AND {c}" for c in clauses), params


def _connect(path: Path) -> sqlite3.Connection:
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


def read_many_sqlite(
    path: Path,
    measurement: str,
    fields: Sequence[str],
    athletes: Sequence[str] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    *,
    workers: int = 2,
) -> ManyFrame:
    """`Store.read_many` on the SQLite file at ``path``: the series are split into ``workers`` chunks queried on
    parallel read-only connections (SQLite runs without the GIL), with the pivot done inside SQLite."""
    fields = list(dict.fromkeys(fields))
    series = _fetch_all(path, "SELECT id, athlete FROM series WHERE measurement = ?", (measurement,))
    wanted = None if athletes is None else set(athletes)
    series = [(sid, a) for sid, a in series if a is not None and (wanted is None or a in wanted)]
    names = sorted({a for _, a in series}) if athletes is None else list(athletes)
    if not series or not fields:
        return _empty(names, fields)
    time_sql, time_params = time_filter(start_ms, end_ms)
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


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else np.nan


def _numeric(column: np.ndarray) -> np.ndarray:
    if column.dtype.kind in "fiub":
        return column.astype(float)
    return np.array([_number(v) for v in column], dtype=float)


def read_many_tagged(
    store: Store,
    measurement: str,
    fields: Sequence[str],
    athletes: Sequence[str] | None,
    start_ms: int | None,
    end_ms: int | None,
) -> ManyFrame:
    """`Store.read_many` as one `Store.read` of every athlete (or the only one asked for) with the athlete tag as a
    column."""
    fields = list(dict.fromkeys(fields))
    one = athletes[0] if athletes is not None and len(athletes) == 1 else None
    if not fields:
        return _empty(list(athletes or []), fields)
    frame = store.read(measurement, one, fields, start_ms, end_ms, with_tags=[ATHLETE])
    owner = frame.columns[ATHLETE]
    names = list(athletes) if athletes is not None else sorted({a for a in owner if a})
    row_of = {a: i for i, a in enumerate(names)}
    index = np.fromiter((row_of.get(a, -1) for a in owner), np.int64, len(owner))
    keep = index >= 0
    index, time_ms = index[keep], np.asarray(frame.time_ms, np.int64)[keep]
    order = np.lexsort((time_ms, index))
    columns = {f: _numeric(frame.columns[f])[keep][order] for f in fields}
    return ManyFrame(names, index[order], time_ms[order], columns)

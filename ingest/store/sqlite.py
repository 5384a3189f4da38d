"""Embedded store: one SQLite file in WAL mode behind the same interface as InfluxDB.

Points are kept long-form (series, time, field, value) so every measurement of `docs/data-model.md` fits one
schema. The same series and timestamp overwrite, as in InfluxDB, which makes replays exactly-once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ingest.store.base import FieldType, Frame, ManyFrame, PointBatch, SeriesInfo, field_type, require_finite
from ingest.store.bulk import read_many_sqlite, time_filter
from ingest.store.errors import StoreUnavailable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    athlete TEXT,
    tagset TEXT NOT NULL,
    UNIQUE (measurement, tagset)
);
CREATE INDEX IF NOT EXISTS series_by_athlete ON series (measurement, athlete);
CREATE TABLE IF NOT EXISTS points (
    series_id INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    field TEXT NOT NULL,
    value,
    PRIMARY KEY (series_id, time_ms, field)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS field_types (
    series_id INTEGER NOT NULL,
    field TEXT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (series_id, field)
) WITHOUT ROWID;
"""
_SQLITE_TYPES: dict[str, FieldType] = {"integer": "integer", "real": "float", "text": "string"}
"""Field types of points written before `field_types` existed, from SQLite's storage class (booleans were 0/1)."""


def _python_values(name: str, column: np.ndarray) -> list:
    column = np.asarray(column)
    if column.dtype.kind == "f":
        require_finite(name, column)
    if column.dtype.kind == "b":
        return column.astype(np.int64).tolist()
    return column.tolist()


class SQLiteStore:
    """The embedded store; safe to share between threads (one connection behind a lock)."""

    def __init__(self, path: str | Path, *, url: str | None = None, timeout_s: float = 30.0) -> None:
        self.path = Path(path).expanduser()
        self.url = url or f"sqlite:///{self.path}"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=timeout_s, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"SQLite store {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._series_ids: dict[tuple[str, str], int] = {}

    def _series_id(self, measurement: str, tags: Mapping[str, str]) -> int:
        clean = {k: str(v) for k, v in sorted(tags.items()) if v is not None and v != ""}
        tagset = json.dumps(clean, ensure_ascii=False, separators=(",", ":"))
        key = (measurement, tagset)
        if key not in self._series_ids:
            self._db.execute(
                "INSERT OR IGNORE INTO series (measurement, athlete, tagset) VALUES (?, ?, ?)",
                (measurement, clean.get("athlete"), tagset),
            )
            row = self._db.execute(
                "SELECT id FROM series WHERE measurement = ? AND tagset = ?", (measurement, tagset)
            ).fetchone()
            self._series_ids[key] = row[0]
        return self._series_ids[key]

    def write(self, batches: Iterable[PointBatch]) -> int:
        """Write all batches in one transaction: either everything lands or nothing does."""
        written = 0
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for batch in batches:
                    if not len(batch):
                        continue
                    series_id = self._series_id(batch.measurement, batch.tags)
                    times = np.asarray(batch.time_ms, dtype=np.int64).tolist()
                    self._db.executemany(
                        "INSERT OR REPLACE INTO field_types (series_id, field, type) VALUES (?, ?, ?)",
                        [(series_id, name, field_type(column)) for name, column in batch.fields.items()],
                    )
                    for name, column in batch.fields.items():
                        rows = zip([series_id] * len(times), times, [name] * len(times), _python_values(name, column))
                        self._db.executemany(
                            "INSERT OR REPLACE INTO points (series_id, time_ms, field, value) VALUES (?, ?, ?, ?)",
                            rows,
                        )
                    written += len(batch)
                self._db.execute("COMMIT")
            except BaseException as exc:
                self._db.execute("ROLLBACK")
                self._series_ids.clear()
                if isinstance(exc, sqlite3.Error):
                    raise StoreUnavailable(f"SQLite store {self.path}: {exc}") from exc
                raise
        return written

    def _matching_series(
        self, measurement: str, athlete: str | None, tags: Mapping[str, str] | None
    ) -> dict[int, dict[str, str]]:
        """Series id → tag set of the measurement's series that match the athlete (None: all) and tags."""
        if athlete is None:
            rows = self._db.execute("SELECT id, tagset FROM series WHERE measurement = ?", (measurement,))
        else:
            rows = self._db.execute(
                "SELECT id, tagset FROM series WHERE measurement = ? AND athlete = ?", (measurement, athlete)
            )
        wanted = {k: str(v) for k, v in (tags or {}).items()}
        matching = {}
        for sid, tagset in rows:
            series_tags = json.loads(tagset)
            if all(series_tags.get(k) == v for k, v in wanted.items()):
                matching[sid] = series_tags
        return matching

    def _string_fields(self, measurement: str) -> set[str]:
        """Fields written as strings in any series of the measurement (read as object columns, as on InfluxDB)."""
        rows = self._db.execute(
            "SELECT DISTINCT ft.field FROM field_types ft JOIN series s ON s.id = ft.series_id "
            "WHERE s.measurement = ? AND ft.type = 'string'",
            (measurement,),
        )
        return {name for (name,) in rows}

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
        """Rows of a measurement in [start_ms, end_ms) sorted by time, one athlete's or everyone's (``None``),
        with ``with_tags`` as extra columns."""
        tag_names = [key for key in dict.fromkeys(with_tags) if key not in fields]
        with self._lock:
            strings = self._string_fields(measurement)
            series = self._matching_series(measurement, athlete, tags)
            if not series or not fields:
                empty = {f: np.empty(0, dtype=object if f in strings else float) for f in fields}
                return Frame(np.empty(0, np.int64), empty | {k: np.empty(0, dtype=object) for k in tag_names})
            time_sql, time_params = time_filter(start_ms, end_ms)
            sql = (
                f"SELECT time_ms, series_id, field, value FROM points WHERE series_id IN "
                f"({','.join('?' * len(series))}) AND field IN ({','.join('?' * len(fields))}){time_sql} "
                "ORDER BY time_ms, series_id"
            )
            rows = self._db.execute(sql, [*series, *fields, *time_params]).fetchall()
        frame, row_series = _pivot(rows, fields, strings)
        for key in tag_names:
            frame.columns[key] = np.array([series[int(sid)].get(key) for sid in row_series], dtype=object)
        return frame

    def read_many(
        self,
        measurement: str,
        fields: Sequence[str],
        athletes: Sequence[str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        *,
        workers: int = 2,
    ) -> ManyFrame:
        """Numeric fields of many athletes, queried on ``workers`` parallel read-only connections (see bulk.py)."""
        return read_many_sqlite(self.path, measurement, fields, athletes, start_ms, end_ms, workers=workers)

    def count(
        self, measurement: str, athlete: str | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> int:
        """Number of rows (distinct series and timestamp) of a measurement."""
        with self._lock:
            series = self._matching_series(measurement, athlete, None)
            if not series:
                return 0
            time_sql, time_params = time_filter(start_ms, end_ms)
            sql = (
                "SELECT COUNT(*) FROM (SELECT DISTINCT series_id, time_ms FROM points WHERE series_id IN "
                f"({','.join('?' * len(series))}){time_sql})"
            )
            return int(self._db.execute(sql, [*series, *time_params]).fetchone()[0])

    def list_athletes(self, measurement: str | None = None) -> list[str]:
        """Every athlete ID with data (or with data in one measurement), sorted."""
        sql, params = "SELECT DISTINCT athlete FROM series WHERE athlete IS NOT NULL", []
        if measurement is not None:
            sql, params = sql + " AND measurement = ?", [measurement]
        with self._lock:
            return [r[0] for r in self._db.execute(sql + " ORDER BY 1", params)]

    def series(self, athlete: str) -> list[SeriesInfo]:
        """Every series of one athlete with its fields' types, distinct timestamps and time span."""
        with self._lock:
            spans = self._db.execute(
                "SELECT s.id, s.measurement, s.tagset, COUNT(DISTINCT p.time_ms), MIN(p.time_ms), MAX(p.time_ms) "
                "FROM series s JOIN points p ON p.series_id = s.id WHERE s.athlete = ? GROUP BY s.id",
                (athlete,),
            ).fetchall()
            fields = self._db.execute(
                "SELECT p.series_id, p.field, ft.type, typeof(p.value) FROM points p "
                "JOIN series s ON s.id = p.series_id LEFT JOIN field_types ft "
                "ON ft.series_id = p.series_id AND ft.field = p.field "
                "WHERE s.athlete = ? AND p.value IS NOT NULL GROUP BY p.series_id, p.field",
                (athlete,),
            ).fetchall()
        types: dict[int, dict[str, FieldType]] = {}
        for sid, name, declared, storage in fields:
            types.setdefault(sid, {})[name] = declared or _SQLITE_TYPES.get(storage, "string")
        found = [
            SeriesInfo(measurement, json.loads(tagset), dict(sorted(types.get(sid, {}).items())), n, first, last)
            for sid, measurement, tagset, n, first, last in spans
        ]
        return sorted(found, key=lambda s: (s.measurement, sorted(s.tags.items())))

    def delete_athlete(self, athlete: str) -> int:
        """Remove every point of one athlete (all measurements); returns the points (series and time) removed."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                owned = "SELECT id FROM series WHERE athlete = ?"
                points = f"SELECT DISTINCT series_id, time_ms FROM points WHERE series_id IN ({owned})"
                removed = self._db.execute(f"SELECT COUNT(*) FROM ({points})", (athlete,)).fetchone()[0]
                self._db.execute(f"DELETE FROM points WHERE series_id IN ({owned})", (athlete,))
                self._db.execute(f"DELETE FROM field_types WHERE series_id IN ({owned})", (athlete,))
                self._db.execute("DELETE FROM series WHERE athlete = ?", (athlete,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._series_ids.clear()
        return int(removed)

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()


def _pivot(rows: list[tuple], fields: Sequence[str], strings: set[str]) -> tuple[Frame, np.ndarray]:
    """Long rows (time, series, field, value) → one row per (series, time) with a column per field (object for
    ``strings`` and for any field holding a string, else float64), and the series id of each row."""
    if not rows:
        empty = {f: np.empty(0, dtype=object if f in strings else float) for f in fields}
        return Frame(np.empty(0, np.int64), empty), np.empty(0, np.int64)
    times = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    series = np.fromiter((r[1] for r in rows), np.int64, len(rows))
    keys = np.stack([times, series], axis=1)
    new_row = np.ones(len(rows), bool)
    new_row[1:] = np.any(keys[1:] != keys[:-1], axis=1)
    row_index = np.cumsum(new_row) - 1
    n = int(row_index[-1]) + 1
    field_pos = {f: i for i, f in enumerate(fields)}
    values: list[list] = [[None] * n for _ in fields]
    for idx, (_, _, name, value) in zip(row_index.tolist(), rows):
        values[field_pos[name]][idx] = value
    columns = {}
    for name, column in zip(fields, values):
        if name in strings or any(isinstance(v, str) for v in column):
            columns[name] = np.array(column, dtype=object)
        else:
            columns[name] = np.array([np.nan if v is None else v for v in column], dtype=np.float64)
    return Frame(times[new_row], columns), series[new_row]

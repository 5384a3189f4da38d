"""Durable write-ahead spool of decoded samples: an SQLite file in WAL mode between the radios and the store.

Every decoded sample is appended here before it counts as received; ``SpoolWriter`` (``ingest.gateway.writer``)
drains it to the store in batches, in append order, and deletes what the store acknowledged.

* **Commit policy:** appends go into one open transaction that ``commit()`` closes (the gateway commits every
  ``commit_interval_s``, 50 ms by default, and before every drain). A sample counts as received once committed.
  ``synchronous="normal"`` (default) survives a crash of the gateway process; ``"full"`` also fsyncs every commit
  and survives power loss, at one fsync per commit interval.
* **Disk budget:** ``max_bytes`` bounds the spooled (not yet stored) payload. Crossing 80 % logs a warning; when
  full, new samples are rejected and counted in ``rejected_points`` (the oldest, already received data is kept so
  the replay stays in order and complete up to the cut).
* **Exactly-once:** a row is deleted only after the store acknowledged it; a crash in between replays it, and the
  store overwrites the same series and timestamp.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import struct
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from ingest.store.base import PointBatch
from ingest.timeline import Clock, wall_clock_ms

logger = logging.getLogger(__name__)

Synchronous = Literal["normal", "full"]
WARN_FRACTION = 0.8
_ROW_OVERHEAD = 48
_LENGTH = struct.Struct("<I")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    series TEXT NOT NULL,
    columns TEXT NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    arrival_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY,
    series TEXT NOT NULL,
    columns TEXT NOT NULL,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    arrival_ms INTEGER NOT NULL,
    error TEXT NOT NULL
);
"""


@dataclass
class SpoolRow:
    seq: int
    series: str
    columns: str
    n: int
    data: bytes
    arrival_ms: int

    @property
    def nbytes(self) -> int:
        return len(self.data) + len(self.series) + len(self.columns) + _ROW_OVERHEAD


@dataclass
class SpoolBatch:
    """Consecutive spooled rows, ready to write: ``batches`` keep per-series append order."""

    rows: list[SpoolRow]
    batches: list[PointBatch] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        return self.rows[-1].seq

    @property
    def points(self) -> int:
        return sum(row.n for row in self.rows)


def encode_row(
    measurement: str, tags: Mapping[str, str], time_ms: np.ndarray, fields: Mapping[str, np.ndarray]
) -> tuple[str, str, int, bytes]:
    """(series, columns, n, data) of one chunk of one series."""
    series = json.dumps([measurement, sorted(tags.items())], separators=(",", ":"), ensure_ascii=False)
    names = sorted(fields)
    kinds = []
    parts = [np.ascontiguousarray(time_ms, dtype="<i8").tobytes()]
    for name in names:
        column = np.asarray(fields[name])
        if column.dtype.kind in "OU":
            kinds.append([name, "json"])
            chunk = json.dumps([str(value) for value in column.tolist()], ensure_ascii=False).encode()
        else:
            dtype = column.dtype.newbyteorder("<") if column.dtype.kind in "iuf" else column.dtype
            kinds.append([name, dtype.str])
            chunk = np.ascontiguousarray(column, dtype=dtype).tobytes()
        parts.append(_LENGTH.pack(len(chunk)) + chunk)
    return series, json.dumps(kinds, separators=(",", ":")), len(time_ms), b"".join(parts)


def decode_row(row: SpoolRow) -> PointBatch:
    """The PointBatch of one spooled row."""
    measurement, tags = json.loads(row.series)
    kinds = json.loads(row.columns)
    data = memoryview(row.data)
    offset = 8 * row.n
    time_ms = np.frombuffer(data[:offset], dtype="<i8").astype(np.int64)
    fields: dict[str, np.ndarray] = {}
    for name, kind in kinds:
        (length,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        chunk = data[offset : offset + length]
        offset += length
        if kind == "json":
            fields[name] = np.array(json.loads(bytes(chunk)), dtype=object)
        else:
            fields[name] = np.frombuffer(chunk, dtype=np.dtype(kind)).copy()
    return PointBatch(measurement, dict(tags), time_ms, fields)


def merge_rows(rows: list[SpoolRow]) -> list[PointBatch]:
    """Rows → one PointBatch per (series, columns), concatenated in append order."""
    groups: dict[tuple[str, str], list[PointBatch]] = {}
    for row in rows:
        groups.setdefault((row.series, row.columns), []).append(decode_row(row))
    merged = []
    for parts in groups.values():
        first = parts[0]
        if len(parts) == 1:
            merged.append(first)
            continue
        merged.append(
            PointBatch(
                first.measurement,
                first.tags,
                np.concatenate([p.time_ms for p in parts]),
                {name: np.concatenate([p.fields[name] for p in parts]) for name in first.fields},
            )
        )
    return merged


class Spool:
    """The spool file. ``add``/``commit``/``ack`` belong to one thread (the event loop); ``read`` to another."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int = 512 * 1024 * 1024,
        synchronous: Synchronous = "normal",
        clock: Clock = wall_clock_ms,
    ) -> None:
        if synchronous not in ("normal", "full"):
            raise ValueError(f"spool synchronous mode {synchronous!r}: expected 'normal' or 'full'")
        if max_bytes <= 0:
            raise ValueError(f"spool budget {max_bytes} bytes must be positive")
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.clock = clock
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.executescript(_SCHEMA)
        self._reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._reader_lock = threading.Lock()
        count, points, nbytes, oldest = self._db.execute(
            "SELECT count(*), coalesce(sum(n), 0), coalesce(sum(length(data) + length(series) + length(columns)), 0)"
            " + count(*) * ?, min(arrival_ms) FROM spool",
            (_ROW_OVERHEAD,),
        ).fetchone()
        self.pending_rows = int(count)
        self.pending_points = int(points)
        self.pending_bytes = int(nbytes)
        self.recovered_points = int(points)
        self._pending_arrivals: dict[int, int] = {}
        self._oldest_recovered_ms: int | None = oldest
        self.rejected_points = 0
        self.quarantined_points = 0
        self._uncommitted_points = 0
        self._in_transaction = False
        self._warned = False
        self._full_logged = False
        self._first_seq_arrival: deque[tuple[int, int]] = deque()
        if count:
            logger.warning("spool %s: %d points from a previous run are waiting for the store", self.path, points)

    # Writer side (event loop thread)

    def add(
        self, measurement: str, tags: Mapping[str, str], time_ms: np.ndarray, fields: Mapping[str, np.ndarray]
    ) -> bool:
        """Append one chunk of one series; False (and counted in ``rejected_points``) when over budget."""
        n = len(time_ms)
        if n == 0:
            return True
        series, columns, n, data = encode_row(measurement, tags, time_ms, fields)
        nbytes = len(data) + len(series) + len(columns) + _ROW_OVERHEAD
        if self.pending_bytes + nbytes > self.max_bytes:
            self.rejected_points += n
            if not self._full_logged:
                self._full_logged = True
                logger.warning(
                    "spool %s is FULL (%.1f of %.1f MB): new samples are DROPPED until the store takes data again",
                    self.path,
                    self.pending_bytes / 1e6,
                    self.max_bytes / 1e6,
                )
            return False
        if not self._in_transaction:
            self._db.execute("BEGIN")
            self._in_transaction = True
        arrival = self.clock()
        cursor = self._db.execute(
            "INSERT INTO spool (series, columns, n, data, arrival_ms) VALUES (?, ?, ?, ?, ?)",
            (series, columns, n, data, arrival),
        )
        self._first_seq_arrival.append((int(cursor.lastrowid or 0), arrival))
        self.pending_rows += 1
        self.pending_points += n
        self.pending_bytes += nbytes
        self._uncommitted_points += n
        if not self._warned and self.pending_bytes > WARN_FRACTION * self.max_bytes:
            self._warned = True
            logger.warning(
                "spool %s holds %.1f MB, over %d %% of its %.1f MB budget: the store is not keeping up",
                self.path,
                self.pending_bytes / 1e6,
                round(WARN_FRACTION * 100),
                self.max_bytes / 1e6,
            )
        return True

    def commit(self) -> int:
        """Make every append so far durable; returns the points committed by this call."""
        if not self._in_transaction:
            return 0
        self._db.execute("COMMIT")
        self._in_transaction = False
        committed, self._uncommitted_points = self._uncommitted_points, 0
        return committed

    def ack(self, batch: SpoolBatch) -> None:
        """Delete rows the store acknowledged (up to ``batch.last_seq``)."""
        self.commit()
        self._db.execute("DELETE FROM spool WHERE seq <= ?", (batch.last_seq,))
        self._forget(batch)

    def quarantine(self, batch: SpoolBatch, error: str) -> None:
        """Move rows the store will never accept out of the way, keeping them for inspection."""
        self.commit()
        self._db.execute("BEGIN")
        for row in batch.rows:
            self._db.execute(
                "INSERT OR REPLACE INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.seq, row.series, row.columns, row.n, row.data, row.arrival_ms, error),
            )
            self._db.execute("DELETE FROM spool WHERE seq = ?", (row.seq,))
        self._db.execute("COMMIT")
        self._forget(batch)
        self.quarantined_points += batch.points
        logger.error("spool %s: quarantined %d points the store refuses: %s", self.path, batch.points, error)

    def _forget(self, batch: SpoolBatch) -> None:
        self.pending_rows -= len(batch.rows)
        self.pending_points -= batch.points
        self.pending_bytes -= sum(row.nbytes for row in batch.rows)
        last = batch.last_seq
        while self._first_seq_arrival and self._first_seq_arrival[0][0] <= last:
            self._first_seq_arrival.popleft()
        if self.pending_rows == 0:
            self._oldest_recovered_ms = None
        if self.pending_bytes < WARN_FRACTION * self.max_bytes:
            self._warned = False
            if self._full_logged:
                logger.warning("spool %s has room again; %d samples were dropped", self.path, self.rejected_points)
            self._full_logged = False

    def oldest_pending_arrival_ms(self) -> int | None:
        """Arrival time of the oldest sample not yet acknowledged by the store."""
        if self._oldest_recovered_ms is not None:
            return self._oldest_recovered_ms
        return self._first_seq_arrival[0][1] if self._first_seq_arrival else None

    # Reader side (writer thread)

    def read(self, after_seq: int, max_points: int) -> SpoolBatch | None:
        """Committed rows after ``after_seq``, up to about ``max_points`` points, merged per series."""
        with self._reader_lock:
            cursor = self._reader.execute(
                "SELECT seq, series, columns, n, data, arrival_ms FROM spool WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, max(1, min(max_points, 20_000))),
            )
            rows: list[SpoolRow] = []
            points = 0
            for record in cursor:
                rows.append(SpoolRow(*record))
                points += record[3]
                if points >= max_points:
                    break
            cursor.close()
        if not rows:
            return None
        return SpoolBatch(rows, merge_rows(rows))

    def close(self) -> None:
        """Commit and close both connections."""
        self.commit()
        with self._reader_lock:
            self._reader.close()
        self._db.close()

"""The store interface shared by ingest (writes) and monitor (reads), and its columnar point batch."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from ingest.store.errors import EncodeError

FieldType = Literal["integer", "float", "boolean", "string"]
FIELD_TYPES: tuple[FieldType, ...] = ("integer", "float", "boolean", "string")


def field_type(column: np.ndarray) -> FieldType:
    """The store type of a field column, by its dtype: integer kinds, floating, bool, or str/object."""
    kind = np.asarray(column).dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer"
    return "float" if kind == "f" else "string"


def require_finite(name: str, column: np.ndarray) -> None:
    """Raise `EncodeError` naming the first NaN or infinity of a float field column: no backend holds them."""
    finite = np.isfinite(column)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise EncodeError(f"field {name!r}: {column[row]} at row {row} is not a finite number")


@dataclass(frozen=True)
class PointBatch:
    """Points of one measurement and one tag set, column-wise.

    `time_ms` is int64 milliseconds since the Unix epoch (UTC). Each field column has the same length;
    its dtype gives the field type: integer kinds → integer, floating → float, bool → boolean,
    str/object → string.
    """

    measurement: str
    tags: Mapping[str, str]
    time_ms: np.ndarray
    fields: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        n = len(self.time_ms)
        for name, column in self.fields.items():
            if len(column) != n:
                raise ValueError(f"field {name!r} has {len(column)} values for {n} timestamps")

    def __len__(self) -> int:
        return len(self.time_ms)


@dataclass
class Frame:
    """Rows read back from the store: timestamps and one column per requested field.

    Numeric columns are float64 with NaN where a row has no value; string columns are object arrays with None.
    """

    time_ms: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time_ms)


@dataclass
class ManyFrame:
    """Points of many athletes (a bulk read): ``athletes[athlete_index[i]]`` owns row ``i``; sorted by athlete,
    then time.

    Columns are float64 with NaN where a point has no (numeric) value.
    """

    athletes: list[str]
    athlete_index: np.ndarray
    time_ms: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.time_ms)


@dataclass(frozen=True)
class RetryBudget:
    """How hard a networked backend (InfluxDB) tries before raising `StoreUnavailable`; pass it to `open_store`.

    Each request waits at most ``timeout_s``, is retried (429, 5xx, timeouts, connection errors) at most
    ``max_retries`` times with jittered exponential backoff from ``backoff_base_s`` up to ``backoff_cap_s``, and
    gives up when waiting more would exceed ``max_total_s``. The embedded SQLite file has no network and ignores it.
    """

    timeout_s: float = 10.0
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_total_s: float = 120.0


@dataclass(frozen=True)
class SeriesInfo:
    """One series of an athlete: measurement and tag set, its fields with their types, points and time span.

    ``points`` counts distinct timestamps. On InfluxDB it is the largest per-field count, which is exact when
    one field is present in every point of the series (true of every measurement in docs/data-model.md).
    """

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldType]
    points: int
    first_ms: int
    last_ms: int


class Store(Protocol):
    """What every backend offers: InfluxDB over the v1-compatible API, or an embedded SQLite file."""

    url: str

    def write(self, batches: Iterable[PointBatch]) -> int:
        """Write batches; the same series and timestamp overwrite (exactly-once). Returns points written."""

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
        """Rows of a measurement in [start_ms, end_ms) sorted by time: one athlete's, or everyone's with ``None``;
        optionally filtered by tags. Each key of ``with_tags`` adds a column of the rows' tag values (None where
        a series lacks that tag)."""

    def read_many(
        self,
        measurement: str,
        fields: Sequence[str],
        athletes: Sequence[str] | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> ManyFrame:
        """Numeric ``fields`` of ``measurement`` for ``athletes`` (default: every athlete, sorted) in
        [start_ms, end_ms), in one bulk read; non-numeric values read as NaN. Analysis jobs read through this."""

    def count(
        self, measurement: str, athlete: str | None = None, start_ms: int | None = None, end_ms: int | None = None
    ) -> int:
        """Number of points (rows) of a measurement, optionally for one athlete and time range."""

    def list_athletes(self, measurement: str | None = None) -> list[str]:
        """Every athlete ID with data in the store (or in one measurement), sorted."""

    def series(self, athlete: str) -> list[SeriesInfo]:
        """Every series holding points of one athlete, sorted by measurement then tags ([] for an unknown ID)."""

    def delete_athlete(self, athlete: str) -> int:
        """Remove every point of one athlete, in all measurements; returns the number of points removed."""

    def close(self) -> None:
        """Release connections; pending writes are already flushed by `write`."""

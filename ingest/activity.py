"""The contract between file decoders and the importer: an activity with a stable identity, its points, a summary.

Every imported file also gets one `activity` point (tags `athlete`, `source`, `device`; field `activity_id`)
stamped at the activity's identity time. Before writing, the importer looks that point up through
`Store.read`, so re-importing a file, or the same activity under another file name, is reported as a duplicate
and writes nothing, on every store backend.

Two optional members let an activity go beyond one athlete and plain overwriting:
`athletes(default) -> list[str]` (a session log with an `athlete` column writes for several athletes; each gets
its own `activity` point) and `store_conflict(store, athlete) -> str | None` (a reason not to write, e.g. an RR
reading that would interleave with another reading already stored at the same time; it may instead raise
`FileDecodeError` with the line of the row the conflict is about).

A third, `attach(store, athlete) -> None`, lets an activity write some of its rows onto points already in the store
instead of adding points of its own: a session-log row with a start time becomes the RPE of the watch session it
describes (`ingest.session_match`). The importer calls it after the duplicate and conflict checks, right before
`batches`, and reports a `FileDecodeError` it raises as the file's failure; it must not change the activity's
identity, so re-importing the file stays a duplicate whatever the store held the first time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ingest.store.base import PointBatch, Store
from ingest.timeline import DAY_MS

ACTIVITY_MEASUREMENT = "activity"
SUMMARY_KEYS = (
    "sport",
    "start",
    "duration_s",
    "distance_m",
    "avg_hr_bpm",
    "rr_count",
    "gct_balance_left_pct",
    "gct_symmetry_index_pct",
    "pedal_balance_left_pct",
)
"""Keys of `ImportedActivity.summary()`, in report order; a value is None when the file has no such data."""
EXTRA_KEYS = ("format", "readings", "skipped", "srpe_load", "detail")
"""Further summary keys of text imports (layout, readings, rows skipped, total sRPE load, a one-line description)."""
FUTURE_TOLERANCE_MS = DAY_MS
"""How far after now (UTC) data may be dated: clock skew and time zones written as UTC (a local 07:00 in UTC+14,
a date-only session log row stamped 12:00 UTC of today); anything later is refused."""


class FileDecodeError(ValueError):
    """A file cannot be imported; the message is the one-line reason (the caller adds the file name).

    `line` is the 1-based line of a text file the reason is about (None for binary files or the file as a whole);
    the importer reports it as `file:line: reason`.
    """

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


class FileSkipped(FileDecodeError):
    """A file that is recognised but holds nothing this product imports (e.g. HRV Logger's per-window features, a
    recording longer than a morning reading): the importer reports it as skipped, not failed; nothing is written.
    The message is the one-line reason."""


@dataclass(frozen=True)
class SourceFile:
    """What a decoder gets: the file's path (for its name and error messages), its bytes, the import options."""

    path: Path
    data: bytes
    date: dt.date | None = None
    """`--date`: the day of an RR reading whose file name carries no date."""


class ImportedActivity(Protocol):
    """One decoded activity, fully validated, ready to be written in a single `Store.write` call."""

    activity_id: str
    """Stable identity of the activity (not of the file): the same recording under another name has the same ID."""
    time_ms: int
    """Timestamp of the `activity` point, derived from the identity (deterministic)."""
    source: str
    device: str
    samples: int
    """Number of source samples (FIT record messages, CSV rows, …), for throughput figures."""

    def batches(self, athlete: str) -> list[PointBatch]:
        """Every point of the activity except the `activity` record."""

    def summary(self) -> dict[str, Any]:
        """The `SUMMARY_KEYS` values plus `sessions` (number of sessions in the file)."""


def activity_tags(activity: ImportedActivity, athlete: str) -> dict[str, str]:
    return {"athlete": athlete, "source": activity.source, "device": activity.device}


def activity_batch(activity: ImportedActivity, athlete: str) -> PointBatch:
    """The `activity` point: identity plus the file-level summary (sport, sessions, duration, distance)."""
    summary = activity.summary()
    fields: dict[str, np.ndarray] = {
        "activity_id": np.array([activity.activity_id], dtype=object),
        "sessions": np.array([int(summary.get("sessions") or 0)], np.int64),
    }
    if summary.get("sport"):
        fields["sport"] = np.array([summary["sport"]], dtype=object)
    for name in ("duration_s", "distance_m"):
        if summary.get(name) is not None:
            fields[name] = np.array([float(summary[name])])
    return PointBatch(ACTIVITY_MEASUREMENT, activity_tags(activity, athlete), np.array([activity.time_ms]), fields)


def activity_athletes(activity: ImportedActivity, athlete: str) -> list[str]:
    """The athletes the activity writes points for: `athletes(default)` when it has one, else just `athlete`."""
    owners = getattr(activity, "athletes", None)
    return list(owners(athlete)) if callable(owners) else [athlete]


def store_conflict(activity: ImportedActivity, store: Store, athlete: str) -> str | None:
    """Why the activity must not be written into this store (None: nothing against it)."""
    check = getattr(activity, "store_conflict", None)
    return check(store, athlete) if callable(check) else None


def attach_to_store(activity: ImportedActivity, store: Store, athlete: str) -> bool:
    """Let the activity re-target rows onto stored points (`attach`); whether it has that hook."""
    hook = getattr(activity, "attach", None)
    if callable(hook):
        hook(store, athlete)
    return callable(hook)


def is_imported(store: Store, activity: ImportedActivity, athlete: str) -> bool:
    """Whether the store already holds this activity's `activity` point (same ID at the same time)."""
    frame = store.read(
        ACTIVITY_MEASUREMENT,
        athlete,
        ["activity_id"],
        activity.time_ms,
        activity.time_ms + 1,
        tags={"source": activity.source},
    )
    return activity.activity_id in set(frame.columns.get("activity_id", ()))


def _utc_text(time_ms: int) -> str:
    return dt.datetime.fromtimestamp(time_ms // 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")


def check_not_future(activity: ImportedActivity, batches: list[PointBatch], now_ms: int) -> None:
    """Raise `FileDecodeError` when a point is dated more than `FUTURE_TOLERANCE_MS` after `now_ms` (ms, UTC).

    The one check for every file type, run before anything is written. The line is the first future row in file
    order when the activity knows its rows' lines (optional member `first_row_after(limit_ms) -> (line, time_ms)`).
    """
    limit_ms = now_ms + FUTURE_TOLERANCE_MS
    late = [int(b.time_ms[b.time_ms > limit_ms].min()) for b in batches if np.any(b.time_ms > limit_ms)]
    if not late:
        return
    locate = getattr(activity, "first_row_after", None)
    row = locate(limit_ms) if callable(locate) else None
    line, time_ms = row if row is not None else (None, min(late))
    raise FileDecodeError(
        f"dated {_utc_text(time_ms)} UTC, after now ({_utc_text(now_ms)} UTC, with 1 day allowed for clock "
        "differences): a wrong date or device clock? nothing imported",
        line,
    )

"""RR files → one morning reading written as `rr` points (tags `source` = `device` = `file`).

The layouts and units are those `ingest.rr_files` reads (one interval in ms per line with an optional header, a
pyhrv NNI file in s, an HRV Logger RR CSV, a Kubios report). A file holds no usable clock time, so the reading is
placed on its day: `--date`, else the `YYYY-MM-DD` in the file name, else an error asking for `--date`. Beat `i` is
stamped at 06:00 UTC of that day plus the cumulative RR `rr_0 + … + rr_i`, rounded to the millisecond.

Two different readings on one day would interleave their beats in the store, so a reading is refused when the
store already holds other file RR intervals in its time span for that athlete; finishing an interrupted import of
the same reading (the stored beats match) is allowed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.activity import FileDecodeError, SourceFile
from ingest.imports.common import Table, TextActivity, iso_utc, utc_ms
from ingest.rr_files import RRFileError, read_rr_file, reading_date
from ingest.store.base import Store

SOURCE = DEVICE = "file"
READING_START_S = 6 * 3600
MAX_READING_S = 18 * 3600
"""A reading must end on its own day: at most the 18 h between 06:00 UTC and midnight."""


def beat_times(rr_ms: np.ndarray, day: dt.date) -> np.ndarray:
    """Beat timestamps (int64 ms): 06:00 UTC of `day` plus the cumulative RR, rounded."""
    times = utc_ms(day, READING_START_S) + np.rint(np.cumsum(rr_ms)).astype(np.int64)
    if len(times) > 1 and not np.all(np.diff(times) > 0):
        raise FileDecodeError("RR intervals below 1 ms: two beats would share a millisecond")
    return times


def rr_table(rr_ms: np.ndarray, day: dt.date) -> Table:
    """The reading as a `rr` table (pure)."""
    total_s = float(np.sum(rr_ms)) / 1000
    if total_s > MAX_READING_S:
        raise FileDecodeError(f"the reading lasts {total_s / 3600:.1f} h: a morning reading must end the same day")
    rr = np.asarray(rr_ms, dtype=float)
    return Table("rr", {"source": SOURCE, "device": DEVICE}, beat_times(rr, day), {"rr_ms": rr})


class RRReading(TextActivity):
    """One RR file as a morning reading; refuses to interleave with another reading already stored."""

    def store_conflict(self, store: Store, athlete: str) -> str | None:
        table = self.tables[0]
        times, rr = table.time_ms, table.numbers["rr_ms"]
        frame = store.read("rr", athlete, ["rr_ms"], int(times[0]), int(times[-1]) + 1, tags={"source": SOURCE})
        if not len(frame):
            return None
        at = np.clip(np.searchsorted(times, frame.time_ms), 0, len(times) - 1)
        same = (times[at] == frame.time_ms) & np.isclose(rr[at], frame.columns["rr_ms"])
        if same.all():
            return None
        span = f"{iso_utc(int(times[0]))[:16]}-{iso_utc(int(times[-1]))[11:16]} UTC"
        return (
            f"the store already holds other RR intervals from a file for {athlete} in {span}: another reading on "
            "that day? import this one with another --date"
        )


def decode_rr(source: SourceFile) -> RRReading:
    """Parse an RR file read by the importer (layouts: `ingest.rr_files`) and place it on its day."""
    try:
        rr_file = read_rr_file(source.path, source.data)
        day = reading_date(source.path, source.date)
    except RRFileError as exc:
        raise FileDecodeError(exc.problem, exc.line) from None
    if day is None:
        raise FileDecodeError("no date for this reading: pass --date YYYY-MM-DD or put YYYY-MM-DD in the file name")
    table = rr_table(rr_file.rr_ms, day)
    n = len(table)
    duration_s = float(np.sum(rr_file.rr_ms)) / 1000
    info = {
        "start": iso_utc(utc_ms(day, READING_START_S)),
        "duration_s": duration_s,
        "avg_hr_bpm": 60000 / float(np.mean(rr_file.rr_ms)),
        "rr_count": n,
        "readings": 1,
        "detail": f"{n} beats ({rr_file.layout}, values in {rr_file.unit}), {duration_s / 60:.1f} min on {day}",
    }
    return RRReading(f"rr-{rr_file.layout}", SOURCE, DEVICE, [table], n, info)

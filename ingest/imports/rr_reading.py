"""RR files → one morning reading written as `rr` points (tags `source` = `device` = `file`).

The layouts and units are those `ingest.rr_files` reads (one interval in ms per line with an optional header, a
pyhrv NNI file in s, an HRV Logger RR CSV, a Kubios report). Placing the beats in time:

- a file with clock times (HRV Logger's `timestamp`, ms since the epoch) is dated by them: beat 0 at the first
  row's timestamp, beat `i` at that time plus `rr_1 + … + rr_i`; `--date` and a date in the file name are ignored;
- a file without clock times is placed on its day: `--date`, else the `YYYY-MM-DD` in the file name, else an error
  asking for `--date`; beat `i` at 06:00 UTC of that day plus `rr_0 + … + rr_i`.

Times are rounded to the millisecond. A recording whose beats span more than `MORNING_READING_MAX_S` (10 min,
first to last beat) is not a morning reading: the analysis would use none of it, so it is skipped (`FileSkipped`)
and nothing is written.

Two different readings at one time would interleave their beats in the store, so a reading is refused when the
store already holds other file RR intervals in its time span for that athlete; finishing an interrupted import of
the same reading (the stored beats match) is allowed.
"""

from __future__ import annotations

import numpy as np

from ingest.activity import FileDecodeError, FileSkipped, SourceFile
from ingest.imports.common import Table, TextActivity, utc_ms
from ingest.model import RR
from ingest.rr_files import RRFile, RRFileError, read_rr_file, reading_date
from ingest.store.base import Store
from ingest.timeline import MORNING_READING_MAX_S, iso_utc

SOURCE = DEVICE = "file"
READING_START_S = 6 * 3600
"""Start of a reading placed on its day (a file without clock times): 06:00 UTC."""


def beat_times(rr_ms: np.ndarray, start_ms: int, *, first_at_start: bool = False) -> np.ndarray:
    """Beat timestamps (int64 ms): `start_ms` plus the cumulative RR, rounded; with `first_at_start` beat 0 is at
    `start_ms` itself (its interval ended at that time)."""
    elapsed_ms = np.cumsum(rr_ms) - (rr_ms[0] if first_at_start else 0.0)
    times = start_ms + np.rint(elapsed_ms).astype(np.int64)
    if len(times) > 1 and not np.all(np.diff(times) > 0):
        raise FileDecodeError("RR intervals below 1 ms: two beats would share a millisecond")
    return times


def rr_table(rr_file: RRFile, times_ms: np.ndarray) -> Table:
    """The reading as a `rr` table (pure); every row keeps its line in the file."""
    rr = np.asarray(rr_file.rr_ms, dtype=float)
    return Table("rr", {"source": SOURCE, "device": DEVICE}, times_ms, {"rr_ms": rr}, lines=rr_file.lines)


def check_morning_length(times_ms: np.ndarray) -> None:
    """Raise `FileSkipped` when the beats span more than a morning reading (`MORNING_READING_MAX_S`, inclusive)."""
    span_s = float(times_ms[-1] - times_ms[0]) / 1000
    if span_s > MORNING_READING_MAX_S:
        limit_min = MORNING_READING_MAX_S / 60
        raise FileSkipped(
            f"not a morning reading: {span_s / 60:.1f} min (a morning reading lasts at most {limit_min:g} min); "
            "not imported"
        )


class RRReading(TextActivity):
    """One RR file as a morning reading; refuses to interleave with another reading already stored."""

    def store_conflict(self, store: Store, athlete: str) -> str | None:
        table = self.tables[0]
        times, rr = table.time_ms, table.numbers["rr_ms"]
        frame = store.read(RR.name, athlete, ["rr_ms"], int(times[0]), int(times[-1]) + 1, tags={"source": SOURCE})
        if not len(frame):
            return None
        at = np.clip(np.searchsorted(times, frame.time_ms), 0, len(times) - 1)
        same = (times[at] == frame.time_ms) & np.isclose(rr[at], frame.columns["rr_ms"])
        if same.all():
            return None
        span = f"{iso_utc(int(times[0]))[:16]}-{iso_utc(int(times[-1]))[11:16]} UTC"
        hint = "the same recording exported twice?" if self.info.get("clock") else "import this one with another --date"
        return (
            f"the store already holds other RR intervals from a file for {athlete} in {span}: another reading at "
            f"that time? {hint}"
        )


def decode_rr(source: SourceFile) -> RRReading:
    """Parse an RR file read by the importer (layouts: `ingest.rr_files`) and place it in time."""
    try:
        rr_file = read_rr_file(source.path, source.data)
        elapsed_ms = beat_times(rr_file.rr_ms, 0, first_at_start=rr_file.start_ms is not None)
        check_morning_length(elapsed_ms)  # before asking for a date it would not use
        day = None if rr_file.start_ms is not None else reading_date(source.path, source.date)
    except RRFileError as exc:
        raise FileDecodeError(exc.problem, exc.line) from None
    if rr_file.start_ms is not None:
        start_ms = rr_file.start_ms
        when = f"from {iso_utc(start_ms)[:16].replace('T', ' ')} UTC (the file's timestamps)"
    elif day is not None:
        start_ms = utc_ms(day, READING_START_S)
        when = f"on {day}"
    else:
        raise FileDecodeError("no date for this reading: pass --date YYYY-MM-DD or put YYYY-MM-DD in the file name")
    times = start_ms + elapsed_ms
    table = rr_table(rr_file, times)
    n = len(table)
    duration_s = float(np.sum(rr_file.rr_ms)) / 1000
    info = {
        "start": iso_utc(start_ms),
        "duration_s": duration_s,
        "avg_hr_bpm": 60000 / float(np.mean(rr_file.rr_ms)),
        "rr_count": n,
        "readings": 1,
        "clock": rr_file.start_ms is not None,
        "detail": f"{n} beats ({rr_file.layout}, values in {rr_file.unit}), {duration_s / 60:.1f} min {when}",
    }
    return RRReading(f"rr-{rr_file.layout}", SOURCE, DEVICE, [table], n, info)

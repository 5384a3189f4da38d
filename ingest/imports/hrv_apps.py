"""Daily HRV app exports → one `readiness` point per day, tag `source` = the app (`hrv4training`, `elitehrv`).

Layouts, recognised by header names (case and surrounding spaces ignored):

- `hrv4training`: the header has `rmssd` and `hrv4t_recovery_points`. iOS exports time the reading with
  `timestamp_measurement` (`2017-04-01 09:56:21 +0000`, `2018-07-06 8:00:57 a. m. +0000`); Android exports with
  `date` and `time` (`HH:MM` wall clock, taken as UTC). Android dates are written year-day-month: per file, a
  middle part above 12 means yyyy-dd-mm, a last part above 12 means yyyy-mm-dd, both at once is an error, and
  neither falls back to yyyy-dd-mm. Rows may have more fields than the header; the extra fields are ignored.
- `elitehrv`: the header has `datetime`, `rmssd` and `lnrmssd`; only rows of `Type` `readiness` (morning
  readings) are read. The `Member` column (a person's name) is never read.

Fields: `rmssd_ms`, `ln_rmssd` (= ln `rmssd_ms`), `sdnn_ms`, `mean_rr_ms` (HRV4Training AVNN), `mean_hr_bpm` (the
app's HR during the morning reading, i.e. the resting HR), `app_score` (HRV4Training recovery points, Elite HRV
readiness score 1-10), `app_verdict` (HRV4Training's daily message classified as `below normal`, `normal` or
`above normal`; Elite HRV's indication as `green`, `yellow` or `red`) and `app_message` (the message as written).
The point is stamped at the reading's time (UTC). Rows without a reading (rMSSD missing or 0: days the app filled
with training data only) and later readings of a day that already has one are skipped and counted.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

import numpy as np

from ingest.activity import FileDecodeError
from ingest.imports.common import CsvTable, Table, TextActivity, cell, check_range, number, utc_ms
from ingest.timeline import DAY_MS, iso_utc

HRV4T_MARKERS = ("rmssd", "hrv4t_recovery_points")
ELITE_MARKERS = ("datetime", "rmssd", "lnrmssd")
VERDICTS = (
    ("below normal", ("below", "por debajo")),
    ("above normal", ("above", "por encima")),
    ("normal", ("normal",)),
)
"""HRV4Training daily message → verdict: the first phrase found decides (English and Spanish exports)."""
ELITE_INDICATIONS = {"g": "green", "y": "yellow", "r": "red"}
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(?:([ap])\.?\s*m\.?)?)?"
    r"\s*(?:(Z|UTC|GMT)|([+-])(\d{2}):?(\d{2}))?$",
    re.IGNORECASE,
)


def is_hrv4training(names: Sequence[str]) -> bool:
    return all(n in names for n in HRV4T_MARKERS)


def is_elitehrv(names: Sequence[str]) -> bool:
    return all(n in names for n in ELITE_MARKERS)


def verdict(message: str) -> str | None:
    """The category of an HRV4Training daily message, None if no phrase is recognised."""
    text = message.lower()
    return next((name for name, phrases in VERDICTS if any(p in text for p in phrases)), None)


def parse_timestamp(text: str, column: str, line: int, *, day_first: bool = False) -> int:
    """`YYYY-MM-DD[ H:MM[:SS][ a. m.|PM]][ +HHMM|Z]` → ms since the epoch (no offset: taken as UTC)."""
    match = _TIMESTAMP.match(text.strip())
    if not match:
        raise FileDecodeError(f"{column}: {text[:40]!r} is not a date and time", line)
    year, a, b, hour, minute, second, half, _utc, sign, off_h, off_m = match.groups()
    month, day = (int(b), int(a)) if day_first else (int(a), int(b))
    hours = int(hour or 0)
    if half:
        if not 1 <= hours <= 12:
            raise FileDecodeError(f"{column}: {text[:40]!r} has an hour outside 1-12 with a.m./p.m.", line)
        hours = hours % 12 + (12 if half.lower() == "p" else 0)
    try:
        date = dt.date(int(year), month, day)
        seconds = dt.time(hours, int(minute or 0), int(second or 0))
    except ValueError:
        raise FileDecodeError(f"{column}: {text[:40]!r} is not a valid date and time", line) from None
    offset_s = 0 if not sign else (1 if sign == "+" else -1) * (int(off_h) * 3600 + int(off_m) * 60)
    return utc_ms(date, seconds.hour * 3600 + seconds.minute * 60 + seconds.second - offset_s)


def day_first_order(dates: Sequence[str], line: int) -> bool:
    """Whether `YYYY-xx-yy` dates of one file are year-day-month (see the module docstring)."""
    parts = [d.split("-") for d in dates if re.match(r"^\d{4}-\d{1,2}-\d{1,2}$", d)]
    middle, last = any(int(p[1]) > 12 for p in parts), any(int(p[2]) > 12 for p in parts)
    if middle and last:
        raise FileDecodeError("date: some dates are yyyy-dd-mm and others yyyy-mm-dd", line)
    return not last


class _Readings:
    """Morning readings collected row by row: time, numbers and texts, plus the count of rows without one."""

    NUMBERS = ("rmssd_ms", "ln_rmssd", "sdnn_ms", "mean_rr_ms", "mean_hr_bpm", "app_score")
    TEXTS = ("app_verdict", "app_message")

    def __init__(self) -> None:
        self.time_ms: list[int] = []
        self.lines: list[int] = []
        self.numbers: dict[str, list[float]] = {n: [] for n in self.NUMBERS}
        self.texts: dict[str, list[str | None]] = {n: [] for n in self.TEXTS}
        self.no_reading = 0

    def add(self, time_ms: int, values: dict[str, float], texts: dict[str, str | None], line: int) -> None:
        check_range(values["rmssd_ms"], "rMSSD", line, 0, 1000, low_open=True)
        check_range(values.get("mean_hr_bpm", math.nan), "HR", line, 20, 250)
        check_range(values.get("sdnn_ms", math.nan), "SDNN", line, 0, 2000)
        check_range(values.get("mean_rr_ms", math.nan), "AVNN", line, 200, 3000)
        values["ln_rmssd"] = math.log(values["rmssd_ms"])
        self.time_ms.append(time_ms)
        self.lines.append(line)
        for name in self.NUMBERS:
            self.numbers[name].append(values.get(name, math.nan))
        for name in self.TEXTS:
            self.texts[name].append(texts.get(name))

    def activity(self, layout: str, samples: int, header_line: int) -> TextActivity:
        if not self.time_ms:
            raise FileDecodeError(f"no readings: none of the {self.no_reading} rows has an rMSSD", header_line)
        times = np.array(self.time_ms, np.int64)
        order = np.argsort(times, kind="stable")
        days = times[order] // DAY_MS
        first_of_day = np.concatenate(([True], days[1:] != days[:-1]))
        keep = order[first_of_day]
        numbers = {k: np.array(v, float)[keep] for k, v in self.numbers.items()}
        texts = {k: np.array(v, dtype=object)[keep] for k, v in self.texts.items()}
        numbers = {k: v for k, v in numbers.items() if np.isfinite(v).any()}
        texts = {k: v for k, v in texts.items() if any(x is not None for x in v)}
        lines = np.array(self.lines, np.int64)[keep]
        table = Table("readiness", {"source": layout}, times[keep], numbers, texts, lines=lines)
        repeats = len(times) - len(keep)
        first, last = iso_utc(int(table.time_ms[0]))[:10], iso_utc(int(table.time_ms[-1]))[:10]
        detail = f"{len(keep)} daily readings {first} to {last}, mean rMSSD {numbers['rmssd_ms'].mean():.1f} ms"
        if self.no_reading:
            detail += f"; {self.no_reading} row(s) without a reading skipped"
        if repeats:
            detail += f"; {repeats} later reading(s) of the same day skipped"
        info = {
            "start": iso_utc(int(table.time_ms[0])),
            "readings": len(keep),
            "skipped": self.no_reading + repeats,
            "detail": detail,
        }
        return TextActivity(layout, layout, layout, [table], samples, info)


def _value(table: CsvTable, fields: Sequence[str], line: int, *names: str) -> float:
    return number(cell(fields, table.index(*names)), names[0], line)


def parse_hrv4training(table: CsvTable) -> TextActivity:
    """The `hrv4training` layout (iOS and Android exports)."""
    stamp = table.index("timestamp_measurement")
    date, clock = table.index("date"), table.index("time")
    if stamp is None and (date is None or clock is None):
        raise FileDecodeError(
            "HRV4Training export without a timestamp_measurement column or date and time columns", table.header_line
        )
    day_first = stamp is None and day_first_order([cell(f, date) for _, f in table.rows], table.header_line)
    readings = _Readings()
    for line, fields in table.rows:
        values = {
            "rmssd_ms": _value(table, fields, line, "rmssd"),
            "sdnn_ms": _value(table, fields, line, "sdnn"),
            "mean_rr_ms": _value(table, fields, line, "avnn"),
            "mean_hr_bpm": _value(table, fields, line, "hr"),
            "app_score": _value(table, fields, line, "hrv4t_recovery_points"),
        }
        if math.isnan(values["rmssd_ms"]) or values["rmssd_ms"] == 0:
            readings.no_reading += 1
            continue
        if stamp is not None:
            time_ms = parse_timestamp(cell(fields, stamp), "timestamp_measurement", line)
        else:
            text = f"{cell(fields, date)} {cell(fields, clock)}"
            time_ms = parse_timestamp(text, "date and time", line, day_first=day_first)
        raw_message = cell(fields, table.index("daily_message"))
        message = None if raw_message in ("", "-") else raw_message
        texts = {"app_verdict": message and verdict(message), "app_message": message}
        readings.add(time_ms, values, texts, line)
    return readings.activity("hrv4training", len(table.rows), table.header_line)


def parse_elitehrv(table: CsvTable) -> TextActivity:
    """The `elitehrv` layout: Elite HRV's CSV export; only `readiness` rows."""
    kind = table.index("type")
    readings = _Readings()
    for line, fields in table.rows:
        if kind is not None and cell(fields, kind).lower() not in ("", "readiness"):
            readings.no_reading += 1
            continue
        values = {
            "rmssd_ms": _value(table, fields, line, "rmssd"),
            "sdnn_ms": _value(table, fields, line, "sdnn"),
            "mean_hr_bpm": _value(table, fields, line, "hr"),
            "app_score": _value(table, fields, line, "score"),
        }
        if math.isnan(values["rmssd_ms"]) or values["rmssd_ms"] == 0:
            readings.no_reading += 1
            continue
        time_ms = parse_timestamp(cell(fields, table.index("datetime")), "Datetime", line)
        indication = cell(fields, table.index("indication")).lower()
        readings.add(time_ms, values, {"app_verdict": ELITE_INDICATIONS.get(indication, indication or None)}, line)
    return readings.activity("elitehrv", len(table.rows), table.header_line)

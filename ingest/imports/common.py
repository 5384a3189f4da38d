"""Shared pieces of the text importers: CSV lines with their line numbers, numbers, a columnar table of rows with
missing values, and the `TextActivity` every text format decodes into.

Parsing is pure (bytes or lines in, values out); every problem is a `FileDecodeError` carrying the line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.activity import EXTRA_KEYS, SUMMARY_KEYS, FileDecodeError
from ingest.model import measurement
from ingest.store.base import PointBatch, Store
from ingest.timeline import day_start_ms

MISSING = ("", "-")
"""Cell values that mean 'no value' (HRV4Training writes `-`)."""
DELIMITERS = (",", ";", "\t")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def text_lines(data: bytes) -> list[str]:
    """The file's lines: UTF-8 with or without a BOM (else Windows-1252); CR-only, CRLF and LF line endings."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def first_content_line(lines: Sequence[str]) -> int | None:
    """Index of the first line that is not blank, or None."""
    return next((i for i, line in enumerate(lines) if line.strip()), None)


def delimiter_of(header: str) -> str | None:
    """The header's field separator (`,`, `;` or tab, in that order of preference), None for a one-column file."""
    return next((d for d in DELIMITERS if d in header), None)


def split_fields(line: str, delimiter: str) -> list[str]:
    """One CSV line's fields, stripped (quotes honoured: `"['team', 'soccer']"` is one field)."""
    return [f.strip() for f in next(csv.reader([line], delimiter=delimiter), [])]


def normalise_name(name: str) -> str:
    return name.strip().strip('"').strip().lower()


@dataclass(frozen=True)
class CsvTable:
    """A header and its data rows, each row with its 1-based line number; blank rows are left out."""

    names: tuple[str, ...]
    """Normalised (stripped, lower-case) header names."""
    header_line: int
    rows: list[tuple[int, list[str]]]

    def index(self, *names: str) -> int | None:
        """Position of the first of `names` present in the header."""
        return next((self.names.index(n) for n in names if n in self.names), None)


def read_csv(lines: Sequence[str], header_index: int, delimiter: str) -> CsvTable:
    names = tuple(normalise_name(n) for n in split_fields(lines[header_index], delimiter))
    rows = []
    for i in range(header_index + 1, len(lines)):
        if lines[i].strip():
            fields = split_fields(lines[i], delimiter)
            if any(fields):
                rows.append((i + 1, fields))
    return CsvTable(names, header_index + 1, rows)


def cell(fields: Sequence[str], index: int | None) -> str:
    """The stripped cell at `index`, "" when the column is absent or the row is short."""
    return fields[index].strip() if index is not None and index < len(fields) else ""


def number(text: str, column: str, line: int) -> float:
    """A finite number, NaN for a missing cell; anything else is a FileDecodeError naming column and line."""
    if text in MISSING:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise FileDecodeError(f"{column}: not a number: {text[:40]!r}", line) from None
    if not math.isfinite(value):
        raise FileDecodeError(f"{column}: not a finite number: {text[:40]!r}", line)
    return value


def check_range(value: float, column: str, line: int, low: float, high: float, *, low_open: bool = False) -> None:
    """Raise unless `value` (NaN = missing, accepted) lies in [low, high] (or (low, high] with `low_open`)."""
    if math.isnan(value):
        return
    if value > high or value < low or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise FileDecodeError(f"{column}: {value:g} is outside {bracket}{low:g}, {high:g}]", line)


def utc_ms(day: dt.date, seconds_of_day: float = 0.0) -> int:
    """Milliseconds since the epoch of `day` 00:00 UTC plus `seconds_of_day`."""
    return day_start_ms(day) + round(seconds_of_day * 1000)


@dataclass
class Table:
    """Rows of one measurement, column-wise. Numbers: float64 with NaN = missing; texts: object with None = missing.

    `tags` are fixed for every row; `row_tags` vary per row (e.g. `sport`); `athlete` holds a per-row athlete with
    "" meaning the athlete the file is imported for; `lines` the 1-based line of each row in the file (for error
    messages; not part of the identity).
    """

    measurement: str
    tags: dict[str, str]
    time_ms: np.ndarray
    numbers: dict[str, np.ndarray]
    texts: dict[str, np.ndarray] = field(default_factory=dict)
    row_tags: dict[str, np.ndarray] = field(default_factory=dict)
    athlete: np.ndarray | None = None
    lines: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.time_ms)

    def athletes(self, default: str) -> np.ndarray:
        if self.athlete is None:
            return np.full(len(self), default, dtype=object)
        return np.where(self.athlete == "", default, self.athlete).astype(object)

    def batches(self, default_athlete: str) -> list[PointBatch]:
        """One batch per athlete, row tag values and set of present fields; NaN and None are never written."""
        names = [*self.numbers, *self.texts]
        if not len(self) or not names:
            return []
        present = np.stack(
            [np.isfinite(c) for c in self.numbers.values()] + [c != None for c in self.texts.values()],  # noqa: E711
            axis=1,
        )
        codes = present @ (1 << np.arange(len(names), dtype=np.int64))
        athletes = self.athletes(default_athlete)
        keys = [athletes, *self.row_tags.values()]
        groups: dict[tuple, list[int]] = {}
        for row in range(len(self)):
            groups.setdefault((*(k[row] for k in keys), int(codes[row])), []).append(row)
        batches = []
        for key, rows in groups.items():
            code = key[-1]
            if not code:
                continue
            index = np.array(rows)
            tags = {"athlete": key[0], **self.tags, **dict(zip(self.row_tags, key[1:-1], strict=True))}
            columns: dict[str, np.ndarray] = {}
            for j, (name, column) in enumerate([*self.numbers.items(), *self.texts.items()]):
                if code >> j & 1:
                    columns[name] = column[index]
            batches.append(measurement(self.measurement).batch(tags, self.time_ms[index], columns))
        return batches

    def canonical(self) -> dict[str, Any]:
        """The normalised rows as JSON-able lists (the basis of the file's identity)."""
        return {
            "measurement": self.measurement,
            "tags": self.tags,
            "time_ms": self.time_ms.tolist(),
            "numbers": {k: [None if math.isnan(v) else v for v in c.tolist()] for k, c in self.numbers.items()},
            "texts": {k: c.tolist() for k, c in self.texts.items()},
            "row_tags": {k: c.tolist() for k, c in self.row_tags.items()},
            "athlete": None if self.athlete is None else self.athlete.tolist(),
        }


def content_digest(tables: Sequence[Table]) -> str:
    """SHA-256 of the normalised rows: the same data in another file name, line ending or number spelling
    (`7` vs `7.0`) has the same digest."""
    text = json.dumps([t.canonical() for t in tables], sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class TextActivity:
    """A decoded text file (see `ingest.activity.ImportedActivity`): tables of rows plus its summary.

    The identity is `<measurement>:<first 32 hex digits of content_digest>`; the `activity` point is stamped at the
    first row's time, rounded down to the second, plus 0-999 ms taken from the digest, so that two different
    files starting in the same second keep separate identity records.
    """

    layout: str
    source: str
    device: str
    tables: list[Table]
    samples: int
    info: dict[str, Any] = field(default_factory=dict)
    activity_id: str = ""
    time_ms: int = 0

    def __post_init__(self) -> None:
        digest = content_digest(self.tables)
        first = min(int(t.time_ms.min()) for t in self.tables if len(t))
        self.activity_id = f"{self.tables[0].measurement}:{digest[:32]}"
        self.time_ms = first - first % 1000 + int(digest[:8], 16) % 1000

    def batches(self, athlete: str) -> list[PointBatch]:
        return [b for t in self.tables for b in t.batches(athlete)]

    def athletes(self, default: str) -> list[str]:
        return sorted({str(a) for t in self.tables for a in t.athletes(default)})

    def summary(self) -> dict[str, Any]:
        out = {key: self.info.get(key) for key in SUMMARY_KEYS}
        out["sessions"] = self.info.get("sessions", 0)
        out.update({key: self.info.get(key) for key in EXTRA_KEYS})
        out["format"] = self.layout
        return out

    def store_conflict(self, store: Store, athlete: str) -> str | None:
        return None

    def first_row_after(self, limit_ms: int) -> tuple[int, int] | None:
        """(line, time in ms) of the first row in file order stamped after `limit_ms`; None when there is none or
        the rows have no lines."""
        found = []
        for t in self.tables:
            late = t.time_ms > limit_ms
            if t.lines is not None and late.any():
                first = int(np.argmin(np.where(late, t.lines, np.iinfo(np.int64).max)))
                found.append((int(t.lines[first]), int(t.time_ms[first])))
        return min(found, default=None)

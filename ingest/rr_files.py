"""Readers for RR-interval files: each file is one reading.

Layouts (the unit is fixed by the layout or declared by the file, never guessed from the values):

- ``plain``: one interval per line in **ms**; blank lines and ``#`` comment lines are skipped; an optional single
  header line may declare seconds (``rr_s``, ``RR (s)``, ``seconds``…) or ms (``rr_ms``, ``RR (ms)``…).
- ``pyhrv-nni``: pyhrv's NNI series file, first line ``# NNI SERIES FILE``; one interval per line in **seconds**
  after a header block (whose lines normally, but not always, start with ``#``).
- ``hrv-logger``: HRV Logger's RR export, a CSV with header ``timestamp, rr, since_start``; ``rr`` in **ms**,
  ``timestamp`` the beat's arrival in **ms since the epoch** (UTC): the reading starts at the first row's timestamp.
- ``kubios-report``: a Kubios HRV results report; the ``RR interval`` column of its ``RR INTERVAL DATA`` listing,
  whose unit row says ``(s)`` or ``(ms)``.

Any other CSV header is an unknown layout. Every problem is a :class:`RRFileError` whose message is one line
starting with ``file:line:``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

Unit = Literal["ms", "s"]

MS_PER_UNIT = {"ms": 1.0, "s": 1000.0}
PLAUSIBLE_MEDIAN_MS = (150.0, 5000.0)  # a file whose median is outside this range has the wrong unit
CSV_SEPARATORS = re.compile(r"[,;\t]")
NNI_MARKER = "# NNI SERIES FILE"
KUBIOS_MARKER = "RR INTERVAL DATA"
HRV_LOGGER_COLUMNS = ("timestamp", "rr", "since_start")
SECONDS_HEADER = re.compile(r"(^|[^a-z])(s|sec|secs|seconds?)([^a-z]|$)", re.IGNORECASE)
MS_HEADER = re.compile(r"(^|[^a-z])(ms|msec|millis|milliseconds?)([^a-z]|$)", re.IGNORECASE)
DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
EPOCH_MS_RANGE = (946_684_800_000, 4_102_444_800_000)
"""Plausible epoch-ms timestamps: 2000-01-01 to 2100-01-01 UTC (a value in seconds or µs falls outside)."""
FEATURES_COLUMNS = ("timestamp", "hr", "avnn", "sdnn", "rmssd", "pnn50", "artifacts_removed")
"""Columns of HRV Logger's `*_Features.csv` (per-window values the app computed), besides `index`, LF/HF, DFA."""


class RRFileError(ValueError):
    """An RR file that cannot be read; ``str()`` is one line ``file:line: problem``."""

    def __init__(self, path: str | Path, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        super().__init__(f"{path}:{line}: {problem}" if line else f"{path}: {problem}")


@dataclass(frozen=True)
class RRFile:
    """One reading read from a file: RR intervals in ms, the layout recognised and the unit it declared, the line
    of each interval and, for layouts with clock times, the first beat's time (ms since the epoch, UTC)."""

    path: Path
    layout: str
    unit: Unit
    rr_ms: np.ndarray
    lines: np.ndarray
    start_ms: int | None = None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _lines(path: Path, data: bytes | None) -> list[str]:
    try:
        raw = path.read_bytes() if data is None else data
    except IsADirectoryError:
        raise RRFileError(path, None, "is a directory, not an RR file") from None
    text = raw.decode("utf-8-sig", errors="replace")
    return text.splitlines()


def _to_ms(path: Path, values: list[float], lines: list[int], unit: Unit) -> np.ndarray:
    """Scale to ms and check every value is a positive finite interval and the median is plausible."""
    if not values:
        last = max(lines[-1] if lines else 1, 1)
        raise RRFileError(path, last, "no RR intervals in the file")
    rr = np.asarray(values, dtype=float) * MS_PER_UNIT[unit]
    bad = np.flatnonzero(~(np.isfinite(rr) & (rr > 0)))
    if bad.size:
        raise RRFileError(path, lines[bad[0]], f"RR interval must be positive and finite, got {values[bad[0]]:g}")
    median = float(np.median(rr))
    if not PLAUSIBLE_MEDIAN_MS[0] <= median <= PLAUSIBLE_MEDIAN_MS[1]:
        raise RRFileError(path, lines[0], f"median RR {median:g} ms is implausible with values in {unit}: wrong unit?")
    return rr


def _read_column_lines(path: Path, lines: list[str], unit: Unit, header_block: bool, layout: str) -> RRFile:
    """One value per line. ``header_block``: every line before the first value is header; else at most one."""
    values: list[float] = []
    numbers: list[int] = []
    header_seen = False
    for lineno, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        value = _number(text)
        if value is None:
            if values or (header_seen and not header_block):
                raise RRFileError(path, lineno, f"not a number: {text[:40]!r}")
            header_seen = True
            if not header_block and SECONDS_HEADER.search(text) and not MS_HEADER.search(text):
                unit = "s"
            continue
        values.append(value)
        numbers.append(lineno)
    if not numbers:
        numbers = [len(lines)]
    return RRFile(path, layout, unit, _to_ms(path, values, numbers, unit), np.array(numbers))


def _split_csv(line: str) -> list[str]:
    return [field.strip() for field in CSV_SEPARATORS.split(line)]


def _epoch_ms(path: Path, text: str, line: int) -> int:
    value = _number(text)
    if value is None or not EPOCH_MS_RANGE[0] <= value < EPOCH_MS_RANGE[1]:
        raise RRFileError(path, line, f"timestamp {text[:40]!r} is not a time in ms since 1970 (years 2000-2099)")
    return round(value)


def _read_hrv_logger(path: Path, lines: list[str], header_line: int) -> RRFile:
    column = HRV_LOGGER_COLUMNS.index("rr")
    values: list[float] = []
    numbers: list[int] = []
    start_ms: int | None = None
    for lineno, line in enumerate(lines[header_line:], header_line + 1):
        if not line.strip():
            continue
        fields = _split_csv(line)
        if len(fields) != len(HRV_LOGGER_COLUMNS):
            raise RRFileError(path, lineno, f"expected {len(HRV_LOGGER_COLUMNS)} fields, got {len(fields)}")
        value = _number(fields[column])
        if value is None:
            raise RRFileError(path, lineno, f"rr is not a number: {fields[column][:40]!r}")
        stamp = _epoch_ms(path, fields[0], lineno)
        start_ms = stamp if start_ms is None else start_ms
        values.append(value)
        numbers.append(lineno)
    rr_ms = _to_ms(path, values, numbers or [len(lines)], "ms")
    return RRFile(path, "hrv-logger", "ms", rr_ms, np.array(numbers), start_ms)


def _read_kubios(path: Path, lines: list[str]) -> RRFile:
    start = next((i for i, line in enumerate(lines) if line.startswith(KUBIOS_MARKER)), None)
    if start is None or start + 4 >= len(lines):
        raise RRFileError(path, len(lines), f"Kubios report without a complete {KUBIOS_MARKER!r} section")
    names, units = _split_csv(lines[start + 3]), _split_csv(lines[start + 4])
    column = next((i for i, name in enumerate(names) if name.lower() == "rr interval"), None)
    if column is None or column >= len(units) or units[column] not in ("(s)", "(ms)"):
        raise RRFileError(path, start + 4, "Kubios report: no 'RR interval' column with a (s) or (ms) unit")
    unit: Unit = "s" if units[column] == "(s)" else "ms"
    values: list[float] = []
    numbers: list[int] = []
    for lineno, line in enumerate(lines[start + 5 :], start + 6):
        fields = _split_csv(line)
        if len(fields) <= column or not fields[column]:
            continue  # the spectrum columns run longer or shorter than the RR listing
        value = _number(fields[column])
        if value is None:
            raise RRFileError(path, lineno, f"RR interval is not a number: {fields[column][:40]!r}")
        values.append(value)
        numbers.append(lineno)
    rr_ms = _to_ms(path, values, numbers or [len(lines)], unit)
    return RRFile(path, "kubios-report", unit, rr_ms, np.array(numbers))


def read_rr_file(path: str | Path, data: bytes | None = None) -> RRFile:
    """Read one RR file (see the module docstring for the layouts), or parse its ``data`` when the caller has read
    it already; raises :class:`RRFileError`."""
    path = Path(path)
    try:
        lines = _lines(path, data)
    except OSError as exc:
        raise RRFileError(path, None, exc.strerror or str(exc)) from None
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise RRFileError(path, 1, "empty file")
    head = lines[first].strip()
    if head.startswith(NNI_MARKER):
        return _read_column_lines(path, lines, "s", header_block=True, layout="pyhrv-nni")
    if head.startswith("HRV ANALYSIS RESULTS") and any("Kubios" in line for line in lines[first : first + 5]):
        return _read_kubios(path, lines)
    header = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None)
    if header is not None and CSV_SEPARATORS.search(lines[header]):
        fields = tuple(f.lower() for f in _split_csv(lines[header]))
        if fields == HRV_LOGGER_COLUMNS:
            return _read_hrv_logger(path, lines, header + 1)
        raise RRFileError(path, header + 1, f"unknown CSV layout (first row {lines[header].strip()[:60]!r})")
    return _read_column_lines(path, lines, "ms", header_block=False, layout="plain")


def reading_date(path: str | Path, override: str | dt.date | None = None) -> dt.date | None:
    """Date of the reading in ``path``: ``override`` (a date or ``YYYY-MM-DD``) if given, else the ``YYYY-MM-DD``
    in the file name, else None. Two different dates in the name or an impossible date raise RRFileError."""
    path = Path(path)
    if isinstance(override, dt.date):
        return override
    if override is not None:
        try:
            return dt.date.fromisoformat(override)
        except ValueError:
            raise RRFileError(path, None, f"--date {override!r} is not a YYYY-MM-DD date") from None
    dates = set()
    for year, month, day in DATE_IN_NAME.findall(path.name):
        try:
            dates.add(dt.date(int(year), int(month), int(day)))
        except ValueError:
            raise RRFileError(path, None, f"impossible date {year}-{month}-{day} in the file name") from None
    if len(dates) > 1:
        raise RRFileError(path, None, f"several dates in the file name: {', '.join(map(str, sorted(dates)))}")
    return dates.pop() if dates else None

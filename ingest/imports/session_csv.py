"""Session logs as CSV → one `session` point per row (tag `source` = `csv`), in two layouts:

- `session-log`: header names `date`, `duration_min` and `rpe` (any order and case) plus any of `athlete`, `time`,
  `sport`, `distance_km`, `avg_hr`, `gct_balance_left_pct`, `muscle_load_left`, `muscle_load_right`,
  `pedal_balance_left_pct`. Other columns are ignored and listed in the summary. `date` is `YYYY-MM-DD`, `time`
  `HH:MM[:SS]` in UTC (without it the session starts at 12:00 UTC); an `athlete` cell overrides `--athlete`.
- `pmsys-srpe`: PMSys `srpe.csv` (PMData): `end_date_time, activity_names, perceived_exertion, duration_min`; the
  session starts `duration_min` before its end; rows without RPE and duration (`{}` sessions) are skipped and
  counted.

Derived fields: `srpe_load` = RPE × minutes, `duration_s`, `distance_m`, and the symmetry indices (positive = left
larger): `gct_symmetry_index_pct` = 4·(B − 50), `pedal_symmetry_index_pct` = 4·(B − 50) and
`muscle_symmetry_index_pct` = (L − R) / (0.5·(L + R)) × 100. Two sessions of one athlete and sport with the same
start would overwrite each other in the store, so they are an error (add a `time` column).

A session-log row with a `time` is the same session as a recorded (FIT, BLE) session of that athlete starting on the
same UTC day within ±30 min (`ingest.session_match`): at import its `rpe` and `srpe_load` (from the row's own
`duration_min`), plus any row value the stored session lacks, are written onto the stored point that carries that
session's sRPE instead of adding a second session; the watch's own measurements are never overwritten. When several
rows match one session, the nearest row is attached and the others stay sessions of their own. A carrier that
already holds a different RPE fails the file (`recovery-monitor rpe --replace` changes it). Rows without a `time`,
rows without a match and PMSys rows stay `csv` sessions. Importing the log before the watch file is safe too: the
watch session then carries no RPE, and sRPE load counts only sessions with an RPE.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ingest.activity import FileDecodeError
from ingest.imports.common import CsvTable, Table, TextActivity, cell, check_range, number, utc_ms
from ingest.model import SESSION
from ingest.session_match import RPE_FIELDS, StoredSession, carrier, nearest, stored_sessions
from ingest.store.base import PointBatch, Store
from ingest.timeline import DAY_MS, iso_utc

SOURCE = "csv"
REQUIRED = ("date", "duration_min", "rpe")
OPTIONAL = (
    "athlete",
    "time",
    "sport",
    "distance_km",
    "avg_hr",
    "gct_balance_left_pct",
    "muscle_load_left",
    "muscle_load_right",
    "pedal_balance_left_pct",
)
PMSYS_COLUMNS = ("end_date_time", "activity_names", "perceived_exertion", "duration_min")
SESSION_HINTS = frozenset({"duration_min", "rpe", "perceived_exertion"})
"""A header with one of these names is meant to be a session log: missing columns are named, not 'unknown'."""
DEFAULT_START_S = 12 * 3600
SPORTS = {
    "run": "run",
    "running": "run",
    "ride": "ride",
    "cycling": "ride",
    "bike": "ride",
    "biking": "ride",
    "swim": "swim",
    "swimming": "swim",
    "strength": "strength",
    "gym": "strength",
    "weights": "strength",
}
PMSYS_GROUPS = frozenset({"individual", "team"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_LABEL = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def is_session_log(names: Sequence[str]) -> bool:
    return all(n in names for n in REQUIRED)


def is_pmsys(names: Sequence[str]) -> bool:
    return all(n in names for n in PMSYS_COLUMNS)


def missing_columns(names: Sequence[str]) -> list[str]:
    """Required session-log columns absent from a header that names a session column ([] if it names none)."""
    return [n for n in REQUIRED if n not in names] if SESSION_HINTS & set(names) else []


def sport_tag(text: str) -> str:
    """`sport` tag value: common names mapped (`running` → `run`, `cycling` → `ride`, …), else lower case."""
    text = text.strip().lower()
    return SPORTS.get(text, re.sub(r"\s+", "_", text)) if text else "other"


def pmsys_sport(labels: Sequence[str]) -> str:
    """PMSys activity labels → sport tag: the one activity besides `individual`/`team`, `mixed` for several."""
    kinds = [label for label in labels if label not in PMSYS_GROUPS]
    if not kinds:
        return "other"
    return sport_tag(kinds[0]) if len(kinds) == 1 else "mixed"


@dataclass
class _Sessions:
    """Session rows in file order; `seen` maps (athlete, sport, start) to the line that has it."""

    lines: list[int] = field(default_factory=list)
    time_ms: list[int] = field(default_factory=list)
    athlete: list[str] = field(default_factory=list)
    sport: list[str] = field(default_factory=list)
    numbers: list[dict[str, float]] = field(default_factory=list)
    texts: list[dict[str, str | None]] = field(default_factory=list)
    timed: list[bool] = field(default_factory=list)
    seen: dict[tuple[str, str, int], int] = field(default_factory=dict)

    def add(
        self, line: int, time_ms: int, athlete: str, sport: str, numbers: dict, texts: dict, timed: bool = False
    ) -> None:
        key = (athlete, sport, time_ms)
        if key in self.seen:
            raise FileDecodeError(
                f"same athlete, sport and start ({iso_utc(time_ms)}) as line {self.seen[key]}: the store would keep "
                "only one; add a `time` column to tell the sessions apart",
                line,
            )
        self.seen[key] = line
        self.lines.append(line)
        self.time_ms.append(time_ms)
        self.athlete.append(athlete)
        self.sport.append(sport)
        self.numbers.append(numbers)
        self.texts.append(texts)
        self.timed.append(timed)

    def number_columns(self, order: np.ndarray) -> dict[str, np.ndarray]:
        names = dict.fromkeys(name for row in self.numbers for name in row)
        return {n: np.array([row.get(n, math.nan) for row in self.numbers], float)[order] for n in names}

    def text_columns(self, order: np.ndarray) -> dict[str, np.ndarray]:
        names = dict.fromkeys(name for row in self.texts for name, value in row.items() if value is not None)
        return {n: np.array([row.get(n) for row in self.texts], dtype=object)[order] for n in names}


def _checked_core(fields: Sequence[str], table: CsvTable, line: int, rpe_name: str) -> tuple[float, float] | None:
    """RPE and duration in minutes of one row, validated; None when both are empty."""
    rpe = number(cell(fields, table.index(rpe_name)), rpe_name, line)
    minutes = number(cell(fields, table.index("duration_min")), "duration_min", line)
    if math.isnan(rpe) and math.isnan(minutes):
        return None
    if math.isnan(rpe) or math.isnan(minutes):
        raise FileDecodeError(f"{rpe_name if math.isnan(rpe) else 'duration_min'}: missing value", line)
    check_range(rpe, rpe_name, line, 0, 10)
    check_range(minutes, "duration_min", line, 0, 24 * 60, low_open=True)
    return rpe, minutes


def _too_many_fields(fields: Sequence[str], table: CsvTable, line: int) -> None:
    if len(fields) > len(table.names):
        raise FileDecodeError(f"{len(fields)} fields but the header has {len(table.names)} columns", line)


def _date(text: str, line: int) -> dt.date:
    try:
        if _DATE.match(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise FileDecodeError(f"date: {text[:40]!r} is not a YYYY-MM-DD date", line)


def _seconds_of_day(text: str, line: int) -> float:
    if not text:
        return DEFAULT_START_S
    match = _TIME.match(text)
    hours, minutes, seconds = (int(g or 0) for g in match.groups()) if match else (99, 0, 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise FileDecodeError(f"time: {text[:40]!r} is not a HH:MM or HH:MM:SS time of day (UTC)", line)
    return hours * 3600 + minutes * 60 + seconds


def _log_row(table: CsvTable, fields: Sequence[str], line: int) -> tuple[int, str, str, dict[str, float]]:
    """One session-log row → start, athlete, sport and the raw numeric values."""
    day = _date(cell(fields, table.index("date")), line)
    start_ms = utc_ms(day, _seconds_of_day(cell(fields, table.index("time")), line))
    values = {name: number(cell(fields, table.index(name)), name, line) for name in OPTIONAL[3:]}
    check_range(values["distance_km"], "distance_km", line, 0, 1000)
    check_range(values["avg_hr"], "avg_hr", line, 20, 250)
    for name in ("gct_balance_left_pct", "pedal_balance_left_pct"):
        check_range(values[name], name, line, 0, 100)
    for name in ("muscle_load_left", "muscle_load_right"):
        check_range(values[name], name, line, 0, math.inf)
    return start_ms, cell(fields, table.index("athlete")), sport_tag(cell(fields, table.index("sport"))), values


def _session_fields(rpe: float, minutes: float, extra: dict[str, float] | None = None) -> dict[str, float]:
    fields = {"duration_s": minutes * 60, "rpe": rpe, "srpe_load": rpe * minutes}
    if extra:
        fields |= {
            "distance_m": extra["distance_km"] * 1000,
            "avg_hr_bpm": extra["avg_hr"],
            "gct_balance_left_pct": extra["gct_balance_left_pct"],
            "muscle_load_left": extra["muscle_load_left"],
            "muscle_load_right": extra["muscle_load_right"],
            "pedal_balance_left_pct": extra["pedal_balance_left_pct"],
        }
    return fields


def add_symmetry(numbers: dict[str, np.ndarray]) -> None:
    """Symmetry indices from the balances and per-side loads (NaN where an input is missing)."""
    nan = np.full(len(next(iter(numbers.values()))), np.nan)
    gct, pedal = numbers.get("gct_balance_left_pct", nan), numbers.get("pedal_balance_left_pct", nan)
    left, right = numbers.get("muscle_load_left", nan), numbers.get("muscle_load_right", nan)
    total = left + right
    with np.errstate(invalid="ignore", divide="ignore"):
        muscle = np.where(total > 0, (left - right) / (0.5 * total) * 100, np.nan)
    numbers["gct_symmetry_index_pct"] = 4 * (gct - 50)
    numbers["muscle_symmetry_index_pct"] = muscle
    numbers["pedal_symmetry_index_pct"] = 4 * (pedal - 50)


def _activity(layout: str, rows: _Sessions, skipped: int, ignored: Sequence[str]) -> SessionLog:
    order = np.argsort(np.array(rows.time_ms, np.int64), kind="stable")
    numbers = rows.number_columns(order)
    add_symmetry(numbers)
    numbers = {k: v for k, v in numbers.items() if np.isfinite(v).any()}
    table = Table(
        "session",
        {"source": SOURCE},
        np.array(rows.time_ms, np.int64)[order],
        numbers,
        rows.text_columns(order),
        {"sport": np.array(rows.sport, dtype=object)[order]},
        np.array(rows.athlete, dtype=object)[order] if any(rows.athlete) else None,
        lines=np.array(rows.lines, np.int64)[order],
    )
    sports = sorted(set(rows.sport))
    load = float(numbers["srpe_load"].sum())
    detail = f"{len(order)} sessions, sRPE load {load:,.0f} AU"
    if skipped:
        detail += f", {skipped} empty row(s) skipped"
    if ignored:
        detail += f"; ignored columns: {', '.join(ignored)}"
    distance = numbers.get("distance_m")
    info = {
        "sport": sports[0] if len(sports) == 1 else "mixed",
        "start": iso_utc(int(table.time_ms[0])),
        "duration_s": float(numbers["duration_s"].sum()),
        "distance_m": None if distance is None else float(np.nansum(distance)),
        "sessions": len(order),
        "skipped": skipped,
        "srpe_load": load,
        "detail": detail,
    }
    log = SessionLog(layout, SOURCE, layout, [table], len(order) + skipped, info)
    log.timed = np.array(rows.timed, bool)[order]
    return log


def parse_session_log(table: CsvTable) -> SessionLog:
    """The `session-log` layout (see the module docstring)."""
    rows = _Sessions()
    for line, fields in table.rows:
        _too_many_fields(fields, table, line)
        core = _checked_core(fields, table, line, "rpe")
        if core is None:
            raise FileDecodeError("rpe and duration_min: missing values", line)
        start_ms, athlete, sport, extra = _log_row(table, fields, line)
        timed = bool(cell(fields, table.index("time")))
        rows.add(line, start_ms, athlete, sport, _session_fields(*core, extra), {}, timed)
    if not rows.lines:
        raise FileDecodeError("no sessions: a header but no rows", table.header_line)
    ignored = [n for n in table.names if n not in REQUIRED + OPTIONAL]
    return _activity("session-log", rows, 0, ignored)


def _end_time(text: str, line: int) -> int:
    try:
        end = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FileDecodeError(f"end_date_time: {text[:40]!r} is not an ISO 8601 date and time", line) from None
    if end.tzinfo is None:
        end = end.replace(tzinfo=dt.UTC)
    return round(end.timestamp() * 1000)


def parse_pmsys(table: CsvTable) -> SessionLog:
    """The `pmsys-srpe` layout: PMSys session-RPE log as exported in PMData."""
    rows = _Sessions()
    skipped = 0
    for line, fields in table.rows:
        _too_many_fields(fields, table, line)
        core = _checked_core(fields, table, line, "perceived_exertion")
        if core is None:
            skipped += 1
            continue
        rpe, minutes = core
        start_ms = _end_time(cell(fields, table.index("end_date_time")), line) - round(minutes * 60_000)
        labels = [a or b for a, b in _LABEL.findall(cell(fields, table.index("activity_names")))]
        activity = ", ".join(labels) or None
        rows.add(line, start_ms, "", pmsys_sport(labels), _session_fields(rpe, minutes), {"activity": activity})
    if not rows.lines:
        raise FileDecodeError(f"no sessions: all {skipped} rows are empty sessions ({{}} activity, no RPE or duration)")
    return _activity("pmsys-srpe", rows, skipped, [])


_LABELS = {"rpe": "RPE", "srpe_load": "sRPE load (AU)"}


@dataclass
class SessionLog(TextActivity):
    """Session rows as `csv` sessions; `attach` re-targets rows with a `time` onto matching stored sessions."""

    timed: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    """Whether each row (table order) has a start of its own (a `time` cell)."""
    attached: list[PointBatch] = field(default_factory=list)
    own: np.ndarray | None = None
    """Rows written as sessions of their own (None: all of them)."""

    def attach(self, store: Store, athlete: str) -> None:
        """Choose each timed row's point (see the module docstring); a conflict is a FileDecodeError with the line."""
        table = self.tables[0]
        owners = table.athletes(athlete)
        targets: dict[tuple[str, int, str, str], tuple[int, int]] = {}  # carrier identity → (row, distance)
        carriers: dict[int, StoredSession] = {}
        for owner in sorted({str(a) for a in owners[self.timed]}):
            rows = np.flatnonzero(self.timed & (owners == owner))
            first, last = int(table.time_ms[rows].min()), int(table.time_ms[rows].max())
            start_ms = first - first % DAY_MS
            stored = stored_sessions(store, owner, start_ms, last - last % DAY_MS + DAY_MS, list(table.numbers))
            others = [s for s in stored if s.source != SOURCE]  # recorded, or made by `recovery-monitor rpe`
            for row in rows.tolist():
                match = nearest(others, int(table.time_ms[row]))
                if match is None:
                    continue
                point = carrier(stored, match)
                if self._is_own_point(point, row):
                    continue
                key = (point.athlete, point.time_ms, point.source, point.sport)
                distance = abs(point.time_ms - int(table.time_ms[row]))
                if key not in targets or distance < targets[key][1]:
                    targets[key] = (row, distance)
                    carriers[row] = point
        chosen = {row for row, _ in targets.values()}
        own = np.ones(len(table), bool)
        self.attached = []
        for row in sorted(chosen):
            self.attached.append(self._attach_batch(carriers[row], row))
            own[row] = False
        self.own = own
        if chosen:
            self.info["detail"] = f"{self.info['detail']}; {len(chosen)} attached to recorded sessions"

    def _is_own_point(self, point: StoredSession, row: int) -> bool:
        table = self.tables[0]
        own_sport = str(table.row_tags["sport"][row])
        return point.source == SOURCE and point.time_ms == int(table.time_ms[row]) and point.sport == own_sport

    def _attach_batch(self, point: StoredSession, row: int) -> PointBatch:
        """The row's RPE fields, plus the values the stored point lacks, written onto the stored point."""
        numbers = self.tables[0].numbers
        values = {name: float(column[row]) for name, column in numbers.items() if np.isfinite(column[row])}
        stored = {n: point.value(n) for n in RPE_FIELDS if np.isfinite(point.value(n))}
        if not all(np.isclose(v, values[n], rtol=1e-9) for n, v in stored.items()):
            held = " and ".join(f"{_LABELS[n]} {v:g}" for n, v in stored.items())
            said = " and ".join(f"{_LABELS[n]} {values[n]:g}" for n in stored)
            raise FileDecodeError(
                f"the {point.source} session at {iso_utc(point.time_ms)} already has {held}, this row says {said}: "
                "fix the row, or change the stored one with `recovery-monitor rpe --replace`",
                None if self.tables[0].lines is None else int(self.tables[0].lines[row]),
            )
        fields = {n: v for n, v in values.items() if n in RPE_FIELDS or not np.isfinite(point.value(n))}
        return SESSION.batch(point.tags, [point.time_ms], {n: [v] for n, v in fields.items()})

    def batches(self, athlete: str) -> list[PointBatch]:
        if self.own is None or self.own.all():
            return super().batches(athlete)
        t, keep = self.tables[0], self.own
        rest = Table(
            t.measurement,
            t.tags,
            t.time_ms[keep],
            {k: v[keep] for k, v in t.numbers.items()},
            {k: v[keep] for k, v in t.texts.items()},
            {k: v[keep] for k, v in t.row_tags.items()},
            None if t.athlete is None else t.athlete[keep],
        )
        return [*rest.batches(athlete), *self.attached]

"""A clinic's visit log (CSV) → `visit` points (ingest/visits.py, docs/visits.md).

Recognised by a header with `time` and `regions` (any order and case); optional columns `athlete`, `therapist`,
`needles`, `note`; other columns are ignored (and named in the import's detail line). One row per visit:

- `time`: ISO 8601 date and time (`2024-03-04T09:30`, `2024-03-04 09:30:15+02:00`); UTC without an offset;
- `regions`: names from docs/regions.md separated by `;` or `|` (or commas inside a quoted cell);
- `athlete`: pseudonymous ID, empty = the `--athlete` of the import; `therapist`: pseudonymous code;
- `needles`: a whole number 0-1000; `note`: one line, at most 500 characters; empty cells mean none.

The file is checked whole before anything is written: a bad row fails the file with its line. Two rows of the same
athlete and second are one visit when they agree and an error when they do not. A visit already stored with other
values fails the file too (change it with `recovery-monitor visit add --replace`); a row repeating a stored visit,
or adding a therapist, needle count or note it lacks, is fine. The identity is the content (`visit:` + SHA-256 of
the normalised rows), so re-importing the file, renamed or with its rows in another order, is a duplicate.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ingest.activity import FileDecodeError
from ingest.ids import PSEUDONYM_RULE, is_pseudonymous_id
from ingest.imports.common import CsvTable, cell, number
from ingest.store.base import PointBatch, Store
from ingest.timeline import iso_utc, parse_iso_ms
from ingest.visits import (
    Visit,
    VisitError,
    changed_fields,
    describe_visit,
    new_visit,
    read_visits,
    visit_batch,
    visit_id_for,
)

LAYOUT = "visit-log"
SOURCE = "csv"
REQUIRED = ("time", "regions")
OPTIONAL = ("athlete", "therapist", "needles", "note")
_REGION_SEPARATORS = re.compile(r"[;|,]")
_NO_FUTURE_LIMIT_MS = 1 << 62
"""Rows are checked for future times by the importer (`check_not_future`), as for every file type."""
_PLACEHOLDER = "athlete"
"""Stands for the import's `--athlete` while a row without an athlete cell is checked."""


def is_visit_log(names: Sequence[str]) -> bool:
    return all(name in names for name in REQUIRED)


def missing_columns(names: Sequence[str]) -> list[str]:
    """The required columns a header naming `regions` lacks ([] when it names no `regions` or has them all)."""
    return [name for name in REQUIRED if name not in names] if "regions" in names else []


@dataclass(frozen=True)
class _Row:
    line: int
    athlete: str
    """The athlete cell; "" = the import's `--athlete`."""
    visit: Visit
    """The row's visit, checked (for "" under a placeholder athlete)."""

    def key(self) -> tuple[Any, ...]:
        v = self.visit
        return (
            v.at_ms,
            self.athlete,
            v.regions,
            v.therapist or "",
            -1 if v.needles is None else v.needles,
            v.note or "",
        )


def _needles(text: str, line: int) -> int | None:
    value = number(text, "needles", line)
    if value != value:  # NaN: an empty cell
        return None
    if not value.is_integer():
        raise FileDecodeError(f"needles: {text[:40]!r} is not a whole number", line)
    return int(value)


def _row(table: CsvTable, fields: list[str], line: int) -> _Row:
    if len(fields) > len(table.names):
        raise FileDecodeError(
            f"{len(fields)} fields but the header has {len(table.names)} columns: separate regions with ; or | "
            "(or quote a comma list)",
            line,
        )
    time_text, regions = cell(fields, table.index("time")), cell(fields, table.index("regions"))
    if not time_text:
        raise FileDecodeError("time: missing", line)
    try:
        at_ms = parse_iso_ms(time_text)
    except ValueError as exc:
        raise FileDecodeError(f"time: {exc}", line) from None
    athlete = cell(fields, table.index("athlete"))
    try:
        visit = new_visit(
            athlete or _PLACEHOLDER,
            at_ms,
            _REGION_SEPARATORS.split(regions),
            therapist=cell(fields, table.index("therapist")) or None,
            needles=_needles(cell(fields, table.index("needles")), line),
            note=cell(fields, table.index("note")) or None,
            now_ms=_NO_FUTURE_LIMIT_MS,
        )
    except VisitError as exc:
        raise FileDecodeError(str(exc), line) from None
    return _Row(line, athlete, visit)


def parse_visit_log(table: CsvTable) -> VisitLog:
    """The `visit-log` layout (see the module docstring)."""
    rows = [_row(table, fields, line) for line, fields in table.rows]
    if not rows:
        raise FileDecodeError("no visits: a header but no rows", table.header_line)
    ignored = [n for n in table.names if n not in REQUIRED + OPTIONAL]
    return VisitLog(rows, ignored)


@dataclass
class VisitLog:
    """A decoded visit log: an `ImportedActivity` (ingest/activity.py) whose points are `visit` points."""

    rows: list[_Row]
    ignored: list[str] = field(default_factory=list)
    source: str = SOURCE
    device: str = LAYOUT
    activity_id: str = ""
    time_ms: int = 0
    samples: int = 0

    def __post_init__(self) -> None:
        canonical = sorted({row.key() for row in self.rows})
        text = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(text.encode()).hexdigest()
        first = min(row.visit.at_ms for row in self.rows)
        self.activity_id = f"visit:{digest[:32]}"
        self.time_ms = first + int(digest[:8], 16) % 1000  # visit times are whole seconds
        self.samples = len(self.rows)

    def visits(self, athlete: str) -> list[tuple[int, Visit]]:
        """(line, visit) per distinct visit, with ``athlete`` for rows without one; two rows of one visit that
        disagree are a `FileDecodeError` naming both lines."""
        found: dict[str, tuple[int, Visit]] = {}
        for row in self.rows:
            visit = row.visit
            if not row.athlete:
                if not is_pseudonymous_id(athlete):
                    raise FileDecodeError(f"--athlete {athlete!r}: not a pseudonymous ID ({PSEUDONYM_RULE})", row.line)
                visit = dataclasses.replace(visit, athlete=athlete, visit_id=visit_id_for(athlete, visit.at_ms))
            earlier = found.setdefault(visit.visit_id, (row.line, visit))
            if earlier[1] != visit:
                raise FileDecodeError(
                    f"same athlete and second ({visit.athlete}, {iso_utc(visit.at_ms)}) as line {earlier[0]} with "
                    f"other values: one visit per athlete and time",
                    row.line,
                )
        return sorted(found.values(), key=lambda item: (item[1].at_ms, item[1].athlete))

    def batches(self, athlete: str) -> list[PointBatch]:
        return [visit_batch(visit) for _, visit in self.visits(athlete)]

    def athletes(self, default: str) -> list[str]:
        return sorted({row.athlete or default for row in self.rows})

    def store_conflict(self, store: Store, athlete: str) -> str | None:
        """A `FileDecodeError` with the line when a visit of the file is stored with other values (None: none)."""
        visits = self.visits(athlete)
        start, end = visits[0][1].at_ms, max(v.at_ms for _, v in visits) + 1
        stored = {v.visit_id: v for v in read_visits(store, start_ms=start, end_ms=end)}
        for line, visit in visits:
            held = stored.get(visit.visit_id)
            if held is not None and changed_fields(held, visit):
                raise FileDecodeError(
                    f"visit {held.visit_id} of {held.athlete} at {iso_utc(held.at_ms)} is already stored with other "
                    f"values ({describe_visit(held)}): fix the row, or change the stored visit with "
                    "`recovery-monitor visit add --replace`",
                    line,
                )
        return None

    def first_row_after(self, limit_ms: int) -> tuple[int, int] | None:
        late = [(row.line, row.visit.at_ms) for row in self.rows if row.visit.at_ms > limit_ms]
        return min(late, default=None)

    def summary(self) -> dict[str, Any]:
        athletes = {row.athlete for row in self.rows}
        distinct = len({row.key() for row in self.rows})
        detail = f"{distinct} visit(s)"
        if "" not in athletes:
            detail += f" of {len(athletes)} athlete(s)"
        if self.ignored:
            detail += f"; ignored columns: {', '.join(self.ignored)}"
        start = iso_utc(min(row.visit.at_ms for row in self.rows))
        return {"start": start, "sessions": 0, "format": LAYOUT, "detail": detail}

"""Treatment visits (the `visit` measurement, docs/data-model.md): validation, writing, reading, removal.

A visit is identified by its athlete and its time in whole seconds: `visit_id_for` derives the ID from both, so
writing the same visit twice (a repeated `visit add`, a re-imported visit log, a retried API call) is one point.
Removal writes a tombstone (`removed` = true) over the same point; nothing is deleted, and writing the visit again
revives it. Both stores merge fields of the same point, so a re-write keeps optional fields it leaves out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.analysis_due import mark_due
from ingest.ids import PSEUDONYM_RULE, is_pseudonymous_id
from ingest.model import VISIT
from ingest.regions import UnknownRegionError, parse_regions
from ingest.schema import stored_bool, stored_int, stored_text
from ingest.store.base import Frame, PointBatch, Store
from ingest.timeline import iso_utc

MAX_NOTE_CHARS = 500
MAX_NEEDLES = 1000
MAX_AHEAD_API_MS = 24 * 3_600_000
"""How far in the future the HTTP API accepts a visit time (clinic clocks, time zones)."""
MAX_AHEAD_CLI_MS = 5 * 60_000
"""The command line's clock tolerance: a visit typed as the next full minute or two is not refused."""
_FIELDS = ("regions", "therapist", "needles", "note", "removed")


class VisitError(ValueError):
    """A visit that cannot be recorded; the message is one line naming the input and the problem."""


class UnknownVisitRegionError(VisitError, UnknownRegionError):
    """A visit naming regions outside the vocabulary (``.unknown``, ``.allowed`` as `UnknownRegionError`)."""


class FutureVisitError(VisitError):
    """A visit time later than allowed (now plus the caller's tolerance)."""


class VisitNotFoundError(VisitError):
    """No (unremoved) visit has the given ID."""


@dataclass(frozen=True)
class Visit:
    """One visit: ID, pseudonymous athlete, time (ms since the epoch, whole seconds), sorted treated regions and
    the optional pseudonymous therapist code, needle count and one-line note."""

    visit_id: str
    athlete: str
    at_ms: int
    regions: tuple[str, ...]
    therapist: str | None = None
    needles: int | None = None
    note: str | None = None


def visit_id_for(athlete: str, at_ms: int) -> str:
    """`v-` + 12 hex digits of SHA-256 over the athlete and the visit's second: the same visit, the same ID."""
    digest = hashlib.sha256(f"{athlete}\n{at_ms // 1000}".encode()).hexdigest()
    return f"v-{digest[:12]}"


def visit_document(visit: Visit) -> dict[str, Any]:
    """The JSON form of a visit (CLI `--json`): ID, athlete, `at` as ISO UTC, regions as a list, optional values
    as null when absent."""
    return {
        "visit_id": visit.visit_id,
        "athlete": visit.athlete,
        "at": iso_utc(visit.at_ms),
        "regions": list(visit.regions),
        "therapist": visit.therapist,
        "needles": visit.needles,
        "note": visit.note,
    }


def clean_note(note: object) -> str | None:
    """A one-line note of at most `MAX_NOTE_CHARS` characters, stripped (blank: None); ValueError (one line)
    naming the problem: not text, too long, a control character or line break. Visits and check-ins share it."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise ValueError(f"note: must be text, not {type(note).__name__}")
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"note: {len(note)} characters, at most {MAX_NOTE_CHARS} allowed")
    bad = next((c for c in note if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") and c != "\t"), None)
    if bad is not None:
        raise ValueError(f"note: control character or line break {bad!r} not allowed (one line of text)")
    return note or None


def _check_note(note: str | None) -> str | None:
    try:
        return clean_note(note)
    except ValueError as exc:
        raise VisitError(str(exc)) from None


def _check_needles(needles: int | None) -> int | None:
    if needles is None:
        return None
    if isinstance(needles, bool) or not isinstance(needles, int | np.integer):
        raise VisitError(f"needles: {needles!r} is not a whole number")
    if not 0 <= needles <= MAX_NEEDLES:
        raise VisitError(f"needles: {needles} is outside 0-{MAX_NEEDLES}")
    return int(needles)


def new_visit(
    athlete: str,
    at_ms: int,
    regions: str | Iterable[str],
    *,
    therapist: str | None = None,
    needles: int | None = None,
    note: str | None = None,
    now_ms: int,
    max_ahead_ms: int = 0,
) -> Visit:
    """A validated `Visit` at ``at_ms`` truncated to whole seconds; `VisitError` (one line) on bad input:
    athlete or therapist not a pseudonymous ID, no or unknown regions (`UnknownVisitRegionError`), a time later
    than ``now_ms + max_ahead_ms`` (`FutureVisitError`; exactly at it is allowed) or before 1970, needles outside
    0-1000, a note longer than 500 characters or with line breaks. A blank note or therapist counts as none."""
    if not is_pseudonymous_id(athlete):
        raise VisitError(f"athlete {athlete!r}: not a pseudonymous ID ({PSEUDONYM_RULE})")
    if isinstance(therapist, str) and not therapist.strip():
        therapist = None
    if therapist is not None and not is_pseudonymous_id(therapist):
        raise VisitError(f"therapist {therapist!r}: not a pseudonymous code ({PSEUDONYM_RULE})")
    if isinstance(at_ms, bool) or not isinstance(at_ms, int | np.integer):
        raise VisitError(f"visit time {at_ms!r}: not integer milliseconds")
    at_ms = int(at_ms) // 1000 * 1000
    if at_ms < 0:
        raise VisitError(f"visit time {at_ms} ms: before 1970")
    if at_ms > now_ms + max_ahead_ms:
        raise FutureVisitError(f"visit time {iso_utc(at_ms)} is in the future (now {iso_utc(now_ms)})")
    try:
        names = parse_regions(regions)
    except UnknownRegionError as exc:
        raise UnknownVisitRegionError(exc.unknown) from None
    except ValueError as exc:
        raise VisitError(str(exc)) from None
    return Visit(
        visit_id_for(athlete, at_ms),
        athlete,
        at_ms,
        names,
        therapist=therapist,
        needles=_check_needles(needles),
        note=_check_note(note),
    )


def describe_visit(visit: Visit) -> str:
    """One line of a visit's values: `regions calf_l,lumbar, therapist 'T1', needles 4, note '…'`."""
    parts = [f"regions {','.join(visit.regions)}"]
    parts += [f"{k} {v!r}" for k in ("therapist", "needles", "note") if (v := getattr(visit, k)) is not None]
    return ", ".join(parts)


def merge_visit(stored: Visit, given: Visit) -> Visit:
    """What the store holds after ``given`` is written over ``stored`` (same ID): the regions replaced, the
    optional fields ``given`` carries replaced, the others kept. Equal to ``stored``: the write changes nothing."""
    optional = {k: v for k in ("therapist", "needles", "note") if (v := getattr(given, k)) is not None}
    return dataclasses.replace(stored, regions=given.regions, **optional)


def changed_fields(stored: Visit, given: Visit) -> list[str]:
    """The values of ``stored`` that writing ``given`` over it would change: `regions` when they differ, and each
    optional field both hold with different values (filling in a field ``stored`` lacks changes nothing stored)."""
    changed = ["regions"] if given.regions != stored.regions else []
    for name in ("therapist", "needles", "note"):
        old, new = getattr(stored, name), getattr(given, name)
        if old is not None and new is not None and old != new:
            changed.append(name)
    return changed


def visit_batch(visit: Visit) -> PointBatch:
    """The `visit` point of a visit (``removed`` false: writing a visit revives it); `VisitError` when the ID does
    not follow from athlete and time."""
    if visit.visit_id != visit_id_for(visit.athlete, visit.at_ms) or visit.at_ms % 1000:
        raise VisitError(f"visit {visit.visit_id!r}: the ID does not match athlete and time (use new_visit)")
    columns: dict[str, list[Any]] = {"regions": [",".join(visit.regions)], "removed": [False]}
    for name in ("therapist", "needles", "note"):
        if (value := getattr(visit, name)) is not None:
            columns[name] = [value]
    return VISIT.batch({"athlete": visit.athlete, "visit_id": visit.visit_id}, [visit.at_ms], columns)


def write_visits(store: Store, visits: Iterable[Visit]) -> int:
    """Write visits in one store call (SQLite: one transaction), then mark the analysis due; returns the visit points
    written. Writing a visit that exists replaces its regions and the optional fields given, and revives it when it
    was removed. Each athlete's analysis is marked due from their earliest visit written (a visit mutes the flags of
    the day after it)."""
    visits = list(visits)
    written = store.write([visit_batch(v) for v in visits])
    touched: dict[str, int] = {}
    for v in visits:
        touched[v.athlete] = min(v.at_ms, touched.get(v.athlete, v.at_ms))
    mark_due(store, touched)
    return written


def _visits(frame: Frame, athlete: str | None) -> list[Visit]:
    found = []
    columns = frame.columns
    for i, at_ms in enumerate(frame.time_ms.tolist()):
        regions = stored_text(columns["regions"][i])
        if regions is None or stored_bool(columns["removed"][i]):
            continue
        owner = athlete if athlete is not None else str(columns["athlete"][i])
        visit = Visit(
            str(columns["visit_id"][i]),
            owner,
            int(at_ms),
            tuple(regions.split(",")),
            therapist=stored_text(columns["therapist"][i]),
            needles=stored_int(columns["needles"][i]),
            note=stored_text(columns["note"][i]),
        )
        found.append(visit)
    return sorted(found, key=lambda v: (v.at_ms, v.athlete, v.visit_id))


def read_visits(
    store: Store, athlete: str | None = None, *, start_ms: int | None = None, end_ms: int | None = None
) -> list[Visit]:
    """The visits (not removed) of one athlete, or of everyone with None, in [start_ms, end_ms), sorted by time."""
    frame = store.read(VISIT.name, athlete, _FIELDS, start_ms, end_ms, with_tags=("athlete", "visit_id"))
    return _visits(frame, athlete)


def visits_in_window(store: Store, moment_ms: int, window_ms: int, athlete: str | None = None) -> list[Visit]:
    """The visits (of one athlete, or of everyone) whose window of ``window_ms`` after them holds ``moment_ms``:
    visit ≤ moment < visit + window (the quiet window and its after-care, docs/episodes.md)."""
    if window_ms <= 0:
        return []
    return read_visits(store, athlete, start_ms=moment_ms - window_ms + 1, end_ms=moment_ms + 1)


def find_visit(store: Store, visit_id: str) -> Visit | None:
    """The visit with ID ``visit_id``, or None when there is none or it was removed."""
    if not isinstance(visit_id, str) or not visit_id:
        return None
    frame = store.read(VISIT.name, None, _FIELDS, tags={"visit_id": visit_id}, with_tags=("athlete", "visit_id"))
    found = _visits(frame, None)
    return found[0] if found else None


def remove_visit(store: Store, visit_id: str) -> Visit:
    """Mark the visit removed (a tombstone over the same point; nothing is deleted) and return it;
    `VisitNotFoundError` naming the ID when no unremoved visit has it."""
    visit = find_visit(store, visit_id)
    if visit is None:
        raise VisitNotFoundError(f"visit {visit_id!r}: no such visit (visit list shows the IDs)")
    tombstone = VISIT.batch({"athlete": visit.athlete, "visit_id": visit.visit_id}, [visit.at_ms], {"removed": [True]})
    store.write([tombstone])
    mark_due(store, {visit.athlete: visit.at_ms})  # its quiet window no longer mutes those days' flags
    return visit

"""Morning wellness check-ins (the `wellness` and `soreness` measurements, docs/data-model.md): validation,
writing, reading.

A check-in holds the four Hooper items (Hooper & Mackinnon 1995, as used by McLean et al. 2010): sleep quality,
fatigue, muscle soreness and stress, each 1 = very, very good … 7 = very, very bad, so higher is worse for all
four; their sum is the Hooper index (4–28). Optionally: pain yes/no, after a visit whether the after-care advice
was followed (no NSAIDs, no ice), and a body map of sore regions (ingest/regions.py), each rated 1–10.

One check-in is one `wellness` point stamped at the submission (whole seconds, UTC) plus one `soreness` point per
sore region at the same time. The same athlete and second is the same point (the stores' identity rule), and a
form's one-time `submission_id` is stored with it, so a caller can tell a resubmitted form from a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.ids import PSEUDONYM_RULE, is_pseudonymous_id
from ingest.model import SORENESS, WELLNESS
from ingest.regions import REGION_NAMES, UnknownRegionError
from ingest.schema import stored_bool, stored_int, stored_text
from ingest.store.base import Frame, ManyFrame, PointBatch, Store
from ingest.timeline import iso_utc
from ingest.visits import clean_note

HOOPER_ITEMS = ("sleep_quality", "fatigue", "soreness", "stress")
"""The four Hooper items, in the order of the form."""
HOOPER_MIN, HOOPER_MAX = 1, 7
RATING_MIN, RATING_MAX = 1, 10
"""A sore region's rating; 0 means not sore (no point is written)."""
SOURCES = ("checkin", "csv", "history")
MAX_SUBMISSION_ID_CHARS = 64
_SUBMISSION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_WELLNESS_FIELDS = (*HOOPER_ITEMS, "pain", "aftercare_followed", "submission_id", "note")


class WellnessError(ValueError):
    """A check-in that cannot be recorded; the message is one line naming the input and the problem."""


class UnknownSoreRegionError(WellnessError, UnknownRegionError):
    """A body map naming regions outside the vocabulary (``.unknown``, ``.allowed`` as `UnknownRegionError`)."""


class FutureWellnessError(WellnessError):
    """A check-in time later than allowed (now plus the caller's tolerance)."""


@dataclass(frozen=True)
class Wellness:
    """One morning check-in: pseudonymous athlete, time (ms since the epoch, whole seconds), the four Hooper items
    (1–7, higher = worse), optional pain and after-care answers, sore regions (name → rating 1–10), the form's
    one-time ID, the source (`checkin`, `csv`, `history`) and an optional one-line note."""

    athlete: str
    time_ms: int
    sleep_quality: int
    fatigue: int
    soreness: int
    stress: int
    pain: bool | None = None
    aftercare_followed: bool | None = None
    regions: Mapping[str, int] = field(default_factory=dict)
    submission_id: str | None = None
    source: str = "checkin"
    note: str | None = None

    @property
    def hooper_index(self) -> int:
        """The sum of the four Hooper items, 4–28."""
        return self.sleep_quality + self.fatigue + self.soreness + self.stress


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise WellnessError(f"{name}: {value!r} is not a whole number")
    if not low <= value <= high:
        raise WellnessError(f"{name}: {value} is outside {low}-{high}")
    return int(value)


def _flag(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool | np.bool_):
        return None if value is None else bool(value)
    raise WellnessError(f"{name}: {value!r} is not yes/no (true or false)")


def _regions(regions: Mapping[str, Any] | None) -> dict[str, int]:
    if regions is None:
        return {}
    if not isinstance(regions, Mapping):
        raise WellnessError(f"regions: must map region names to ratings, not {type(regions).__name__}")
    unknown = sorted(str(name) for name in regions if name not in REGION_NAMES)
    if unknown:
        raise UnknownSoreRegionError(unknown)
    rated = {name: _whole(f"region {name}", rating, 0, RATING_MAX) for name, rating in regions.items()}
    return {name: rated[name] for name in sorted(rated) if rated[name] > 0}


def _submission_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise WellnessError(f"submission_id: {value!r} is not a non-empty text")
    if len(value) > MAX_SUBMISSION_ID_CHARS or not set(value) <= _SUBMISSION_CHARS:
        raise WellnessError(f"submission_id: at most {MAX_SUBMISSION_ID_CHARS} letters, digits, '-' or '_'")
    return value


def _note(note: Any) -> str | None:
    try:
        return clean_note(note)
    except ValueError as exc:
        raise WellnessError(str(exc)) from None


def validate_wellness(
    athlete: str,
    time_ms: int,
    sleep_quality: int,
    fatigue: int,
    soreness: int,
    stress: int,
    *,
    pain: bool | None = None,
    aftercare_followed: bool | None = None,
    regions: Mapping[str, int] | None = None,
    submission_id: str | None = None,
    source: str = "checkin",
    note: str | None = None,
    now_ms: int | None = None,
    max_ahead_ms: int = 0,
) -> Wellness:
    """A validated `Wellness` at ``time_ms`` truncated to whole seconds; `WellnessError` (one line) on bad input:
    athlete not a pseudonymous ID, a time before 1970 or (with ``now_ms``) later than ``now_ms + max_ahead_ms``
    (`FutureWellnessError`; exactly at it is allowed), a Hooper item outside 1–7, pain or after-care not a
    boolean, a region outside the vocabulary (`UnknownSoreRegionError`) or rated outside 0–10 (0 = not sore: left
    out), a submission ID that is not 1–64 of `A-Za-z0-9-_`, an unknown source, or a note that is not one line of
    at most 500 characters (a blank note counts as none)."""
    if not is_pseudonymous_id(athlete):
        raise WellnessError(f"athlete {athlete!r}: not a pseudonymous ID ({PSEUDONYM_RULE})")
    if isinstance(time_ms, bool) or not isinstance(time_ms, int | np.integer):
        raise WellnessError(f"check-in time {time_ms!r}: not integer milliseconds")
    time_ms = int(time_ms) // 1000 * 1000
    if time_ms < 0:
        raise WellnessError(f"check-in time {time_ms} ms: before 1970")
    if now_ms is not None and time_ms > now_ms + max_ahead_ms:
        raise FutureWellnessError(f"check-in time {iso_utc(time_ms)} is in the future (now {iso_utc(now_ms)})")
    given = (sleep_quality, fatigue, soreness, stress)
    sleep, tired, sore, stressed = (_whole(n, v, HOOPER_MIN, HOOPER_MAX) for n, v in zip(HOOPER_ITEMS, given))
    if source not in SOURCES:
        raise WellnessError(f"source {source!r}: not one of {', '.join(SOURCES)}")
    return Wellness(
        athlete,
        time_ms,
        sleep,
        tired,
        sore,
        stressed,
        pain=_flag("pain", pain),
        aftercare_followed=_flag("aftercare_followed", aftercare_followed),
        regions=_regions(regions),
        submission_id=_submission_id(submission_id),
        source=source,
        note=_note(note),
    )


def wellness_batches(item: Wellness) -> list[PointBatch]:
    """The `wellness` point of a check-in and one `soreness` point per sore region, all at its time."""
    columns: dict[str, list[Any]] = {name: [getattr(item, name)] for name in HOOPER_ITEMS}
    columns["hooper_index"] = [item.hooper_index]
    for name in ("pain", "aftercare_followed", "submission_id", "note"):
        if (value := getattr(item, name)) is not None:
            columns[name] = [value]
    tags = {"athlete": item.athlete, "source": item.source}
    batches = [WELLNESS.batch(tags, [item.time_ms], columns)]
    for name, rating in sorted(item.regions.items()):
        batches.append(SORENESS.batch({**tags, "region": name}, [item.time_ms], {"rating": [rating]}))
    return batches


def write_wellness(store: Store, items: Iterable[Wellness]) -> int:
    """Write check-ins in one store call (SQLite: one transaction); returns the points written (the `wellness`
    points plus the `soreness` points)."""
    return store.write([batch for item in items for batch in wellness_batches(item)])


def read_wellness(store: Store, athlete: str, start_ms: int | None = None, end_ms: int | None = None) -> list[Wellness]:
    """One athlete's check-ins in [start_ms, end_ms), sorted by time (then source), with their sore regions.
    Points without all four Hooper items are skipped."""
    frame = store.read(WELLNESS.name, athlete, _WELLNESS_FIELDS, start_ms, end_ms, with_tags=("source",))
    sore = store.read(SORENESS.name, athlete, ("rating",), start_ms, end_ms, with_tags=("region", "source"))
    regions: dict[tuple[int, str], dict[str, int]] = {}
    for i, time_ms in enumerate(sore.time_ms.tolist()):
        rating = stored_int(sore.columns["rating"][i])
        if rating is not None and rating > 0:
            key = (int(time_ms), str(sore.columns["source"][i]))
            regions.setdefault(key, {})[str(sore.columns["region"][i])] = rating
    found = []
    columns = frame.columns
    for i, time_ms in enumerate(frame.time_ms.tolist()):
        items = [stored_int(columns[name][i]) for name in HOOPER_ITEMS]
        if any(value is None for value in items):
            continue
        source = str(columns["source"][i])
        sleep_quality, fatigue, soreness, stress = (int(v) for v in items if v is not None)
        found.append(
            Wellness(
                athlete,
                int(time_ms),
                sleep_quality,
                fatigue,
                soreness,
                stress,
                pain=stored_bool(columns["pain"][i]),
                aftercare_followed=stored_bool(columns["aftercare_followed"][i]),
                regions=dict(sorted(regions.get((int(time_ms), source), {}).items())),
                submission_id=stored_text(columns["submission_id"][i]),
                source=source,
                note=stored_text(columns["note"][i]),
            )
        )
    return sorted(found, key=lambda w: (w.time_ms, w.source))


def stored_submissions(
    store: Store, athlete: str, start_ms: int | None = None, end_ms: int | None = None
) -> dict[int, str | None]:
    """Time (ms) → form ID (None without one) of the athlete's `wellness` points in [start_ms, end_ms): one read,
    for a writer checking a form or a second against what is stored."""
    frame = store.read(WELLNESS.name, athlete, ["submission_id"], start_ms, end_ms)
    return {int(t): stored_text(s) for t, s in zip(frame.time_ms.tolist(), frame.columns["submission_id"])}


def find_submission(store: Store, athlete: str, submission_id: str, start_ms: int | None = None) -> Wellness | None:
    """The athlete's check-in stored with the form ID ``submission_id`` (since ``start_ms``), or None."""
    return next((w for w in read_wellness(store, athlete, start_ms) if w.submission_id == submission_id), None)


WELLNESS_NUMBERS = (*HOOPER_ITEMS, "pain")
"""The numeric `wellness` fields an analysis reads."""


def read_wellness_many(
    store: Store, athletes: Sequence[str] | None = None, start_ms: int | None = None, end_ms: int | None = None
) -> tuple[ManyFrame, Frame]:
    """Bulk read for analysis jobs: the Hooper items and pain of the check-ins of ``athletes`` (default: every
    athlete) in [start_ms, end_ms) (``Store.read_many``: one read), and every sore region in that range with its
    `athlete` and `region` tags (one read; a caller keeps the athletes and check-in times it wants)."""
    items = store.read_many(WELLNESS.name, WELLNESS_NUMBERS, athletes, start_ms, end_ms)
    sore = store.read(SORENESS.name, None, ("rating",), start_ms, end_ms, with_tags=("athlete", "region"))
    return items, sore

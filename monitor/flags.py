"""Explainable flags raised by the analysis for therapists.

A flag carries everything needed to explain it without the code: the rule's value against its threshold, the
window, the first day the condition held continuously and a plain-language reason.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ingest.model import FLAG
from ingest.store.base import PointBatch

Severity = Literal["watch", "act"]


@dataclass(frozen=True)
class Flag:
    """One flag for one athlete."""

    athlete: str  # pseudonymous id, e.g. "A01"
    signal: str  # e.g. "hrv_suppressed"
    family: str  # e.g. "recovery"
    severity: Severity
    value: float  # the measured value the rule compared (unit in `reason`)
    threshold: float  # the value it had to cross
    window: str  # e.g. "7d mean vs 60d normal range"
    since: dt.date  # first day of the current continuous run of the condition
    reason: str  # plain-language sentence: value vs threshold, units, window, since
    post_visit: bool = False  # the day overlaps a visit's quiet window (monitor.lifecycle): shown muted

    def __post_init__(self) -> None:
        if self.severity not in ("watch", "act"):
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: ISO date strings, None for non-finite numbers."""
        return {
            "athlete": self.athlete,
            "signal": self.signal,
            "family": self.family,
            "severity": self.severity,
            "value": json_number(self.value),
            "threshold": json_number(self.threshold),
            "window": self.window,
            "since": self.since.isoformat(),
            "reason": self.reason,
            "post_visit": self.post_visit,
        }


def flag_point(flag: Flag) -> tuple[dict[str, str], dict[str, float | str | bool]]:
    """The tags and fields of the `flag` point holding ``flag`` (ingest/model.py); a non-finite number is left out,
    `post_visit` is always written (false too, so a re-analysis after a visit was removed clears it)."""
    tags = {name: str(getattr(flag, name)) for name in FLAG.tag_names}
    fields: dict[str, float | str | bool] = {}
    for name in FLAG.field_names:
        value = getattr(flag, name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        if isinstance(value, str | bool) or math.isfinite(value):  # NaN and infinity are never written
            fields[name] = value
    return tags, fields


def flag_batches_of(flags: Iterable[tuple[int, Flag]]) -> list[PointBatch]:
    """The `flag` points of ``(time_ms, flag)`` pairs: one batch per tag set and set of fields present."""
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[dict[str, str], list[int], list[dict[str, Any]]]] = {}
    for time_ms, flag in flags:
        tags, fields = flag_point(flag)
        group = groups.setdefault((tuple(tags.values()), tuple(fields)), (tags, [], []))
        group[1].append(time_ms)
        group[2].append(fields)
    return [
        FLAG.batch(tags, times, {name: [row[name] for row in rows] for name in rows[0]})
        for tags, times, rows in groups.values()
    ]


def flag_from_point(tags: Mapping[str, Any], fields: Mapping[str, Any]) -> Flag:
    """The flag a stored `flag` point holds (its tags and fields by model name; NaN or None where one is missing).

    A missing value or threshold reads as NaN, a missing `post_visit` as false; ValueError when `since` is not a
    YYYY-MM-DD date or the severity is unknown.
    """
    values: dict[str, Any] = {name: str(tags.get(name) or "") for name in FLAG.tag_names}
    for name in FLAG.field_names:
        field = FLAG.field(name)
        raw = fields.get(name)
        if field.type == "float":
            values[name] = math.nan if raw is None else float(raw)
        elif field.type == "boolean":
            values[name] = is_true(raw)
        else:
            values[name] = "" if raw is None else str(raw)
    try:
        values["since"] = dt.date.fromisoformat(values["since"])
    except ValueError:
        who = f"{values['athlete']!r} {values['signal']!r}"
        raise ValueError(f"flag point of {who}: since {values['since']!r} is not a YYYY-MM-DD date") from None
    return Flag(**values)


def is_true(raw: Any) -> bool:
    """A stored boolean read back (True, 1.0 or "true"); missing (None, NaN) is false."""
    if raw is None or isinstance(raw, str):
        return raw == "true"
    return bool(raw == 1)


def json_number(x: float | None, digits: int | None = None) -> float | None:
    """A finite number for JSON, rounded to ``digits`` when given; None for a missing or non-finite one."""
    if x is None or not math.isfinite(x):
        return None
    return float(x) if digits is None else round(float(x), digits)

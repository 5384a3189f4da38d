"""The check-in forms' fields: their choices (Hooper items, Foster's CR-10, sports) and parsing of submitted values.

Parsing never writes: it returns the values, or `FormErrors` naming every field that is wrong (the page shows
them next to the fields and keeps what the athlete typed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ingest.regions import REGION_NAMES, region
from ingest.wellness import HOOPER_ITEMS, HOOPER_MAX, HOOPER_MIN, RATING_MAX

HOOPER_QUESTIONS = {
    "sleep_quality": "How well did you sleep?",
    "fatigue": "How tired do you feel?",
    "soreness": "How sore are your muscles?",
    "stress": "How stressed do you feel?",
}
_GOOD_BAD = ("very, very good", "very good", "good", "average", "bad", "very bad", "very, very bad")
_LOW_HIGH = ("very, very low", "very low", "low", "average", "high", "very high", "very, very high")
HOOPER_ANCHORS = {name: _GOOD_BAD if name == "sleep_quality" else _LOW_HIGH for name in HOOPER_ITEMS}
"""Hooper & Mackinnon (1995): 1 … 7, higher = worse (sleep: very, very good … very, very bad; the others: very,
very low … very, very high)."""
CR10 = (
    (0, "Rest"),
    (1, "Very, very easy"),
    (2, "Easy"),
    (3, "Moderate"),
    (4, "Somewhat hard"),
    (5, "Hard"),
    (6, ""),
    (7, "Very hard"),
    (8, ""),
    (9, ""),
    (10, "Maximal"),
)
"""Foster et al. (2001)'s CR-10 scale for session RPE, with its verbal anchors."""
SPORTS = ("run", "ride", "swim", "strength", "team", "other")
MAX_DURATION_MIN = 24 * 60
MAX_FORM_BYTES = 64 * 1024


class FormErrors(Exception):
    """Field name → one-line problem, for every wrong field of a submitted form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class MorningValues:
    sleep_quality: int
    fatigue: int
    soreness: int
    stress: int
    pain: bool | None
    aftercare_followed: bool | None
    regions: dict[str, int] = field(default_factory=dict)
    note: str | None = None


@dataclass(frozen=True)
class RpeValues:
    session_ms: int | None
    """The chosen session's start, or None for a session the watch did not record."""
    rpe: int
    duration_min: float | None
    sport: str
    replace: bool


def _whole(form: Mapping[str, str], name: str, label: str, low: int, high: int, errors: dict[str, str]) -> int:
    text = form.get(name, "").strip()
    if not text:
        errors[name] = f"{label}: please choose a value from {low} to {high}."
        return low
    if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        errors[name] = f"{label}: {text[:20]!r} is not a whole number from {low} to {high}."
        return low
    return int(text)


def _yes_no(form: Mapping[str, str], name: str, label: str, errors: dict[str, str]) -> bool | None:
    text = form.get(name, "").strip().lower()
    if text in ("", "yes", "no"):
        return None if not text else text == "yes"
    errors[name] = f"{label}: answer yes or no."
    return None


def parse_morning(form: Mapping[str, str], *, aftercare_asked: bool) -> MorningValues:
    """The morning form's values (note checked by `ingest.wellness` when stored); FormErrors otherwise."""
    errors: dict[str, str] = {}
    items = {name: _whole(form, name, HOOPER_QUESTIONS[name], HOOPER_MIN, HOOPER_MAX, errors) for name in HOOPER_ITEMS}
    pain = _yes_no(form, "pain", "Pain", errors)
    aftercare = _yes_no(form, "aftercare", "After-care advice", errors) if aftercare_asked else None
    regions = {}
    for name in REGION_NAMES:
        if form.get(f"region_{name}", "").strip() not in ("", "0"):
            label = f"Soreness, {region(name).label}"
            regions[name] = _whole(form, f"region_{name}", label, 0, RATING_MAX, errors)
    unknown = sorted(k for k in form if k.startswith("region_") and k.removeprefix("region_") not in REGION_NAMES)
    if unknown:
        errors[unknown[0]] = f"{unknown[0][7:][:40]!r} is not a body region of this form."
    note = form.get("note", "").strip()
    if "<" in note or ">" in note:
        errors["note"] = "Note: please write plain text, without < or > (markup is not accepted)."
    if errors:
        raise FormErrors(errors)
    return MorningValues(**items, pain=pain, aftercare_followed=aftercare, regions=regions, note=note or None)


def parse_rpe(form: Mapping[str, str]) -> RpeValues:
    """The session form's values; FormErrors otherwise (RPE outside 0–10, a duration that is not more than 0 and
    at most 1440 min, an unknown sport or session)."""
    errors: dict[str, str] = {}
    rpe = _whole(form, "rpe", "RPE", 0, 10, errors)
    session_text = form.get("session", "new").strip()
    session_ms = None
    if session_text != "new":
        if session_text.isdigit():
            session_ms = int(session_text)
        else:
            errors["session"] = "Session: choose one of the listed sessions."
    duration = None
    text = form.get("duration_min", "").strip()
    if text:
        try:
            duration = float(text)
        except ValueError:
            duration = math.nan
        if not (math.isfinite(duration) and 0 < duration <= MAX_DURATION_MIN):
            shown = text[:20]
            errors["duration_min"] = f"Duration {shown} min: must be more than 0 and at most {MAX_DURATION_MIN} min."
    elif session_ms is None:
        errors["duration_min"] = "Duration: how many minutes did the session last?"
    sport = form.get("sport", "other").strip().lower() or "other"
    if sport not in SPORTS:
        errors["sport"] = f"Sport {sport[:20]!r}: choose one of {', '.join(SPORTS)}."
    if errors:
        raise FormErrors(errors)
    return RpeValues(session_ms, rpe, duration, sport, form.get("replace", "") in ("1", "yes", "on"))

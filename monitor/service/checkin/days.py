"""What the check-in pages read: the athlete's last 14 days in plain language, recent sessions, the after-care window.

Everything comes from the store as `serve`'s analysis left it (`daily`, `flag`), plus the athlete's own sessions,
check-ins and visits. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from ingest.model import DAILY, FLAG
from ingest.regions import region
from ingest.session_match import StoredSession, distinct_sessions, stored_sessions
from ingest.store.base import Store
from ingest.timeline import DAY_MS, day_start_ms, iso_utc, ms_day
from ingest.visits import Visit, read_visits
from ingest.wellness import read_wellness
from monitor.lifecycle import quiet_ms
from monitor.session_loads import SUPERSEDED
from monitor.thresholds import load_thresholds

DAYS = 14
SESSION_WINDOW_MS = 24 * 3_600_000
"""Sessions offered for an RPE: those that started in the last 24 h."""
_IDN = load_thresholds().idn
AFTERCARE_HOURS: float = _IDN.quiet_hours
AFTERCARE_ADVICE: str = _IDN.aftercare_advice
"""The defaults of `[idn] quiet_hours` and `aftercare_advice` (monitor/thresholds.toml, docs/episodes.md); `serve
--thresholds` passes the clinic's own."""
READINESS_WORDS = {
    "ok": "Morning HRV within your normal range",
    "suppressed": "Morning HRV below your normal range",
    "insufficient data": "Not enough morning readings yet for your normal range",
}
PLAIN_FLAGS = {
    "acwr_spike": "Your training load rose quickly compared with the weeks before.",
    "monotony_high": "Your training has been very much the same from day to day.",
    "strain_high": "This week's training strain is high for you.",
    "load_surge": "This week's load is well above your usual.",
    "hrv_suppressed": "Your morning HRV has stayed below your normal range.",
    "rhr_elevated": "Your resting heart rate has stayed above your normal range.",
    "asymmetry_gct": "Your left/right balance of ground contact differs from your usual.",
    "asymmetry_muscle": "Your left/right muscle load differs from your usual.",
    "asymmetry_power": "Your left/right pedal balance differs from your usual.",
    "asymmetry_shift": "Your left/right balance has shifted.",
}
SEVERITY_WORDS = {"watch": "Keep an eye on it.", "act": "Talk to your therapist or coach."}


@dataclass(frozen=True)
class Aftercare:
    """The after-care window of the latest visit: the advice, and until when it applies (ms)."""

    visit: Visit
    until_ms: int
    advice: str

    @property
    def until(self) -> str:
        return iso_utc(self.until_ms)[:16].replace("T", " ") + " UTC"


@dataclass
class DayLine:
    """One day of the athlete's view."""

    day: dt.date
    load_au: float | None = None
    load_source: str | None = None
    readiness: str | None = None
    hooper_index: int | None = None
    sore: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    flags: list[tuple[str, str, str]] = field(default_factory=list)
    """(severity, plain sentence, the analysis's own reason)."""


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def recent_visits(store: Store, athlete: str, now_ms: int, hours: float = AFTERCARE_HOURS) -> list[Visit]:
    """The athlete's visits of the last ``hours`` + 24 h (up to now), by time: while there is one, the morning form
    asks whether the after-care advice was followed."""
    return read_visits(store, athlete, start_ms=now_ms - quiet_ms(max(hours, 0) + 24), end_ms=now_ms + 1)


def aftercare(
    visits: list[Visit], now_ms: int, hours: float = AFTERCARE_HOURS, advice: str = AFTERCARE_ADVICE
) -> Aftercare | None:
    """The reminder while the latest visit's window [visit, visit + hours) runs, else None (``visits``: by time)."""
    window = quiet_ms(hours)
    running = [v for v in visits if v.at_ms <= now_ms < v.at_ms + window]
    return Aftercare(running[-1], running[-1].at_ms + window, advice) if running else None


def _real(points: list[StoredSession]) -> list[StoredSession]:
    """The sessions among the points, without strap sessions another session of the same training covers."""
    return [s for s in distinct_sessions(points) if not s.value(SUPERSEDED) > 0]


def recent_sessions(store: Store, athlete: str, now_ms: int) -> tuple[list[StoredSession], list[StoredSession]]:
    """(every session point of the last 24 h and the day before it, for matching; the sessions to offer: those
    that started in the last 24 h, newest first, each shown as the point that carries its RPE)."""
    points = stored_sessions(store, athlete, now_ms - SESSION_WINDOW_MS - DAY_MS, now_ms + 1, (SUPERSEDED,))
    shown = [s for s in _real(points) if s.time_ms > now_ms - SESSION_WINDOW_MS]
    return points, sorted(shown, key=lambda s: -s.time_ms)


def session_text(s: StoredSession) -> str:
    """`run at 07:12 UTC, 45 min (fit), RPE 6`."""
    minutes = s.value("duration_s") / 60
    text = f"{s.sport or 'session'} at {iso_utc(s.time_ms)[11:16]} UTC"
    text += f", {minutes:.0f} min" if math.isfinite(minutes) else ""
    text += f" ({'logged' if s.logged else 'recorded'})"
    rpe = s.value("rpe")
    return text + (f", RPE {rpe:g}" if math.isfinite(rpe) else "")


def last_days(store: Store, athlete: str, now_ms: int, days: int = DAYS) -> list[DayLine]:
    """The athlete's last ``days`` UTC days (today first): load, readiness, Hooper index, sore regions, rated
    sessions and flags in plain language."""
    today = ms_day(now_ms)
    start = day_start_ms(today - dt.timedelta(days=days - 1))
    end = day_start_ms(today) + DAY_MS
    lines = {today - dt.timedelta(days=i): DayLine(today - dt.timedelta(days=i)) for i in range(days)}
    daily = store.read(DAILY.name, athlete, ["daily_load", "load_source", "status"], start, end)
    for i, t in enumerate(daily.time_ms.tolist()):
        line = lines.get(ms_day(t))
        if line is not None:
            line.load_au = _number(daily.columns["daily_load"][i])
            source = daily.columns["load_source"][i]
            line.load_source = source if isinstance(source, str) else None
            line.readiness = READINESS_WORDS.get(str(daily.columns["status"][i]))
    flags = store.read(FLAG.name, athlete, ["reason"], start, end, with_tags=("signal", "severity"))
    for i, t in enumerate(flags.time_ms.tolist()):
        line = lines.get(ms_day(t))
        signal, severity = str(flags.columns["signal"][i]), str(flags.columns["severity"][i])
        if line is not None:
            plain = PLAIN_FLAGS.get(signal, f"A {signal.replace('_', ' ')} flag was raised.")
            sentence = f"{plain} {SEVERITY_WORDS.get(severity, '')}".strip()
            line.flags.append((severity, sentence, str(flags.columns["reason"][i])))
    for w in read_wellness(store, athlete, start, end):  # sorted by time: the day's last check-in wins
        line = lines[ms_day(w.time_ms)]
        line.hooper_index = w.hooper_index
        line.sore = [f"{region(name).label} {rating}/10" for name, rating in sorted(w.regions.items())]
    for s in _real(stored_sessions(store, athlete, start, end, (SUPERSEDED,))):
        lines[ms_day(s.time_ms)].sessions.append(session_text(s))
    return [lines[d] for d in sorted(lines, reverse=True)]

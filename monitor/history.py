"""Bring the stored analysis up to date: `daily` and `flag` points for every day since each athlete's last
analysed day, computed with the full look-back behind each day.

``plan_catch_up`` finds, per athlete, the first day to write (the day after its last `daily` point, or its first
day with data); ``catch_up`` writes those days oldest first in chunks of ``monitor.analyze.analyze`` backfills,
then evaluates ``as_of`` exactly as a single daily run does. Nothing after ``as_of`` is read, so a past ``as_of``
gives the result it gave on that day.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ingest.analysis_due import clear_due, read_due
from ingest.model import DAILY, READINESS, RR, SESSION, WELLNESS
from ingest.store.base import ManyFrame, Store
from ingest.timeline import DAY_MS, day_start_ms, ms_day
from monitor.analyze import READINESS_FIELDS, SESSION_FIELDS, AnalysisResult, analyze
from monitor.session_loads import SessionLoadCounts, update_session_loads
from monitor.thresholds import Thresholds, load_thresholds

CHECKIN_FIELDS = ("hooper_index",)  # a morning check-in (`wellness`) is data the analysis uses
DAILY_PRESENCE_FIELDS = ("recommend_idn_visit", "readings_7d", "ln_rmssd_7d", "acwr", "ctl")
RECENT_DAILY_DAYS = 7  # the last analysed day is looked for here first, then in all history
CHUNK_DAYS = 92  # days written per backfill call (at most the look-back)

Progress = Callable[[int, int], None]  # (days done, days in total)


@dataclass
class CatchUpPlan:
    """The first day to write for each athlete (``as_of`` when only ``as_of`` is due)."""

    as_of: dt.date
    starts: dict[str, dt.date]

    @property
    def athletes(self) -> list[str]:
        return sorted(self.starts)

    @property
    def backfill_days(self) -> int:
        """Days to write before ``as_of`` (the longest athlete's)."""
        return max(((self.as_of - s).days for s in self.starts.values()), default=0)


def _last_time_per_athlete(frame: ManyFrame) -> dict[str, int]:
    if not len(frame):
        return {}
    last = np.full(len(frame.athletes), -1, np.int64)
    np.maximum.at(last, frame.athlete_index, frame.time_ms)
    return {a: int(t) for a, t in zip(frame.athletes, last) if t >= 0}


def _first_time_per_athlete(frame: ManyFrame) -> dict[str, int]:
    if not len(frame):
        return {}
    big = np.iinfo(np.int64).max
    first = np.full(len(frame.athletes), big, np.int64)
    np.minimum.at(first, frame.athlete_index, frame.time_ms)
    return {a: int(t) for a, t in zip(frame.athletes, first) if t < big}


def last_analysed_days(store: Store, athletes: list[str], as_of: dt.date) -> dict[str, dt.date]:
    """Each athlete's last day with a `daily` point on or before ``as_of`` (athletes without one are left out)."""
    if not athletes:
        return {}
    end_ms = day_start_ms(as_of) + DAY_MS
    recent_ms = day_start_ms(as_of - dt.timedelta(days=RECENT_DAILY_DAYS - 1))
    last = _last_time_per_athlete(store.read_many(DAILY.name, DAILY_PRESENCE_FIELDS, athletes, recent_ms, end_ms))
    older = [a for a in athletes if a not in last]
    if older:
        last |= _last_time_per_athlete(store.read_many(DAILY.name, DAILY_PRESENCE_FIELDS, older, None, recent_ms))
    return {a: ms_day(t) for a, t in last.items()}


def _first_rr_day(store: Store, athlete: str, before: dt.date) -> dt.date | None:
    """The first day with beats before ``before`` (bisection on point counts: beat streams are too big to read)."""
    if not store.count(RR.name, athlete, None, day_start_ms(before)):
        return None
    lo, hi = 0, before.toordinal() - dt.date(1970, 1, 1).toordinal() - 1  # epoch days; beats exist on or before hi
    while lo < hi:
        mid = (lo + hi) // 2
        if store.count(RR.name, athlete, None, (mid + 1) * DAY_MS):
            hi = mid
        else:
            lo = mid + 1
    return dt.date(1970, 1, 1) + dt.timedelta(days=lo)


def first_data_days(store: Store, athletes: list[str], as_of: dt.date) -> dict[str, dt.date]:
    """Each athlete's first day with sessions, morning readings, check-ins or beats on or before ``as_of``."""
    if not athletes:
        return {}
    end_ms = day_start_ms(as_of) + DAY_MS
    first = _first_time_per_athlete(store.read_many(SESSION.name, SESSION_FIELDS, athletes, None, end_ms))
    for measurement, fields in ((READINESS.name, READINESS_FIELDS), (WELLNESS.name, CHECKIN_FIELDS)):
        for athlete, t in _first_time_per_athlete(store.read_many(measurement, fields, athletes, None, end_ms)).items():
            first[athlete] = min(t, first.get(athlete, t))
    days = {a: ms_day(t) for a, t in first.items()}
    with_beats = set(store.list_athletes("rr"))
    for athlete in athletes:
        if athlete in with_beats:
            beats = _first_rr_day(store, athlete, days.get(athlete, as_of + dt.timedelta(days=1)))
            if beats is not None:
                days[athlete] = beats
    return days


def plan_catch_up(
    store: Store,
    as_of: dt.date,
    *,
    athletes: list[str] | None = None,
    days: int = 1,
    catch_up: bool = True,
    since: Mapping[str, dt.date] | None = None,
) -> CatchUpPlan:
    """Who gets which days written. With ``catch_up``, every day after an athlete's last `daily` point on or
    before ``as_of`` (none: from its first day with data), and every day from ``since[athlete]`` on (data changed
    there: an import of older files, an RPE given later, a new profile); at least the ``days`` ending on
    ``as_of``. Without ``athletes``, the athletes with data on or before ``as_of``; named athletes are always
    analysed."""
    roster = sorted(store.list_athletes()) if athletes is None else list(athletes)
    explicit = dt.timedelta(days=max(1, days) - 1)
    starts = {a: as_of - explicit for a in roster}
    last = last_analysed_days(store, roster, as_of)
    first = first_data_days(store, [a for a in roster if a not in last], as_of)
    for athlete in roster:
        if athlete in last:
            due = last[athlete] + dt.timedelta(days=1)
        elif athlete in first:
            due = first[athlete]
        elif athletes is None:
            del starts[athlete]  # no data by as_of: nothing to analyse (and no look-ahead into later data)
            continue
        else:
            due = as_of
        if catch_up:
            changed = (since or {}).get(athlete, due)
            starts[athlete] = min(starts[athlete], due, changed)
    return CatchUpPlan(as_of, {a: min(s, as_of) for a, s in starts.items()})


def catch_up(
    store: Store,
    plan: CatchUpPlan,
    *,
    thresholds: Thresholds | None = None,
    progress: Progress | None = None,
    chunk_days: int = CHUNK_DAYS,
) -> AnalysisResult:
    """Write the planned days oldest first (an interrupted run resumes where it stopped), then analyse
    ``plan.as_of`` as a daily run: the returned result is that run's, with every point written counted."""
    th = thresholds or load_thresholds()
    clock = time.perf_counter()
    chunk_days = max(1, min(chunk_days, th.analysis.lookback_days))
    by_start: dict[dt.date, list[str]] = {}
    for athlete, start in plan.starts.items():
        if start < plan.as_of:
            by_start.setdefault(start, []).append(athlete)
    total, done, written = sum((plan.as_of - s).days for s in by_start) + 1, 0, 0
    for start in sorted(by_start):
        day = start
        while day < plan.as_of:
            n = min(chunk_days, (plan.as_of - day).days)
            end = day + dt.timedelta(days=n - 1)
            written += analyze(store, end, athletes=sorted(by_start[start]), thresholds=th, write_days=n).points_written
            day, done = end + dt.timedelta(days=1), done + n
            if progress:
                progress(done, total)
    backfill_s = time.perf_counter() - clock
    result = analyze(store, plan.as_of, athletes=plan.athletes, thresholds=th)
    if progress:
        progress(total, total)
    result.points_written += written
    result.backfilled_days = plan.backfill_days
    if by_start:
        result.timings_s = {"backfill_s": round(backfill_s, 4), **result.timings_s}
    return result


@dataclass
class UpdatePlan:
    """A catch-up plan that also covers changed data: the days due, the marks it serves, the loads recomputed."""

    plan: CatchUpPlan
    marks: dict[str, int]  # the `analysis_due` marks read (athlete → earliest changed time, ms)
    loads: SessionLoadCounts


def plan_update(
    store: Store,
    as_of: dt.date,
    *,
    athletes: list[str] | None = None,
    days: int = 1,
    catch_up: bool = True,
    current: bool = True,
) -> UpdatePlan:
    """What ``analyze`` has to do: when ``current`` (``as_of`` is today), first recompute the session loads of
    athletes with heart-rate data (a new estimate or profile changes past loads); then plan every day since the
    last analysed day plus every day from the earliest change (`analysis_due` marks, recomputed loads) on."""
    loads = SessionLoadCounts()
    if current:
        with_hr = set(store.list_athletes("hr"))
        roster = sorted(with_hr) if athletes is None else athletes  # a strap-only athlete has HR but no session yet
        loads = update_session_loads(store, [a for a in roster if a in with_hr])
    marks = read_due(store, athletes) if catch_up else {}
    changed = dict(marks)
    for athlete, t in loads.first_updated_ms.items():
        changed[athlete] = min(t, changed.get(athlete, t))
    since = {a: ms_day(t) for a, t in changed.items()}
    plan = plan_catch_up(store, as_of, athletes=athletes, days=days, catch_up=catch_up, since=since)
    return UpdatePlan(plan, marks, loads)


def finish_update(store: Store, update: UpdatePlan, current: bool = True) -> None:
    """Clear the marks the update served; a past ``as_of`` leaves the later days due, so nothing is cleared."""
    if current:
        clear_due(store, update.marks)

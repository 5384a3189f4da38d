"""Prevention episodes over days and visits: when an episode opens, how it ends, and the quiet period after a visit.

Pure functions of dates, booleans and times in ms (no store, no clock); `monitor.service.episodes` feeds them from
the store, the cohort tests from simulated days. docs/episodes.md states the rules in prose:

- A *recommendation day* is a day whose analysis recommends a preventive IDN visit (`daily.recommend_idn_visit`).
  A day missing from the days given neither extends nor ends anything.
- The *quiet window* of a visit is [visit, visit + quiet): 24 h by default (`[idn] quiet_hours`). A day is
  *post-visit* when its 24 h (00:00 UTC to 24:00 UTC, the span of data its `daily` and `flag` points stand for)
  overlap a quiet window: with 24 h, the visit day and the day after. A post-visit day counts as missing, so the
  expected soreness or HRV dip after needling never opens a new episode; its flags are stored with
  `post_visit` = true. A day starting exactly at visit + quiet does not overlap: it counts.
- A *run* is a stretch of counted recommendation days with gaps of fewer than `end_after_days` consecutive
  counted days without a recommendation. Each run holds one episode, which starts on the run's first day and
  ends, whichever comes first:
  - `treated`: at the first visit of the athlete at or after 00:00 UTC of its first day, while it is open;
  - `expired`: at 00:00 UTC of day `start + max_days` (so it is open for at most `max_days` days);
  - `resolved`: at 00:00 UTC of the `end_after_days`-th consecutive day without a recommendation (the run ended).
  An episode that ended `treated` or `expired` keeps the rest of its run: days that continue it open no new
  episode (one alert per run, as before visits existed; the treatment response is measured, not re-alerted).
  The next episode opens on the first recommendation day after the run has ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from ingest.timeline import DAY_MS, day_start_ms

CloseReason = Literal["treated", "resolved", "expired"]
HOUR_MS = 3_600_000


def quiet_ms(quiet_hours: float) -> int:
    """The quiet window's length in ms (`[idn] quiet_hours`, ≥ 0)."""
    if not quiet_hours >= 0:
        raise ValueError(f"quiet_hours must be ≥ 0 (got {quiet_hours})")
    return round(quiet_hours * HOUR_MS)


def post_visit_days(day_ms: np.ndarray, visit_ms: np.ndarray, window_ms: int) -> np.ndarray:
    """For each day (00:00 UTC, ms): True when [day, day + 24 h) overlaps a quiet window [visit, visit + window_ms).

    Vectorised over days × visits; an empty window (``window_ms`` ≤ 0) mutes nothing.
    """
    days = np.asarray(day_ms, np.int64)
    visits = np.asarray(visit_ms, np.int64)
    if window_ms <= 0 or not visits.size or not days.size:
        return np.zeros(days.shape, bool)
    overlap = (visits[None, :] < days[:, None] + DAY_MS) & (visits[None, :] + window_ms > days[:, None])
    return np.asarray(overlap.any(axis=1))


def in_quiet(moment_ms: int, visit_ms: Iterable[int], window_ms: int) -> bool:
    """Whether ``moment_ms`` lies in a quiet window [visit, visit + window_ms) of one of the visits."""
    return any(v <= moment_ms < v + window_ms for v in visit_ms)


@dataclass(frozen=True)
class Episode:
    """One prevention episode: its first and last counted recommendation day, and how it ended (None: open)."""

    start: dt.date
    last: dt.date
    reason: CloseReason | None = None
    closed_ms: int | None = None  # the visit's time when treated, else 00:00 UTC of the day the rule was met
    visit_id: str | None = None  # the closing visit (treated only)

    @property
    def is_open(self) -> bool:
        return self.reason is None

    def holds(self, day: dt.date) -> bool:
        """Whether ``day`` lies within the episode's run (from its first to its last recommendation day)."""
        return self.start <= day <= self.last


@dataclass
class _Walk:
    end_after_days: int
    max_days: int
    episodes: list[Episode]
    in_run: bool = False
    without: int = 0  # consecutive counted days without a recommendation

    def close(self, reason: CloseReason, at_ms: int, visit_id: str | None = None) -> None:
        self.episodes[-1] = replace(self.episodes[-1], reason=reason, closed_ms=at_ms, visit_id=visit_id)

    @property
    def open(self) -> Episode | None:
        return self.episodes[-1] if self.episodes and self.episodes[-1].is_open else None

    def day(self, day: dt.date, value: bool | None) -> None:
        current = self.open
        if current is not None and day >= current.start + dt.timedelta(days=self.max_days):
            self.close("expired", day_start_ms(current.start + dt.timedelta(days=self.max_days)))
        if value is True:
            if self.in_run:
                self.episodes[-1] = replace(self.episodes[-1], last=day)
            else:
                self.episodes.append(Episode(day, day))
                self.in_run = True
            self.without = 0
        elif value is False and self.in_run:
            self.without += 1
            if self.without >= self.end_after_days:
                self.in_run = False
                if self.open is not None:
                    self.close("resolved", day_start_ms(day))

    def visit(self, visit_id: str, at_ms: int) -> None:
        current = self.open
        if current is not None and at_ms >= day_start_ms(current.start):
            self.close("treated", at_ms, visit_id)


def episodes(
    days: Mapping[dt.date, bool],
    visits: Iterable[tuple[str, int]],
    first: dt.date,
    as_of: dt.date,
    *,
    end_after_days: int,
    max_days: int,
    quiet_window_ms: int,
    announced: dt.date | None = None,
) -> list[Episode]:
    """The episodes of one athlete over [first, as_of], oldest first; the last one may still be open.

    ``days``: day → recommended (days missing count as missing); ``visits``: (visit ID, time in ms) of the
    athlete's visits up to now (visits after ``as_of`` are ignored); nothing before ``first`` is known, so a run
    in progress on ``first`` starts there. ``announced``: the first day of an episode already alerted, counted
    as a recommendation day whatever the stored days say now (a re-analysis may have changed them).
    """
    if end_after_days < 1 or max_days < 1:
        raise ValueError(f"end_after_days and max_days must be ≥ 1 (got {end_after_days}, {max_days})")
    n = (as_of - first).days + 1
    if n < 1:
        return []
    starts = day_start_ms(first) + DAY_MS * np.arange(n, dtype=np.int64)
    ordered = sorted((at_ms, visit_id) for visit_id, at_ms in visits if at_ms < starts[-1] + DAY_MS)
    muted = post_visit_days(starts, np.array([at for at, _ in ordered], np.int64), quiet_window_ms)
    walk = _Walk(end_after_days, max_days, [])
    v = 0
    for i in range(n):
        day = first + dt.timedelta(days=i)
        value = None if muted[i] else days.get(day)
        walk.day(day, True if day == announced else value)
        while v < len(ordered) and ordered[v][0] < starts[i] + DAY_MS:
            walk.visit(ordered[v][1], ordered[v][0])
            v += 1
    return walk.episodes


def episode_of(found: Iterable[Episode], day: dt.date) -> Episode | None:
    """The episode whose run holds ``day``, or None."""
    return next((e for e in found if e.holds(day)), None)

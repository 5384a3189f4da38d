"""Read `flag` points with their tags (athlete, family, signal, severity) and group them into episodes."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from ingest.model import FLAG
from ingest.store.base import Store
from ingest.timeline import DAY_MS, day_start_ms, ms_day
from monitor.flags import flag_from_point, json_number


@dataclass(frozen=True)
class FlagPoint:
    """One stored flag: one athlete, signal and evaluated day."""

    athlete: str
    family: str
    signal: str
    severity: str
    time_ms: int
    value: float | None
    threshold: float | None
    window: str
    since: str
    reason: str
    post_visit: bool = False  # the day overlaps a visit's quiet window: expected after needling, shown muted


@dataclass(frozen=True)
class FlagEpisode:
    """A continuous run of one signal for one athlete: from `since` to the last day it was evaluated."""

    athlete: str
    family: str
    signal: str
    severity: str  # the most severe level seen in the run
    start_ms: int
    last_ms: int
    reason: str  # the latest explanation

    @property
    def key(self) -> str:
        """Stable identity of the episode, used to find it again among published annotations."""
        return f"{self.athlete}/{self.signal}/{ms_day(self.start_ms).isoformat()}"


def _since_ms(since: str, fallback: int) -> int:
    try:
        day = dt.date.fromisoformat(since)
    except (TypeError, ValueError):
        return fallback
    return day_start_ms(day)


def _present(value: Any) -> Any:
    """A frame cell, None where the point has no value (NaN in a numeric column)."""
    return None if isinstance(value, float) and math.isnan(value) else value


def read_flags(
    store: Store, athlete: str | None = None, start_ms: int | None = None, end_ms: int | None = None
) -> list[FlagPoint]:
    """Flag points in [start_ms, end_ms), all athletes or one, sorted by athlete, time and signal."""
    frame = store.read(FLAG.name, athlete, FLAG.field_names, start_ms, end_ms, with_tags=FLAG.tag_names)
    c = frame.columns
    points = []
    for i, time_ms in enumerate(frame.time_ms.tolist()):
        flag = flag_from_point({n: c[n][i] for n in FLAG.tag_names}, {n: _present(c[n][i]) for n in FLAG.field_names})
        points.append(
            FlagPoint(
                athlete=flag.athlete,
                family=flag.family,
                signal=flag.signal,
                severity=flag.severity,
                time_ms=int(time_ms),
                value=json_number(flag.value),
                threshold=json_number(flag.threshold),
                window=flag.window,
                since=flag.since.isoformat(),
                reason=flag.reason,
                post_visit=flag.post_visit,
            )
        )
    return sorted(points, key=lambda p: (p.athlete, p.time_ms, p.signal))


def episodes(points: list[FlagPoint]) -> list[FlagEpisode]:
    """Group flag points by athlete, signal and `since` (the first day of the continuous run)."""
    runs: dict[tuple[str, str, int], list[FlagPoint]] = {}
    for point in points:
        runs.setdefault((point.athlete, point.signal, _since_ms(point.since, point.time_ms)), []).append(point)
    result = []
    for (athlete, signal, start_ms), run in sorted(runs.items()):
        run.sort(key=lambda p: p.time_ms)
        latest = run[-1]
        severity = "act" if any(p.severity == "act" for p in run) else latest.severity
        result.append(FlagEpisode(athlete, latest.family, signal, severity, start_ms, latest.time_ms, latest.reason))
    return result


@dataclass(frozen=True)
class FlagRun:
    """Consecutive days on which one signal held at one severity: [start_ms, end_ms) in whole days."""

    signal: str
    severity: str
    start_ms: int
    end_ms: int


def flag_runs(points: list[FlagPoint]) -> list[FlagRun]:
    """Per signal, the days it was flagged merged into runs of consecutive days of the same severity."""
    by_signal: dict[str, dict[int, str]] = {}
    for p in points:
        days = by_signal.setdefault(p.signal, {})
        day = p.time_ms // DAY_MS * DAY_MS
        if days.get(day) != "act":  # one point per day and signal; act wins over watch
            days[day] = p.severity
    runs = []
    for signal, days in sorted(by_signal.items()):
        current: FlagRun | None = None
        for day in sorted(days):
            if current and current.severity == days[day] and current.end_ms == day:
                current = FlagRun(signal, current.severity, current.start_ms, day + DAY_MS)
                continue
            if current:
                runs.append(current)
            current = FlagRun(signal, days[day], day, day + DAY_MS)
        if current:
            runs.append(current)
    return runs


def active_flags(points: list[FlagPoint], day_ms: int) -> list[FlagPoint]:
    """The flags held on the day starting at ``day_ms``: one per signal (the act one when both were stored)."""
    on_day: dict[str, FlagPoint] = {}
    for p in points:
        held = on_day.get(p.signal)
        if day_ms <= p.time_ms < day_ms + DAY_MS and (held is None or held.severity != "act"):
            on_day[p.signal] = p
    return sorted(on_day.values(), key=lambda p: (p.severity != "act", p.signal))

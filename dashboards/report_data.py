"""Read one athlete's report from the store: the period that fits the data, its points and the last day's flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from dashboards.flag_source import FlagPoint, read_flags
from dashboards.report_visits import VisitResult, load_visits
from dashboards.visit_terms import QUIET_HOURS
from ingest.model import DAILY, READINESS, SESSION, WELLNESS
from ingest.store.base import Frame, Store
from ingest.timeline import DAY_MS, day_start_ms, earliest_of_each_day, ms_day
from ingest.visits import visits_in_window
from ingest.wellness import HOOPER_ITEMS, Wellness, read_wellness

DAILY_FIELDS = (
    "status", "ln_rmssd_7d", "ln_rmssd_lower_bound", "ln_rmssd_baseline_mean", "ln_rmssd_baseline_sd",
    "acwr", "ctl", "atl", "tsb", "rhr_7d", "gct_symmetry_index_pct", "recommend_idn_visit",
    "hooper_index_7d", "hooper_upper_bound", "idn_regions",
)  # fmt: skip
READINESS_FIELDS = ("ln_rmssd", "mean_hr_bpm")
SESSION_FIELDS = (
    "duration_s", "distance_m", "avg_hr_bpm", "max_hr_bpm", "rpe", "srpe_load", "trimp",
    "gct_symmetry_index_pct", "muscle_symmetry_index_pct", "pedal_symmetry_index_pct",
)  # fmt: skip
MAX_DAYS = 365  # the longest default period


@dataclass(frozen=True)
class AftercareNote:
    """A visit whose after-care window [visit, visit + `[idn] quiet_hours`) runs: its ID, times (ms) and regions."""

    visit_id: str
    at_ms: int
    until_ms: int
    regions: tuple[str, ...]


def running_aftercare(store: Store, athlete: str, moment_ms: int, window_ms: int) -> list[AftercareNote]:
    """The athlete's visits whose after-care window holds ``moment_ms`` (visit ≤ moment < visit + window)."""
    visits = visits_in_window(store, moment_ms, window_ms, athlete)
    return [AftercareNote(v.visit_id, v.at_ms, v.at_ms + window_ms, v.regions) for v in visits]


@dataclass
class ReportData:
    """Everything the report shows, read from the store: the days [start_ms, end_ms) and the last day's IDN
    recommendation with the flags behind it."""

    athlete: str
    start_ms: int
    end_ms: int
    daily: Frame
    readiness: Frame
    sessions: Frame
    flags: list[FlagPoint] = field(default_factory=list)
    first_data_ms: int | None = None  # the athlete's first day with data
    idn_flags: list[FlagPoint] = field(default_factory=list)  # the flags of the IDN watch window ending on the last day
    idn_watch_days: int = 7
    profile: list[str] = field(default_factory=list)  # the heart-rate profile TRIMP used, one text per value
    aftercare: list[AftercareNote] = field(default_factory=list)  # after-care windows running as of the report
    aftercare_advice: str = ""  # the clinic's after-care advice (`[idn] aftercare_advice`)
    visits: list[VisitResult] = field(default_factory=list)  # visits of the period, with their stored response
    quiet_hours: float = QUIET_HOURS  # the quiet period after a visit (`[idn] quiet_hours`), h
    checkins: list[Wellness] = field(default_factory=list)  # the morning check-ins of the period, by time

    @property
    def last_day_ms(self) -> int:
        return self.end_ms - DAY_MS

    @property
    def missing_days(self) -> list[dt.date]:
        """Days of the period (from the first day with data) without a `daily` point."""
        first = max(self.start_ms, self.first_data_ms if self.first_data_ms is not None else self.end_ms)
        present = set((self.daily.time_ms // DAY_MS).tolist())
        return [ms_day(d * DAY_MS) for d in range(first // DAY_MS, self.end_ms // DAY_MS) if d not in present]


def float_column(frame: Frame, name: str) -> np.ndarray:
    """A numeric column as floats (NaN throughout when the frame has no such column or it holds text)."""
    column = frame.columns.get(name)
    if column is None or column.dtype == object:
        return np.full(len(frame), np.nan)
    return column.astype(float)


def on_last_day(data: ReportData, name: str) -> object:
    """The last day's `daily` value of a field (None when that day has no point or no value)."""
    on_day = np.flatnonzero(data.daily.time_ms // DAY_MS == data.last_day_ms // DAY_MS)
    column = data.daily.columns.get(name)
    if column is None or not on_day.size:
        return None
    value = column[on_day[-1]]
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def data_span(store: Store, athlete: str, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first and last day on or before ``end`` with a session, a morning reading or a `daily` point."""
    end_ms = day_start_ms(end) + DAY_MS
    times = [
        store.read(measurement, athlete, fields, None, end_ms).time_ms
        for measurement, fields in (
            ("session", SESSION_FIELDS),
            ("readiness", READINESS_FIELDS),
            ("daily", DAILY_FIELDS),
            (WELLNESS.name, HOOPER_ITEMS),
        )
    ]
    joined = np.concatenate(times)
    return (ms_day(int(joined.min())), ms_day(int(joined.max()))) if joined.size else None


def report_window(
    store: Store,
    athlete: str,
    today: dt.date,
    *,
    end: dt.date | None = None,
    start: dt.date | None = None,
    days: int | None = None,
    max_days: int = MAX_DAYS,
) -> tuple[dt.date, dt.date, dt.date]:
    """(start, end, first day with data) of a report. Default end: the athlete's last day with data; default
    start: the first day with data, at most ``max_days`` before the end (``days`` gives a fixed span instead).
    The start never precedes the athlete's first day with data. ValueError when the period has no data."""
    span = data_span(store, athlete, end or today)
    if span is None:
        raise ValueError(f"athlete {athlete}: no data on or before {(end or today).isoformat()}")
    first, last = span
    end = end or last
    if start is None:
        start = end - dt.timedelta(days=(days or max_days) - 1)
    if start > end:
        raise ValueError(f"the period starts ({start.isoformat()}) after it ends ({end.isoformat()})")
    if last < start:
        raise ValueError(
            f"athlete {athlete}: no data from {start.isoformat()} to {end.isoformat()} "
            f"(the data runs from {first.isoformat()} to {last.isoformat()})"
        )
    return max(start, first), end, first


def mornings(readiness: Frame) -> Frame:
    """The readings the analysis uses: the earliest `readiness` point of each UTC day (`ingest.timeline`)."""
    keep = earliest_of_each_day(readiness.time_ms)
    return Frame(readiness.time_ms[keep], {name: column[keep] for name, column in readiness.columns.items()})


def load_report_data(
    store: Store,
    athlete: str,
    end: dt.date,
    days: int,
    *,
    first_data: dt.date | None = None,
    idn_watch_days: int = 7,
) -> ReportData:
    """Read the athlete's `daily`, `readiness`, `session` and `flag` points, visits (with their stored response)
    and check-ins (`wellness` with their sore regions) of the ``days`` ending on ``end``."""
    start_ms = day_start_ms(end - dt.timedelta(days=days - 1))
    end_ms = day_start_ms(end) + DAY_MS
    return ReportData(
        athlete=athlete,
        start_ms=start_ms,
        end_ms=end_ms,
        daily=store.read(DAILY.name, athlete, DAILY_FIELDS, start_ms, end_ms),
        readiness=mornings(store.read(READINESS.name, athlete, READINESS_FIELDS, start_ms, end_ms)),
        sessions=store.read(SESSION.name, athlete, SESSION_FIELDS, start_ms, end_ms),
        flags=read_flags(store, athlete, start_ms, end_ms),
        first_data_ms=None if first_data is None else day_start_ms(first_data),
        idn_flags=read_flags(store, athlete, end_ms - idn_watch_days * DAY_MS, end_ms),
        idn_watch_days=idn_watch_days,
        visits=load_visits(store, athlete, start_ms, end_ms),
        checkins=read_wellness(store, athlete, start_ms, end_ms),
    )

"""The one place where `serve` calls the analytics: every athlete's IDN recommendation on a day.

`monitor.history` brings the stored analysis up to date first (session loads from heart rate, the days missed
while the service was down, days whose data changed since they were analysed); `monitor.analyze.analyze` computes
load, recovery and asymmetry, writes `daily` and `flag` points and decides `recommend_idn_visit`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ingest.store.base import Store
from monitor.flags import Flag
from monitor.history import catch_up, finish_update, plan_update
from monitor.thresholds import load_thresholds


@dataclass(frozen=True)
class Recommendation:
    """One athlete on the evaluated day: whether a preventive visit is recommended, and why."""

    athlete: str
    as_of: dt.date
    recommended: bool
    flags: tuple[Flag, ...] = ()
    reasons: tuple[str, ...] = ()


def analyze_all(
    store: Store, as_of: dt.date, *, write_days: int, thresholds_path: str | None = None
) -> list[Recommendation]:
    """Analyse every athlete in the store on `as_of`, writing at least the last `write_days` days of results and
    every day not analysed yet or whose data changed."""
    current = as_of == dt.datetime.now(dt.UTC).date()
    update = plan_update(store, as_of, days=write_days, current=current)
    result = catch_up(store, update.plan, thresholds=load_thresholds(thresholds_path))
    finish_update(store, update, current)
    return [
        Recommendation(a.athlete, as_of, bool(a.recommend_idn_visit), tuple(a.flags), tuple(a.idn_reasons))
        for a in result.athletes
    ]

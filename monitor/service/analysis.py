"""The one place where `serve` calls the analytics: every athlete's IDN recommendation on a day.

`monitor.analyze.analyze` (full analytics: load, recovery, asymmetry and `recommend_idn_visit`) is used when it
exists; otherwise each athlete's readiness analysis (`analyze_athlete`) runs and any `act` flag counts as a
recommendation. Both write their `daily` and `flag` points to the store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ingest.store.base import Store
from monitor import analyze as analytics
from monitor.flags import Flag


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
    """Analyse every athlete in the store on `as_of`, writing the last `write_days` days of results."""
    full = getattr(analytics, "analyze", None)
    if callable(full):
        from monitor.thresholds import load_thresholds

        result = full(store, as_of, thresholds=load_thresholds(thresholds_path), write_days=write_days)
        return [
            Recommendation(a.athlete, as_of, bool(a.recommend_idn_visit), tuple(a.flags), tuple(a.idn_reasons))
            for a in result.athletes
        ]
    recommendations = []
    for athlete in store.list_athletes():
        flags = tuple(analytics.analyze_athlete(store, athlete, as_of).readiness.flags)
        act = tuple(f"act: {f.signal} — {f.reason}" for f in flags if f.severity == "act")
        recommendations.append(Recommendation(athlete, as_of, bool(act), flags, act))
    return recommendations

"""The one place where `serve` calls the analytics: every athlete's IDN recommendation on a day.

`monitor.analyze.analyze` computes load, recovery and asymmetry, writes `daily` and `flag` points and decides
`recommend_idn_visit`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ingest.store.base import Store
from monitor.analyze import analyze
from monitor.flags import Flag
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
    """Analyse every athlete in the store on `as_of`, writing the last `write_days` days of results."""
    result = analyze(store, as_of, thresholds=load_thresholds(thresholds_path), write_days=write_days)
    return [
        Recommendation(a.athlete, as_of, bool(a.recommend_idn_visit), tuple(a.flags), tuple(a.idn_reasons))
        for a in result.athletes
    ]

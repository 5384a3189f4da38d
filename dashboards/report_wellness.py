"""The report's wellness section: Hooper items and the Hooper index over the period, the soreness body map as a
heat map of regions, and the candidate regions of the last day's IDN recommendation."""

from __future__ import annotations

from html import escape

import numpy as np

from dashboards.bodymap import body_map
from dashboards.report_data import ReportData, float_column, on_last_day
from dashboards.svg import Series, chart
from ingest.regions import REGION_NAMES, region
from ingest.timeline import DAY_MS, ms_day
from ingest.wellness import HOOPER_ITEMS

BODY_MAP_DAYS = 14
"""The body map shows each region's highest rating in the last 14 days of the period."""
ITEM_COLOURS = {"sleep_quality": "#3274d9", "fatigue": "#e0752d", "soreness": "#d44a3a", "stress": "#a352cc"}


def wellness_charts(data: ReportData) -> list[str]:
    """The Hooper items (1–7) and the Hooper index with its 7-day mean and normal range's upper bound."""
    span = (data.start_ms, data.end_ms)
    times = np.array([c.time_ms for c in data.checkins], np.int64)
    items = chart(
        "Morning wellness: Hooper items (1 = very, very good … 7 = very, very bad)",
        [
            Series(
                name.replace("_", " "),
                times,
                np.array([getattr(c, name) for c in data.checkins], float),
                "line",
                ITEM_COLOURS[name],
            )
            for name in HOOPER_ITEMS
        ],
        *span,
    )
    index = chart(
        "Hooper index: mornings, 7-day mean and normal range (higher = worse)",
        [
            Series("morning", times, np.array([c.hooper_index for c in data.checkins], float), "points", "#3274d9"),
            Series("7-day mean", data.daily.time_ms, float_column(data.daily, "hooper_index_7d"), "line", "#1f2328"),
            Series(
                "normal high", data.daily.time_ms, float_column(data.daily, "hooper_upper_bound"), "line", "#56a64b"
            ),
        ],
        *span,
    )
    return [items, index]


def recent_soreness(data: ReportData, days: int = BODY_MAP_DAYS) -> dict[str, int]:
    """Each region's highest rating on the check-ins of the last ``days`` days of the period (sore ones only)."""
    since = data.end_ms - days * DAY_MS
    worst: dict[str, int] = {}
    for checkin in data.checkins:
        if checkin.time_ms >= since:
            for name, rating in checkin.regions.items():
                worst[name] = max(worst.get(name, 0), rating)
    return worst


def last_day_candidates(data: ReportData) -> list[str]:
    """The candidate regions stored with the last day's IDN recommendation (`daily.idn_regions`)."""
    value = on_last_day(data, "idn_regions")
    return [name for name in str(value).split(",") if name in REGION_NAMES] if isinstance(value, str) else []


def candidate_line(data: ReportData) -> str:
    """The recommendation's candidate regions as a paragraph (empty when none were stored)."""
    names = last_day_candidates(data)
    if not names:
        return ""
    labels = ", ".join(f"{escape(region(n).label)} (<code>{escape(n)}</code>)" for n in names)
    return (
        f"<p>Candidate regions: {labels}. Sore regions of the last check-ins first, then the regions the asymmetry "
        "flags point to (a muscle's region on the side carrying more load; the lumbar segment for a gait or "
        "pedalling asymmetry). Where to look, not a finding.</p>"
    )


def wellness_section(data: ReportData) -> str:
    """Charts, the body map and a note; a line saying so when the period has no check-ins."""
    if not data.checkins:
        return "<p>No morning check-ins in this period.</p>"
    last = ms_day(data.last_day_ms)
    first = ms_day(data.end_ms - BODY_MAP_DAYS * DAY_MS)
    worst = recent_soreness(data)
    caption = f"highest rating per region, {first.isoformat()} to {last.isoformat()}"
    if not worst:
        caption += ": no sore region reported"
    figure = body_map(worst, title="Soreness body map", candidates=last_day_candidates(data), caption=caption)
    return "\n".join([*wellness_charts(data), figure])

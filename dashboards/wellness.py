"""The athlete dashboard's wellness row: Hooper items over time, the Hooper index against its normal range, and the
soreness body map as a heat map of regions over days (docs/analytics.md, "Wellness")."""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge as bargauge_panel
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import statetimeline as timeline_panel
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import ATHLETE_MATCH, prop, targets, thresholds, timeseries
from dashboards.query import Influx, datasource_ref

WHERE = f"WHERE {ATHLETE_MATCH} AND $timeFilter"
DAILY = "GROUP BY time(1d) fill(none)"
SORENESS_STEPS = ((None, "green"), (3.0, "yellow"), (5.0, "orange"), (7.0, "red"))
"""Region ratings 1–10: 1–2 barely, 3–4 sore, 5–6 clearly, 7+ very sore (the candidate regions start at 3)."""
HOOPER_ITEMS = (("sleep_quality", "sleep"), ("fatigue", "fatigue"), ("soreness", "soreness"), ("stress", "stress"))


def _q(query: str, alias: str = "$col") -> Influx:
    return Influx(query).alias(alias)


def wellness_row(board: dash.Dashboard) -> dash.Dashboard:
    """Add the "Wellness" row to ``board``."""
    board = board.with_row(dash.Row("Wellness"))
    items = ", ".join(f'first("{field}") AS "{label}"' for field, label in HOOPER_ITEMS)
    board = board.with_panel(
        timeseries(
            "Morning wellness (Hooper items)",
            [_q(f'SELECT {items} FROM "wellness" {WHERE} {DAILY}')],
            description="Each morning check-in: sleep quality, fatigue, muscle soreness and stress, 1 = very, very "
            "good … 7 = very, very bad (Hooper & Mackinnon 1995). Higher is worse.",
        )
        .axis_soft_min(1)
        .axis_soft_max(7)
        .decimals(0)
    )
    hooper = timeseries(
        "Hooper index and normal range",
        [
            _q(f'SELECT first("hooper_index") AS "morning" FROM "wellness" {WHERE} {DAILY}'),
            _q(f'SELECT "hooper_index_7d" AS "7-day mean", "hooper_upper_bound" AS "normal high" FROM "daily" {WHERE}'),
        ],
        description="Dots: each morning's Hooper index (sum of the four items, 4–28, higher = worse). Line: the "
        "7-day mean. Dashed: the upper bound of the personal normal range (mean + 0.5 SD of the 60 days before the "
        "week); the wellness flag needs the mean above it and the check-ins' evidence.",
    )
    board = board.with_panel(
        hooper.override_by_name("morning", [prop("custom.drawStyle", "points"), prop("custom.pointSize", 5)])
        .override_by_name("7-day mean", [prop("custom.lineWidth", 3)])
        .override_by_name(
            "normal high",
            [
                prop("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
                prop("color", {"mode": "fixed", "fixedColor": "green"}),
            ],
        )
    )
    heat = (
        timeline_panel.Panel()
        .title("Soreness body map by day")
        .description(
            "A heat map of the body map: one row per region reported sore in the range (ingest/regions.py names, "
            "_l = left, _r = right), coloured by the day's rating 1–10. Days without a colour: not sore or no "
            "check-in."
        )
        .datasource(datasource_ref())
        .height(10)
        .span(16)
        .thresholds(thresholds(*SORENESS_STEPS))
        .color_scheme(dash.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
        .show_value(common.VisibilityMode.NEVER)
        .merge_values(False)
        .min(0)
        .max(10)
    )
    heat = targets(
        heat, [_q(f'SELECT max("rating") AS "rating" FROM "soreness" {WHERE} GROUP BY time(1d), "region" fill(none)',
                  "$tag_region")]
    )  # fmt: skip
    board = board.with_panel(heat)
    regions = (
        bargauge_panel.Panel()
        .title("Sore regions in the range")
        .description("Highest rating of each region in the time range, most sore first.")
        .datasource(datasource_ref())
        .height(10)
        .span(8)
        .min(0)
        .max(10)
        .thresholds(thresholds(*SORENESS_STEPS))
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.GRADIENT)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["max"]).values(False))
    )
    regions = targets(
        regions, [_q(f'SELECT max("rating") AS "rating" FROM "soreness" {WHERE} GROUP BY "region"', "$tag_region")]
    )
    return board.with_panel(regions)

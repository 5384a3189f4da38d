"""Athlete detail: load and ACWR, CTL/ATL/TSB, ln rMSSD against the normal range, resting HR, wellness and the
soreness body map, symmetry, flags."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import (
    ATHLETE_MATCH,
    ATHLETE_UID,
    NOT_MUTED,
    SEVERITY_MAPPING,
    TAG,
    athlete_variable,
    dashboard_links,
    mappings_prop,
    prop,
    stat,
    table,
    threshold_lines,
    threshold_prop,
    timeseries,
    value_map,
)
from dashboards.query import Influx, datasource_ref
from dashboards.visits import visit_annotation, visits_row
from dashboards.wellness import wellness_row

WHERE = f"WHERE {ATHLETE_MATCH} AND $timeFilter"
DAILY = "GROUP BY time(1d) fill(none)"

READINESS_MAPPING = {
    "ok": ("ok", "green"),
    "suppressed": ("suppressed", "red"),
    "insufficient data": ("insufficient data", "text"),
}
IDN_MAPPING = {"true": ("visit recommended", "red"), "false": ("no visit needed", "green")}
ACWR_BANDS = ((None, "transparent"), (0.8, "green"), (1.3, "transparent"), (1.5, "red"))
"""ACWR: 0.8–1.3 is the 'sweet spot' (green), above 1.5 the danger zone (red)."""
ACWR_STAT = ((None, "blue"), (0.8, "green"), (1.3, "orange"), (1.5, "red"))
SYMMETRY_LINES = ((None, "red"), (-15.0, "orange"), (-10.0, "green"), (10.0, "orange"), (15.0, "red"))
"""Symmetry index (Robinson): |SI| ≥ 10 % is worth watching, ≥ 15 % is a clear asymmetry."""


def q(query: str) -> Influx:
    """A time series query whose series are named after the column aliases."""
    return Influx(query).alias("$col")


def _status_row(board: dash.Dashboard) -> dash.Dashboard:
    board = board.with_row(dash.Row("Today"))
    board = board.with_panel(
        stat("Readiness", [Influx(f'SELECT last("status") AS "status" FROM "daily" {WHERE}')])
        .mappings(value_map(READINESS_MAPPING))
        .description("Morning HRV status of the last analysed day (ln rMSSD 7-day mean against the normal range).")
    )
    board = board.with_panel(
        stat("ln rMSSD 7-day", [Influx(f'SELECT last("ln_rmssd_7d") AS "ln rMSSD 7d" FROM "daily" {WHERE}')]).decimals(
            2
        )
    )
    board = board.with_panel(
        stat("ACWR", [Influx(f'SELECT last("acwr") AS "ACWR" FROM "daily" {WHERE}')], steps=ACWR_STAT).decimals(2)
    )
    board = board.with_panel(
        stat("Form (TSB)", [Influx(f'SELECT last("tsb") AS "TSB" FROM "daily" {WHERE}')]).decimals(1)
    )
    board = board.with_panel(
        stat(
            "Flags today",
            [Influx(f'SELECT count("value") AS "flags" FROM "flag" WHERE {ATHLETE_MATCH} AND time > now() - 1d')],
            steps=((None, "green"), (1.0, "orange")),
            no_value="none",
        )
    )
    return board.with_panel(
        stat("Prevention visit", [Influx(f'SELECT last("recommend_idn_visit") AS "IDN" FROM "daily" {WHERE}')])
        .mappings(value_map(IDN_MAPPING))
        .description("Whether the analysis recommends a preventive visit (IDN) on the last analysed day.")
    )


def _load_row(board: dash.Dashboard) -> dash.Dashboard:
    board = board.with_row(dash.Row("Load"))
    load = (
        timeseries(
            "Daily load and ACWR",
            [
                q(f'SELECT sum("trimp") AS "TRIMP" FROM "session" {WHERE} {DAILY}'),
                q(f'SELECT sum("srpe_load") AS "sRPE load" FROM "session" {WHERE} {DAILY}'),
                q(f'SELECT last("acwr") AS "ACWR" FROM "daily" {WHERE} {DAILY}'),
            ],
            description="Bars: daily training load (Banister TRIMP, session RPE × minutes). Line: acute:chronic "
            "workload ratio on the right axis; green band 0.8–1.3, red above 1.5.",
        )
        .draw_style(common.GraphDrawStyle.BARS)
        .fill_opacity(60)
        .override_by_name(
            "ACWR",
            [
                prop("custom.drawStyle", "line"),
                prop("custom.fillOpacity", 0),
                prop("custom.axisPlacement", "right"),
                prop("custom.axisSoftMin", 0),
                prop("custom.axisSoftMax", 2),
                threshold_prop(*ACWR_BANDS),
                prop("custom.thresholdsStyle", {"mode": "area"}),
                prop("color", {"mode": "fixed", "fixedColor": "purple"}),
            ],
        )
    )
    board = board.with_panel(load)
    return board.with_panel(
        timeseries(
            "Fitness, fatigue and form (CTL / ATL / TSB)",
            [
                q(
                    'SELECT last("ctl") AS "CTL", last("atl") AS "ATL", last("tsb") AS "TSB" '
                    f'FROM "daily" {WHERE} {DAILY}'
                )
            ],
            description="Chronic (42 d) and acute (7 d) training load and their difference, the training stress "
            "balance.",
        ).override_by_name("TSB", [prop("custom.drawStyle", "bars"), prop("custom.fillOpacity", 40)])
    )


def _recovery_row(board: dash.Dashboard) -> dash.Dashboard:
    board = board.with_row(dash.Row("Recovery"))
    hrv = timeseries(
        "ln rMSSD: mornings, 7-day mean and normal range",
        [
            q(f'SELECT first("ln_rmssd") AS "morning" FROM "readiness" {WHERE} {DAILY}'),
            q(f'SELECT "ln_rmssd_7d" AS "7-day mean" FROM "daily" {WHERE}'),
            q(
                'SELECT "ln_rmssd_lower_bound" AS "normal low", '
                '"ln_rmssd_baseline_mean" + 0.5 * "ln_rmssd_baseline_sd" AS "normal high" '
                f'FROM "daily" {WHERE}'
            ),
        ],
        description="Dots: each morning's ln rMSSD. Line: the 7-day mean. Band: the personal normal range, "
        "mean ± 0.5 SD of the 60 days before the week.",
    )
    hrv = (
        hrv.override_by_name("morning", [prop("custom.drawStyle", "points"), prop("custom.pointSize", 5)])
        .override_by_name("7-day mean", [prop("custom.lineWidth", 3)])
        .override_by_name(
            "normal high",
            [prop("custom.fillBelowTo", "normal low"), prop("color", {"mode": "fixed", "fixedColor": "green"})],
        )
        .override_by_name("normal low", [prop("color", {"mode": "fixed", "fixedColor": "green"})])
    )
    board = board.with_panel(hrv)
    return board.with_panel(
        timeseries(
            "Resting heart rate",
            [
                q(f'SELECT first("mean_hr_bpm") AS "morning HR" FROM "readiness" {WHERE} {DAILY}'),
                q(f'SELECT "rhr_7d" AS "resting HR 7-day" FROM "daily" {WHERE}'),
            ],
            unit="bpm",
            description="Mean heart rate of each morning reading and the 7-day resting heart rate.",
        ).override_by_name("morning HR", [prop("custom.drawStyle", "points")])
    )


def _asymmetry_row(board: dash.Dashboard) -> dash.Dashboard:
    board = board.with_row(dash.Row("Asymmetry"))
    symmetry = timeseries(
        "Symmetry index",
        [
            q(f'SELECT mean("gct_symmetry_index_pct") AS "ground contact" FROM "session" {WHERE} {DAILY}'),
            q(f'SELECT mean("muscle_symmetry_index_pct") AS "muscle load" FROM "session" {WHERE} {DAILY}'),
            q(f'SELECT mean("pedal_symmetry_index_pct") AS "pedal power" FROM "session" {WHERE} {DAILY}'),
            q(f'SELECT "gct_symmetry_index_pct" AS "ground contact (daily)" FROM "daily" {WHERE}'),
        ],
        unit="percent",
        width=24,
        description="SI = (L − R) / (0.5 · (L + R)) × 100: positive means the left side is larger. Dashed lines at "
        "±10 % (watch) and ±15 % (act).",
    )
    return board.with_panel(threshold_lines(symmetry, *SYMMETRY_LINES).axis_soft_min(-20).axis_soft_max(20))


def _tables_row(board: dash.Dashboard) -> dash.Dashboard:
    board = board.with_row(dash.Row("Flags and sessions"))
    flags = table(
        "Flags",
        [
            Influx(
                'SELECT "severity", "family", "signal", "value", "threshold", "window", "since", "reason", '
                f'"post_visit" FROM "flag" {WHERE} ORDER BY time DESC'
            )
        ],
        description="Every flag in the time range, newest first: value against threshold, window and reason.",
    ).override_by_name(
        "severity",
        [
            mappings_prop(SEVERITY_MAPPING),
            prop("custom.cellOptions", {"type": "color-background"}),
        ],
    )
    board = board.with_panel(flags)
    return board.with_panel(
        table(
            "Sessions",
            [
                Influx(
                    'SELECT "sport", "source", "duration_s" / 60 AS "minutes", "distance_m" / 1000 AS "km", '
                    '"avg_hr_bpm" AS "avg HR", "max_hr_bpm" AS "max HR", "rpe" AS "RPE", "srpe_load" AS "sRPE load", '
                    '"trimp" AS "TRIMP", "gct_symmetry_index_pct" AS "GCT SI %", '
                    '"muscle_symmetry_index_pct" AS "muscle SI %" '
                    f'FROM "session" {WHERE} ORDER BY time DESC'
                )
            ],
            description="One row per session, newest first.",
        ).decimals(1)
    )


def flag_annotations() -> list[cogbuilder.Builder[model.AnnotationQuery]]:
    """Flags from the store (daily markers; those of the quiet window after a visit grey, as muted), flag episodes
    published to Grafana (regions) and visits (IDN)."""
    stored = (
        dash.AnnotationQuery()
        .name("Flags")
        .datasource(datasource_ref())
        .enable(True)
        .icon_color("red")
        .target(
            Influx(f'SELECT "reason", "signal", "severity" FROM "flag" {WHERE} AND {NOT_MUTED}')
            .ref_id("Flags")
            .table()
            .annotation_columns(text="reason", tags="signal,severity")
        )
    )
    muted = (
        dash.AnnotationQuery()
        .name("Flags after a visit (muted)")
        .datasource(datasource_ref())
        .enable(True)
        .icon_color("#8c959f")
        .target(
            Influx(f'SELECT "reason", "signal", "severity" FROM "flag" {WHERE} AND "post_visit" = true')
            .ref_id("Muted")
            .table()
            .annotation_columns(text="reason", tags="signal,severity")
        )
    )
    published = (
        dash.AnnotationQuery()
        .name("Flag episodes (published)")
        .datasource(common.DataSourceRef(type_val="grafana", uid="-- Grafana --"))
        .enable(True)
        .icon_color("orange")
        # the SDK types `target` as a query, but Grafana's own (tags) annotations take an AnnotationTarget
        .target(
            dash.AnnotationTarget()  # type: ignore[arg-type]
            .type("tags")
            .tags(["recovery-flag", "athlete:$athlete"])
            .match_any(False)
            .limit(100)
        )
    )
    return [stored, muted, published, visit_annotation()]


def build() -> dash.Dashboard:
    """The athlete detail dashboard (uid `recovery-athlete`)."""
    board = (
        dash.Dashboard("Athlete detail")
        .uid(ATHLETE_UID)
        .tags([TAG, "athlete"])
        .description("One athlete's load, recovery and asymmetry indicators with their flags.")
        .time("now-90d", "now")
        .refresh("5m")
        .timezone("browser")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(athlete_variable())
        .link(dashboard_links())
        .annotations(flag_annotations())
    )
    for row in (_status_row, _load_row, _recovery_row, wellness_row, _asymmetry_row, _tables_row, visits_row):
        board = row(board)
    return board

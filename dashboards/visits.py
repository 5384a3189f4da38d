"""Visits (IDN) on the dashboards: annotations, the after-care window, the treatment response, the quiet state.

The athlete detail dashboard marks each visit (the `visit` measurement; removed visits excluded) as an
annotation, shows the after-care window (the visit time to `QUIET_HOURS` later) as a stat and lists the stored
treatment response (`visit_response` points, one per visit and level, docs/response.md). The squad overview shows,
per athlete, "treated — quiet until …" while the last visit is less than `QUIET_HOURS` old.

"Now" is the end of the dashboard's time range (`${__to}`, epoch ms; `now` by default), so moving the range back
shows the state as it was then. InfluxQL cannot add hours to a time, so the end of the window is computed in
Grafana: a `calculateField` transformation adds `QUIET_MS` to the visit's time column.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as model

from dashboards.panels import (
    ATHLETE_MATCH,
    PanelBuilder,
    colour_cells,
    mappings_prop,
    prop,
    stat,
    table,
    threshold_prop,
    transformation,
)
from dashboards.query import Influx, datasource_ref
from dashboards.visit_terms import DESCRIPTIVE, QUIET_HOURS, QUIET_MS

VISITS = f'"visit" WHERE {ATHLETE_MATCH} AND "removed" = false'
"""FROM/WHERE of the athlete's visits that were not removed (`visit remove` sets `removed`, docs/visits.md)."""
IN_QUIET_PERIOD = f"time > ${{__to}}ms - {QUIET_MS}ms AND time <= ${{__to}}ms"
"""Visits less than `QUIET_HOURS` before the end of the dashboard's time range."""
QUIET_UNTIL = "treated — quiet until"
AFTER_CARE_UNTIL = "after-care until"
VERDICT_MAPPING = {
    "improved": ("improved", "green"),
    "unchanged": ("unchanged", "text"),
    "worse": ("worse", "red"),
    "insufficient data": ("insufficient data", "#8c959f"),
}


def plus_quiet_period(alias: str, ref_id: str | None = None) -> model.DataTransformerConfig:
    """A `calculateField` step adding `QUIET_MS` to the time column as field ``alias`` (only on query ``ref_id``'s
    frames when given)."""
    options = {"mode": "binary", "binary": {"left": "Time", "operator": "+", "right": str(QUIET_MS)}, "alias": alias}
    step = transformation("calculateField", {**options, "replaceFields": False})
    if ref_id is not None:
        step.filter_val = model.MatcherConfig(id_val="byRefId", options=ref_id)
    return step


def visit_annotation() -> cogbuilder.Builder[model.AnnotationQuery]:
    """Each visit of the athlete as an annotation: the treated regions, tagged with the visit ID and therapist."""
    return (
        dash.AnnotationQuery()
        .name("Visits (IDN)")
        .datasource(datasource_ref())
        .enable(True)
        .icon_color("blue")
        .target(
            Influx(f'SELECT "regions", "visit_id", "therapist" FROM {VISITS} AND $timeFilter')
            .ref_id("Visits")
            .table()
            .annotation_columns(text="regions", tags="visit_id,therapist")
        )
    )


def after_care_stat() -> PanelBuilder:
    """The end of the after-care window of the athlete's last visit, while it lasts."""
    query = Influx(f'SELECT last("regions") AS "regions" FROM {VISITS} AND {IN_QUIET_PERIOD}').table()
    return (
        stat(
            "After-care until",
            [query],
            steps=((None, "blue"),),
            width=6,
            no_value="no visit in the last 24 h",
            description=f"The {QUIET_HOURS:g} h after a visit: after-care (no NSAIDs, no ice on the treated area) and "
            "the quiet period, in which the expected post-needling soreness is not a new warning sign.",
        )
        .with_transformation(plus_quiet_period(AFTER_CARE_UNTIL))
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).fields(f"/^{AFTER_CARE_UNTIL}$/"))
        .unit("dateTimeAsIso")
    )


def response_table() -> PanelBuilder:
    """The stored treatment response of each visit in the range, one row per level."""
    query = Influx(
        'SELECT "visit_id" AS "visit", "level", "verdict", "improvement_sd" AS "change (SD)", '
        '"ci95_low_sd" AS "95 % low (SD)", "ci95_high_sd" AS "95 % high (SD)", "days_pre" AS "days before", '
        '"days_post" AS "days after" '
        f'FROM "visit_response" WHERE {ATHLETE_MATCH} AND $timeFilter ORDER BY time DESC'
    )
    return (
        table(
            "Treatment response",
            [query],
            width=18,
            description="Per visit (its time) and level (local: muscle-load SI of the treated muscles; segmental: "
            "GCT and pedal balance SI; systemic: ln rMSSD and resting HR): the 7 days before against days 2–8 after, "
            "in the athlete's baseline SDs with the 95 % interval, positive = better. Stored once day 8 has passed "
            "(`recovery-monitor response`). " + DESCRIPTIVE,
        )
        .decimals(2)
        .override_by_name("verdict", [mappings_prop(VERDICT_MAPPING), colour_cells()])
    )


def visits_row(board: dash.Dashboard) -> dash.Dashboard:
    """The athlete detail's row of visits: the after-care window and the treatment response."""
    board = board.with_row(dash.Row("Visits and treatment response"))
    return board.with_panel(after_care_stat()).with_panel(response_table())


def squad_quiet_query() -> Influx:
    """Per athlete, the regions of the last visit less than `QUIET_HOURS` before the end of the range."""
    return Influx(f'SELECT last("regions") AS "treated regions" FROM {VISITS} AND {IN_QUIET_PERIOD} GROUP BY "athlete"')


def squad_quiet_overrides() -> list[tuple[str, list[model.DynamicConfigValue]]]:
    """The squad table's quiet-state column: the end of the quiet period as a date, on a blue background."""
    return [(QUIET_UNTIL, [prop("unit", "dateTimeAsIso"), threshold_prop((None, "blue")), colour_cells()])]

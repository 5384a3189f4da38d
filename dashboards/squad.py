"""Squad overview: one row per athlete with current flags, prevention-visit recommendation and key indicators."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash

from dashboards.athlete import ACWR_STAT, IDN_MAPPING, READINESS_MAPPING
from dashboards.panels import (
    ATHLETE_MATCH,
    NOT_MUTED,
    SEVERITY_COLOURS,
    SEVERITY_MAPPING,
    SQUAD_UID,
    TAG,
    PanelBuilder,
    athlete_detail_url,
    athlete_variable,
    colour_cells,
    dashboard_links,
    link,
    mappings_prop,
    prop,
    stat,
    table,
    threshold_prop,
    timeseries,
    transformation,
)
from dashboards.query import Influx
from dashboards.visits import QUIET_UNTIL, plus_quiet_period, squad_quiet_overrides, squad_quiet_query

CURRENT = "time > now() - 1d"
"""Flags are stamped 00:00 UTC of the evaluated day: the last 24 h hold the current day's flags."""
LATEST = f'WHERE {ATHLETE_MATCH} AND $timeFilter GROUP BY "athlete"'

ATHLETE_LINK = link("Athlete detail", athlete_detail_url("${__data.fields.athlete}"))


def _flag_count(severity: str, alias: str) -> str:
    """InfluxQL: per athlete, the number of `severity` flags evaluated in the last 24 h, as column `alias`."""
    return (
        f'SELECT count("value") AS "{alias}" FROM "flag" WHERE "severity" = \'{severity}\' AND {NOT_MUTED} '
        f'AND {ATHLETE_MATCH} AND {CURRENT} GROUP BY "athlete"'
    )


def _count_athletes(title: str, severity: str, colour: str) -> PanelBuilder:
    return stat(
        title,
        [Influx(f'SELECT count("flags") AS "athletes" FROM ({_flag_count(severity, "flags")})')],
        steps=((None, "green"), (1.0, colour)),
        no_value="0",
        width=6,
        description=f"Athletes with at least one `{severity}` flag evaluated in the last 24 h.",
    )


def _overview_stats(board: dash.Dashboard) -> dash.Dashboard:
    board = board.with_panel(_count_athletes("Athletes to act on", "act", "red"))
    board = board.with_panel(_count_athletes("Athletes to watch", "watch", "orange"))
    idn = (
        'SELECT count("idn") AS "visits" FROM (SELECT last("recommend_idn_visit") AS "idn" FROM "daily" '
        f'WHERE {ATHLETE_MATCH} AND {CURRENT} GROUP BY "athlete") WHERE "idn" = true'
    )
    board = board.with_panel(
        stat(
            "Prevention visits recommended",
            [Influx(idn)],
            steps=((None, "green"), (1.0, "red")),
            no_value="0",
            width=6,
            description="Athletes for whom the analysis recommends a preventive visit (IDN) today.",
        )
    )
    return board.with_panel(
        stat(
            "Athletes reporting",
            [
                Influx(
                    f'SELECT count("ln_rmssd") AS "athletes" FROM (SELECT last("ln_rmssd") AS "ln_rmssd" FROM '
                    f'"readiness" WHERE {ATHLETE_MATCH} AND {CURRENT} GROUP BY "athlete")'
                )
            ],
            no_value="0",
            width=6,
            description="Athletes with a morning reading in the last 24 h.",
        )
    )


def _squad_table() -> PanelBuilder:
    queries = [
        Influx(f'SELECT last("status") AS "readiness", last("ln_rmssd_7d") AS "ln rMSSD 7d" FROM "daily" {LATEST}'),
        Influx(_flag_count("act", "act flags")),
        Influx(_flag_count("watch", "watch flags")),
        Influx(f'SELECT last("recommend_idn_visit") AS "prevention visit" FROM "daily" {LATEST}'),
        Influx(f'SELECT last("acwr") AS "ACWR" FROM "daily" {LATEST}'),
        Influx(f'SELECT last("gct_symmetry_index_pct") AS "GCT SI %" FROM "daily" {LATEST}'),
        squad_quiet_query(),  # G
    ]
    panel = table(
        "Squad",
        queries,
        height=10,
        description="One row per athlete. Click an athlete for the detail dashboard. Flags count the signals "
        "evaluated in the last 24 h; red = act, orange = watch. Treated: a visit less than 24 h before the end of "
        "the time range, with the end of its quiet period (after-care).",
    )
    panel = (
        panel.with_transformation(plus_quiet_period(QUIET_UNTIL, "G"))
        .with_transformation(transformation("filterFieldsByName", {"include": {"pattern": "^(?!Time).*$"}}))
        .with_transformation(transformation("joinByField", {"byField": "athlete", "mode": "outer"}))
        .with_transformation(
            transformation("sortBy", {"sort": [{"field": "act flags", "desc": True}]}),
        )
        .override_by_name("athlete", [prop("links", [ATHLETE_LINK.build().to_json()])])
        .override_by_name(
            "readiness",
            [mappings_prop(READINESS_MAPPING), prop("custom.cellOptions", {"type": "color-text"})],
        )
    )
    for severity, colour in SEVERITY_COLOURS.items():
        panel = panel.override_by_name(
            f"{severity} flags", [threshold_prop((None, "transparent"), (1, colour)), colour_cells()]
        )
    for name, properties in squad_quiet_overrides():
        panel = panel.override_by_name(name, properties)
    return (
        panel.override_by_name("prevention visit", [mappings_prop(IDN_MAPPING), colour_cells()])
        .override_by_name("ACWR", [threshold_prop(*ACWR_STAT), prop("custom.cellOptions", {"type": "color-text"})])
        .override_by_name(
            "GCT SI %",
            [
                threshold_prop((None, "red"), (-15, "orange"), (-10, "green"), (10, "orange"), (15, "red")),
                prop("custom.cellOptions", {"type": "color-text"}),
            ],
        )
        .decimals(2)
    )


def _current_flags() -> PanelBuilder:
    query = Influx(
        'SELECT "athlete", "severity", "family", "signal", "value", "threshold", "since", "reason", "post_visit" '
        f'FROM "flag" WHERE {ATHLETE_MATCH} AND {CURRENT} ORDER BY time DESC'
    )
    return (
        table(
            "Current flags",
            [query],
            height=10,
            description="Every flag evaluated in the last 24 h, with the value against its threshold and the reason.",
        )
        .with_transformation(transformation("organize", {"excludeByName": {"Time": True}}))
        .override_by_name("athlete", [prop("links", [ATHLETE_LINK.build().to_json()])])
        .override_by_name("severity", [mappings_prop(SEVERITY_MAPPING), colour_cells()])
    )


def build() -> dash.Dashboard:
    """The squad overview dashboard (uid `recovery-squad`)."""
    board = (
        dash.Dashboard("Squad overview")
        .uid(SQUAD_UID)
        .tags([TAG, "squad"])
        .description("Every athlete at a glance: current flags, prevention-visit recommendations, readiness, load.")
        .time("now-28d", "now")
        .refresh("5m")
        .timezone("browser")
        .with_variable(athlete_variable(multi=True))
        .link(dashboard_links())
    )
    board = _overview_stats(board)
    board = board.with_panel(_squad_table())
    board = board.with_panel(_current_flags())
    trend = timeseries(
        "Morning ln rMSSD by athlete",
        [
            Influx(
                f'SELECT first("ln_rmssd") AS "ln rMSSD" FROM "readiness" WHERE {ATHLETE_MATCH} AND $timeFilter '
                'GROUP BY time(1d), "athlete" fill(none)'
            ).alias("$tag_athlete")
        ],
        width=24,
        description="Each athlete's morning ln rMSSD; click a series for that athlete's detail.",
    ).data_links([link("Athlete detail", athlete_detail_url("${__field.labels.athlete}"))])
    return board.with_panel(trend)

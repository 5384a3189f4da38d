"""Gateway health: devices and their states, reconnects, spool depth and ingest lag.

Reads the gateway's own telemetry, measurements `gateway` and `device_state` (documented in docs/dashboards.md).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import statetimeline

from dashboards.panels import (
    GATEWAY_UID,
    TAG,
    colour_cells,
    dashboard_links,
    mappings_prop,
    prop,
    query_variable,
    stat,
    table,
    tag_match,
    targets,
    timeseries,
    value_map,
)
from dashboards.query import Influx, datasource_ref

GATEWAY_MATCH = tag_match("gateway")
WHERE = f"WHERE {GATEWAY_MATCH} AND $timeFilter"
STATE_MAPPING = {
    "connected": ("connected", "green"),
    "connecting": ("connecting", "yellow"),
    "scanning": ("scanning", "blue"),
    "disconnected": ("disconnected", "red"),
}


def gateway_variable() -> dash.QueryVariable:
    """`$gateway`: every gateway host that reported telemetry (multi-select, All by default)."""
    return query_variable("gateway", "Gateway", 'SHOW TAG VALUES FROM "gateway" WITH KEY = "gateway"', multi=True)


def _stats(board: dash.Dashboard) -> dash.Dashboard:
    board = board.with_panel(
        stat(
            "Devices connected",
            [Influx(f'SELECT last("devices_connected") AS "devices" FROM "gateway" {WHERE} GROUP BY "gateway"')],
            width=6,
        )
    )
    board = board.with_panel(
        stat(
            "Spool depth now",
            [Influx(f'SELECT last("spool_points") AS "points" FROM "gateway" {WHERE} GROUP BY "gateway"')],
            steps=((None, "green"), (5000.0, "orange"), (50000.0, "red")),
            width=6,
            description="Points waiting in the gateway's local spool because the store was unreachable.",
        )
    )
    board = board.with_panel(
        stat(
            "Ingest lag now",
            [Influx(f'SELECT last("ingest_lag_ms") AS "lag" FROM "gateway" {WHERE} GROUP BY "gateway"')],
            unit="ms",
            steps=((None, "green"), (2000.0, "orange"), (10000.0, "red")),
            width=6,
            description="Time from a notification's arrival at the gateway to its acknowledged write.",
        )
    )
    return board.with_panel(
        stat(
            "Reconnects in range",
            [
                Influx(
                    'SELECT sum("reconnects") AS "reconnects" FROM (SELECT spread("reconnects") AS '
                    f'"reconnects" FROM "device_state" {WHERE} GROUP BY "device")'
                )
            ],
            steps=((None, "green"), (5.0, "orange"), (20.0, "red")),
            width=6,
            description="Reconnections of all devices in the time range.",
        )
    )


def build() -> dash.Dashboard:
    """The gateway health dashboard (uid `recovery-gateway`)."""
    board = (
        dash.Dashboard("Gateway health")
        .uid(GATEWAY_UID)
        .tags([TAG, "gateway"])
        .description("Is every sensor connected, and is the data flowing into the store?")
        .time("now-6h", "now")
        .refresh("30s")
        .timezone("browser")
        .with_variable(gateway_variable())
        .link(dashboard_links())
    )
    board = _stats(board)
    devices = table(
        "Devices",
        [
            Influx(
                'SELECT last("state") AS "state", last("rssi_dbm") AS "RSSI dBm", last("battery_pct") AS "battery %", '
                f'last("reconnects") AS "reconnects" FROM "device_state" {WHERE} '
                'GROUP BY "gateway", "device", "athlete"'
            )
        ],
        width=12,
    ).override_by_name("state", [mappings_prop(STATE_MAPPING), colour_cells()])
    board = board.with_panel(devices)
    states = (
        statetimeline.Panel()
        .title("Device states")
        .datasource(datasource_ref())
        .height(8)
        .span(12)
        .mappings(value_map(STATE_MAPPING))
    )
    board = board.with_panel(
        targets(
            states,
            [
                Influx(
                    f'SELECT last("state") AS "state" FROM "device_state" {WHERE} '
                    'GROUP BY time($__interval), "device" fill(previous)'
                ).alias("$tag_device")
            ],
        )
    )
    board = board.with_panel(
        timeseries(
            "Reconnects",
            [
                Influx(
                    'SELECT last("reconnects") AS "reconnects" FROM "device_state" '
                    f'{WHERE} GROUP BY time($__interval), "device" fill(previous)'
                ).alias("$tag_device")
            ],
        ).override_by_regexp(".*", [prop("custom.drawStyle", "line"), prop("custom.lineInterpolation", "stepAfter")])
    )
    board = board.with_panel(
        timeseries(
            "Spool depth",
            [
                Influx(
                    'SELECT max("spool_points") AS "spool depth" FROM "gateway" '
                    f'{WHERE} GROUP BY time($__interval), "gateway" fill(none)'
                ).alias("$tag_gateway")
            ],
        )
    )
    return board.with_panel(
        timeseries(
            "Ingest lag",
            [
                Influx(
                    'SELECT mean("ingest_lag_ms") AS "mean", max("ingest_lag_ms") AS "max" FROM "gateway" '
                    f'{WHERE} GROUP BY time($__interval), "gateway" fill(none)'
                ).alias("$col $tag_gateway")
            ],
            unit="ms",
            width=24,
        )
    )

"""Live session: heart rate, cadence, left/right ground contact and muscle load, live symmetry index (5 s refresh).

Reads what the gateway records (docs/dashboards.md): `hr`; `rsc` (footpod cadence); `power` (crank cadence,
pedal balance); `stride` (one point per foot contact, tag `side` = left/right, fields `gct_ms` and
`emg_rms_pct_mvc`). The live symmetry index of ground contact and muscle load pairs the left and right means of
each interval in Grafana (transformations); the pedal one comes straight from the balance, SI = 4 · (B − 50).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import timeseries as ts_panel
from grafana_foundation_sdk.models import dashboard as model

from dashboards.athlete import SYMMETRY_LINES, WHERE, q
from dashboards.panels import (
    ATHLETE_MATCH,
    LIVE_UID,
    TAG,
    athlete_variable,
    dashboard_links,
    stat,
    threshold_lines,
    timeseries,
    transformation,
)
from dashboards.query import Influx

BUCKETS = "GROUP BY time($__interval) fill(none)"
SIDES = ("left", "right")


def _side(field: str, label: str, side: str) -> Influx:
    return q(
        f'SELECT mean("{field}") AS "{label} {side}" FROM "stride" WHERE {ATHLETE_MATCH} AND "side" = \'{side}\' '
        f"AND $timeFilter {BUCKETS}"
    )


def _symmetry_steps(label: str) -> list[model.DataTransformerConfig]:
    """SI = (L − R) / (0.5 · (L + R)) × 100 from the joined `<label> left` and `<label> right` fields."""
    left, right = f"{label} left", f"{label} right"

    def binary(a: str, operator: str, b: str, alias: str) -> model.DataTransformerConfig:
        options = {"mode": "binary", "binary": {"left": a, "operator": operator, "right": b}, "alias": alias}
        return transformation("calculateField", {**options, "replaceFields": False})

    return [
        binary(left, "-", right, f"{label} L−R"),
        binary(left, "+", right, f"{label} L+R"),
        binary(f"{label} L−R", "/", f"{label} L+R", f"{label} ratio"),
        binary(f"{label} ratio", "*", "200", f"{label} SI"),
    ]


def _symmetry_panel() -> ts_panel.Panel:
    panel = timeseries(
        "Live symmetry index",
        [
            _side("gct_ms", "GCT", "left"),
            _side("gct_ms", "GCT", "right"),
            _side("emg_rms_pct_mvc", "muscle", "left"),
            _side("emg_rms_pct_mvc", "muscle", "right"),
            q(f'SELECT 4 * (mean("pedal_balance_left_pct") - 50) AS "pedal SI" FROM "power" {WHERE} {BUCKETS}'),
        ],
        unit="percent",
        width=24,
        description="Symmetry index per interval, positive when the left side is larger: ground-contact time and "
        "muscle load from the left and right pods, pedal power from the balance. Dashed lines at ±10 % and ±15 %.",
    )
    panel = panel.with_transformation(transformation("joinByField", {"byField": "Time", "mode": "outer"}))
    for step in _symmetry_steps("GCT") + _symmetry_steps("muscle"):
        panel = panel.with_transformation(step)
    keep = "^(Time|GCT SI|muscle SI|pedal SI)$"
    panel = panel.with_transformation(transformation("filterFieldsByName", {"include": {"pattern": keep}}))
    return threshold_lines(panel, *SYMMETRY_LINES).axis_soft_min(-20).axis_soft_max(20)


def build() -> dash.Dashboard:
    """The live session dashboard (uid `recovery-live`)."""
    board = (
        dash.Dashboard("Live session")
        .uid(LIVE_UID)
        .tags([TAG, "live"])
        .description("One athlete's session as it streams in from the gateway.")
        .time("now-30m", "now")
        .refresh("5s")
        .timezone("browser")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(athlete_variable())
        .link(dashboard_links())
    )
    board = board.with_panel(
        stat(
            "Heart rate now",
            [Influx(f'SELECT last("bpm") AS "HR" FROM "hr" {WHERE}')],
            unit="bpm",
            steps=((None, "green"), (170.0, "orange"), (185.0, "red")),
            width=6,
        )
    )
    board = board.with_panel(
        stat(
            "Cadence now", [Influx(f'SELECT last("cadence_spm") AS "cadence" FROM "rsc" {WHERE}')], unit="spm", width=6
        )
    )
    board = board.with_panel(
        stat(
            "Ground contact now",
            [Influx(f'SELECT last("gct_ms") AS "GCT" FROM "stride" {WHERE} GROUP BY "side"').alias("$tag_side")],
            unit="ms",
            width=6,
        )
    )
    board = board.with_panel(
        stat(
            "Muscle load now",
            [
                Influx(f'SELECT last("emg_rms_pct_mvc") AS "load" FROM "stride" {WHERE} GROUP BY "side"').alias(
                    "$tag_side"
                )
            ],
            unit="percent",
            width=6,
        )
    )
    board = board.with_panel(
        timeseries("Heart rate", [q(f'SELECT mean("bpm") AS "HR" FROM "hr" {WHERE} {BUCKETS}')], unit="bpm")
    )
    board = board.with_panel(
        timeseries(
            "Cadence",
            [
                q(f'SELECT mean("cadence_spm") AS "running (spm)" FROM "rsc" {WHERE} {BUCKETS}'),
                q(f'SELECT mean("cadence_rpm") AS "cycling (rpm)" FROM "power" {WHERE} {BUCKETS}'),
            ],
        )
    )
    board = board.with_panel(
        timeseries(
            "Ground-contact time, left and right",
            [_side("gct_ms", "GCT", side) for side in SIDES],
            unit="ms",
        )
    )
    board = board.with_panel(
        timeseries(
            "Muscle load, left and right",
            [_side("emg_rms_pct_mvc", "muscle", side) for side in SIDES],
            unit="percent",
            description="EMG RMS of each side's muscle pod, % of maximal voluntary contraction.",
        )
    )
    return board.with_panel(_symmetry_panel())

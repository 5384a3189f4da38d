"""Small helpers over grafana-foundation-sdk panel builders, shared by the four dashboards."""

from __future__ import annotations

from typing import Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import stat as stat_panel
from grafana_foundation_sdk.builders import table as table_panel
from grafana_foundation_sdk.builders import timeseries as ts_panel
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.query import Influx, datasource_ref

FOLDER_UID = "recovery-monitor"
FOLDER_TITLE = "Recovery monitor"
TAG = "recovery-monitor"

SQUAD_UID = "recovery-squad"
ATHLETE_UID = "recovery-athlete"
LIVE_UID = "recovery-live"
GATEWAY_UID = "recovery-gateway"


def tag_match(tag: str) -> str:
    """WHERE clause piece matching tag `tag` to variable `$tag` (regex, so `All` and multi-value selections work)."""
    return f'"{tag}" =~ /^${tag}$/'


ATHLETE_MATCH = tag_match("athlete")
"""WHERE clause piece for the `$athlete` variable."""
NOT_MUTED = '"post_visit" = false'
"""Flags outside the quiet window after a visit (docs/episodes.md): those inside it are shown muted."""

SEVERITY_COLOURS = {"act": "red", "watch": "orange"}
SEVERITY_MAPPING = {severity: (severity, colour) for severity, colour in SEVERITY_COLOURS.items()}
"""Value mapping for a `severity` field: the severity itself, in its colour."""

Step = tuple[float | None, str]
PanelBuilder = cogbuilder.Builder[model.Panel]


def athlete_detail_url(athlete_expr: str) -> str:
    """Link to the athlete detail dashboard for one athlete, keeping the current time range."""
    return f"/d/{ATHLETE_UID}/athlete-detail?var-athlete={athlete_expr}&${{__url_time_range}}"


def thresholds(*steps: Step) -> dash.ThresholdsConfig:
    """Absolute thresholds; the first step's value must be None (the base colour)."""
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=colour) for value, colour in steps])
    )


def prop(name: str, value: object) -> model.DynamicConfigValue:
    """One field-override property, e.g. `prop("custom.fillBelowTo", "lower")`."""
    return model.DynamicConfigValue(id_val=name, value=value)


def threshold_prop(*steps: Step) -> model.DynamicConfigValue:
    return prop(
        "thresholds", {"mode": "absolute", "steps": [{"value": value, "color": colour} for value, colour in steps]}
    )


def value_map(mapping: dict[str, tuple[str, str]]) -> list[model.ValueMapping]:
    """Text value → (display text, colour)."""
    options = {
        key: model.ValueMappingResult(text=text, color=colour, index=i)
        for i, (key, (text, colour)) in enumerate(mapping.items())
    }
    return [model.ValueMap(options=options)]


def mappings_prop(mapping: dict[str, tuple[str, str]]) -> model.DynamicConfigValue:
    """Field-override property applying `value_map(mapping)`, e.g. to one table column."""
    return prop("mappings", [value_mapping.to_json() for value_mapping in value_map(mapping)])


def colour_cells() -> model.DynamicConfigValue:
    """Field-override property colouring a table column's cell backgrounds (by mapping or threshold)."""
    return prop("custom.cellOptions", {"type": "color-background", "mode": "basic"})


class _WithTargets(Protocol):
    """A panel builder that takes queries (every panel kind of the SDK)."""

    def with_target(self, target: cogbuilder.Builder[cogvariants.Dataquery]) -> Self: ...


_Panel = TypeVar("_Panel", bound=_WithTargets)


def targets(panel: _Panel, queries: list[Influx]) -> _Panel:
    """Attach queries with refIds A, B, C… in order."""
    for index, query in enumerate(queries):
        panel = panel.with_target(query.ref_id(chr(ord("A") + index)))
    return panel


def timeseries(
    title: str, queries: list[Influx], *, unit: str = "", description: str = "", height: int = 8, width: int = 12
) -> ts_panel.Panel:
    """A time series panel on the InfluxDB datasource; gaps between points are bridged."""
    panel = (
        ts_panel.Panel()
        .title(title)
        .datasource(datasource_ref())
        .height(height)
        .span(width)
        .line_width(2)
        .fill_opacity(10)
        .show_points(common.VisibilityMode.AUTO)
        .span_nulls(True)
        .legend(common_builders.VizLegendOptions().show_legend(True).display_mode(common.LegendDisplayMode.LIST))
    )
    if unit:
        panel = panel.unit(unit)
    if description:
        panel = panel.description(description)
    return targets(panel, queries)


def threshold_lines(panel: ts_panel.Panel, *steps: Step, area: bool = False) -> ts_panel.Panel:
    """Draw thresholds as dashed lines (or shaded areas) behind the series."""
    mode = common.GraphThresholdsStyleMode.AREA if area else common.GraphThresholdsStyleMode.DASHED
    return panel.thresholds(thresholds(*steps)).thresholds_style(
        common_builders.GraphThresholdsStyleConfig().mode(mode)
    )


def stat(
    title: str,
    queries: list[Influx],
    *,
    unit: str = "",
    description: str = "",
    steps: tuple[Step, ...] = ((None, "text"),),
    height: int = 4,
    width: int = 4,
    no_value: str = "—",
) -> stat_panel.Panel:
    """A single-value panel showing the last non-null value, coloured by thresholds."""
    panel = (
        stat_panel.Panel()
        .title(title)
        .datasource(datasource_ref())
        .height(height)
        .span(width)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).fields("/.*/"))
        .thresholds(thresholds(*steps))
        .no_value(no_value)
    )
    if unit:
        panel = panel.unit(unit)
    if description:
        panel = panel.description(description)
    return targets(panel, queries)


def table(
    title: str, queries: list[Influx], *, description: str = "", height: int = 8, width: int = 24
) -> table_panel.Panel:
    """A table panel; every query is switched to table results."""
    panel = table_panel.Panel().title(title).datasource(datasource_ref()).height(height).span(width)
    if description:
        panel = panel.description(description)
    return targets(panel, [query.table() for query in queries])


def transformation(kind: str, options: dict) -> model.DataTransformerConfig:
    return model.DataTransformerConfig(id_val=kind, options=options)


def link(title: str, url: str) -> dash.DashboardLink:
    """A data link (cell or series) opening `url` in the same tab."""
    return dash.DashboardLink(title).url(url).type(model.DashboardLinkType.LINK).target_blank(False)


def dashboard_links() -> dash.DashboardLink:
    """The dropdown at the top of every dashboard listing the others (by tag)."""
    return (
        dash.DashboardLink("Recovery monitor")
        .type(model.DashboardLinkType.DASHBOARDS)
        .tags([TAG])
        .as_dropdown(True)
        .include_vars(True)
        .keep_time(True)
    )


def query_variable(name: str, label: str, query: str, *, multi: bool = False) -> dash.QueryVariable:
    """`$name` from an InfluxQL `query`, refreshed with the time range, sorted A–Z; `multi` adds `All` (`.*`)."""
    variable = (
        dash.QueryVariable(name)
        .label(label)
        .datasource(datasource_ref())
        .query(query)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )
    if multi:
        variable = variable.multi(True).include_all(True).all_value(".*")
    return variable


def athlete_variable(*, multi: bool = False) -> dash.QueryVariable:
    """`$athlete`: every athlete with data in `daily` or `hr` (the pseudonymous ID only)."""
    return query_variable("athlete", "Athlete", 'SHOW TAG VALUES WITH KEY = "athlete"', multi=multi)

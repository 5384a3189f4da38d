"""Raw InfluxQL targets for grafana-foundation-sdk, which ships no InfluxDB query builder.

`InfluxQuery` is registered as the `influxdb` dataquery variant so dashboards that contain it can be read back with
the SDK's own JSON loaders. Every query in this project is raw InfluxQL on the data model (`docs/data-model.md`)
with Grafana's template variables: `$timeFilter`, `$__interval` and dashboard variables such as `$athlete`.
"""

from __future__ import annotations

import typing

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.common import DataSourceRef

DATASOURCE_UID = "influx-recovery"
"""The fixed uid of the InfluxDB datasource: provisioning, dashboards and alert rules all refer to it."""
DATASOURCE_TYPE = "influxdb"

ResultFormat = typing.Literal["time_series", "table", "logs"]


def datasource_ref() -> DataSourceRef:
    """A reference to the project's InfluxDB datasource."""
    return DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


class InfluxQuery(cogvariants.Dataquery):
    """One raw InfluxQL target: `{refId, query, rawQuery: true, resultFormat}` plus annotation columns."""

    def __init__(
        self,
        query: str = "",
        ref_id: str = "",
        result_format: ResultFormat = "time_series",
        hide: bool | None = None,
        columns: dict[str, object] | None = None,
    ) -> None:
        self.query = query
        self.ref_id = ref_id
        self.result_format = result_format
        self.hide = hide
        self.columns = dict(columns or {})

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "datasource": datasource_ref().to_json(),
            "query": self.query,
            "rawQuery": True,
            "refId": self.ref_id,
            "resultFormat": self.result_format,
        }
        if self.hide is not None:
            payload["hide"] = self.hide
        payload.update(self.columns)
        return payload

    @classmethod
    def from_json(cls, data: dict[str, typing.Any]) -> typing.Self:
        known = {"datasource", "query", "rawQuery", "refId", "resultFormat", "hide"}
        return cls(
            query=data.get("query", ""),
            ref_id=data.get("refId", ""),
            result_format=data.get("resultFormat", "time_series"),
            hide=data.get("hide"),
            columns={k: v for k, v in data.items() if k not in known},
        )


class Influx(cogbuilder.Builder[InfluxQuery]):
    """Builder for `InfluxQuery`: `Influx("SELECT …").ref_id("A").table()`."""

    def __init__(self, query: str) -> None:
        self._internal = InfluxQuery(query=" ".join(query.split()))

    def build(self) -> InfluxQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> typing.Self:
        self._internal.ref_id = ref_id
        return self

    def table(self) -> typing.Self:
        """Rows instead of time series (tables, annotations)."""
        self._internal.result_format = "table"
        return self

    def alias(self, alias: str) -> typing.Self:
        """Series name pattern: `$col` (the column alias), `$tag_athlete`, …"""
        self._internal.columns["alias"] = alias
        return self

    def annotation_columns(self, text: str, tags: str = "", title: str = "") -> typing.Self:
        """Which result columns an annotation query maps to text, tags and title."""
        self._internal.columns.update(
            {"fromAnnotations": True, "textColumn": text, "tagsColumn": tags, "titleColumn": title}
        )
        return self


def variant_config() -> cogruntime.DataqueryConfig:
    """The SDK runtime registration of `InfluxQuery` for datasource type `influxdb`."""
    return cogruntime.DataqueryConfig(identifier=DATASOURCE_TYPE, from_json_hook=InfluxQuery.from_json)


cogruntime.register_dataquery_variant(variant_config())

"""The four dashboards as JSON: build, number panels, serialise deterministically, list every InfluxQL query."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import athlete, gateway, live, squad
from dashboards.query import DATASOURCE_UID

BUILDERS: dict[str, Callable[[], Dashboard]] = {
    "squad-overview": squad.build,
    "athlete-detail": athlete.build,
    "live-session": live.build,
    "gateway-health": gateway.build,
}
"""File stem → dashboard builder, in the order the dashboards are listed."""

BUILT_IN_ANNOTATION = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


@dataclass(frozen=True)
class PanelQuery:
    """One InfluxQL query of a dashboard: a panel target, a template variable or an annotation."""

    dashboard: str  # dashboard uid
    panel: str  # panel title, `$name` for a variable, `annotation: name` for an annotation
    ref_id: str
    query: str

    @property
    def key(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref_id}"


def to_json(board: Dashboard) -> dict[str, Any]:
    """The dashboard model as plain JSON, with panel ids and the built-in annotation Grafana expects."""
    data = json.loads(JSONEncoder().encode(board.build()))
    for index, panel in enumerate(data.get("panels", []), start=1):
        panel["id"] = index
    annotations = data.get("annotations") or {}
    data["annotations"] = {"list": [BUILT_IN_ANNOTATION, *annotations.get("list", [])]}
    data.setdefault("version", 1)
    return data


def build_all() -> dict[str, dict[str, Any]]:
    """File stem → dashboard JSON, for all four dashboards."""
    return {stem: to_json(build()) for stem, build in BUILDERS.items()}


def render(data: dict[str, Any]) -> str:
    """Stable text form: sorted keys, two-space indent, trailing newline (diff-friendly, committed)."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_dashboards(out_dir: Path) -> list[Path]:
    """Write one `<stem>.json` per dashboard into `out_dir`; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, data in build_all().items():
        path = out_dir / f"{stem}.json"
        path.write_text(render(data), encoding="utf-8")
        written.append(path)
    return written


def _is_ours(datasource: Any) -> bool:
    return isinstance(datasource, dict) and datasource.get("uid") == DATASOURCE_UID


def iter_queries(data: dict[str, Any]) -> Iterator[PanelQuery]:
    """Every InfluxQL query of one dashboard JSON: panel targets, query variables and annotations."""
    uid = data["uid"]
    for panel in data.get("panels", []):
        for target in panel.get("targets") or []:
            if _is_ours(target.get("datasource")) or _is_ours(panel.get("datasource")):
                yield PanelQuery(uid, panel["title"], target["refId"], target["query"])
    for variable in (data.get("templating") or {}).get("list", []):
        if variable.get("type") == "query" and _is_ours(variable.get("datasource")):
            yield PanelQuery(uid, f"${variable['name']}", "-", variable["query"])
    for annotation in (data.get("annotations") or {}).get("list", []):
        target = annotation.get("target") or {}
        if _is_ours(annotation.get("datasource")) and "query" in target:
            yield PanelQuery(uid, f"annotation: {annotation['name']}", "-", target["query"])

"""Every InfluxQL query of the provisioned dashboards and alert rules names what the data model declares.

The queries are InfluxQL text (Grafana runs them), so a renamed measurement, tag or field would only show as an
empty panel. This test reads every query of the committed provisioning files and checks each measurement after
FROM, and every other double-quoted identifier, against `ingest.model` (aliases made with AS aside).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ingest import model

PROVISIONING = Path(__file__).resolve().parents[1] / "dashboards" / "provisioning"
FROM = re.compile(r'\bFROM\s+"([^"]+)"', re.IGNORECASE)
ALIAS = re.compile(r'\bAS\s+"([^"]+)"', re.IGNORECASE)
QUOTED = re.compile(r'"([^"]+)"')


def queries(node: object) -> list[str]:
    """The InfluxQL texts in a dashboard or alerting document: `query` keys and templating `definition`s."""
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("query", "definition") and isinstance(v, str)]
        return found + [q for k, v in node.items() if not (k in ("query", "definition") and isinstance(v, str))
                        for q in queries(v)]  # fmt: skip
    if isinstance(node, list):
        return [q for item in node for q in queries(item)]
    return []


def provisioned_queries() -> list[tuple[str, str]]:
    found = []
    for path in sorted((PROVISIONING / "dashboards").rglob("*.json")):
        found += [(path.name, q) for q in queries(json.loads(path.read_text()))]
    for path in sorted((PROVISIONING / "alerting").glob("*.yaml")):
        found += [(path.name, q) for q in queries(yaml.safe_load(path.read_text()))]
    return [(name, q) for name, q in found if FROM.search(q)]


def undeclared(query: str) -> list[str]:
    """The measurements and identifiers of ``query`` that the data model does not declare."""
    problems, names = [], set()
    for name in FROM.findall(query):
        try:
            m = model.measurement(name)
        except KeyError:
            problems.append(f"measurement {name!r}")
            continue
        names |= {name, *m.tag_names, *m.field_names}
    aliases = set(ALIAS.findall(query))
    without_aliases = ALIAS.sub("", query)
    problems += [f"identifier {ident!r}" for ident in QUOTED.findall(without_aliases) if ident not in names | aliases]
    return problems


QUERIES = provisioned_queries()


def test_the_provisioning_holds_the_queries() -> None:
    assert len(QUERIES) >= 50 and {name for name, _ in QUERIES} >= {"prevention-visit.yaml"}


@pytest.mark.parametrize(("source", "query"), QUERIES, ids=[f"{s}:{i}" for i, (s, _) in enumerate(QUERIES)])
def test_each_query_names_only_declared_measurements_tags_and_fields(source: str, query: str) -> None:
    assert undeclared(query) == [], query


def test_a_renamed_field_or_measurement_is_caught() -> None:
    assert undeclared('SELECT last("acwr") AS "ACWR" FROM "daily"') == []
    assert undeclared('SELECT last("acwr_ratio") AS "ACWR" FROM "daily"') == ["identifier 'acwr_ratio'"]
    assert undeclared('SELECT last("acwr") FROM "dayly"') == [
        "measurement 'dayly'",
        "identifier 'acwr'",
        "identifier 'dayly'",
    ]

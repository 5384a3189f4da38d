"""Generated dashboards and provisioning are committed up to date; compose and provisioning files are consistent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from shared_data import SHARED_DATA, skip_or_fail

from dashboards import alerting, catalog, provisioning
from dashboards.query import DATASOURCE_UID
from monitor.cli.main import main

REPO = Path(__file__).resolve().parents[1]
PROVISIONING = REPO / "dashboards" / "provisioning"
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
SPEC = SHARED_DATA.parent / "grafana" / "openapi3.json"
SECRET_KEYS = re.compile(r"(PASSWORD|TOKEN|SECRET|KEY)$")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def load_yaml(relative: str) -> dict:
    return yaml.safe_load((PROVISIONING / relative).read_text())


def test_committed_provisioning_matches_the_generator(tmp_path):
    problems = provisioning.differences(PROVISIONING)
    hint = "regenerate: recovery-monitor dashboards provision --out dashboards/provisioning"
    assert not problems, hint + "\n" + "\n".join(problems)
    assert main(["dashboards", "provision", "--out", str(tmp_path)]) == 0
    fresh = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(PROVISIONING).as_posix() for p in PROVISIONING.rglob("*") if p.is_file())
    assert fresh == committed
    assert main(["dashboards", "provision", "--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "alerting" / "policies.yaml").write_text("edited\n")
    assert main(["dashboards", "provision", "--out", str(tmp_path), "--check"]) == 1


def test_build_writes_one_json_per_dashboard(tmp_path, capsys):
    assert main(["dashboards", "build", "--out", str(tmp_path)]) == 0
    files = sorted(tmp_path.glob("*.json"))
    assert [f.stem for f in files] == sorted(catalog.BUILDERS)
    uids = {json.loads(f.read_text())["uid"] for f in files}
    assert uids == {"recovery-squad", "recovery-athlete", "recovery-live", "recovery-gateway"}


def test_dashboards_use_only_the_provisioned_datasource():
    datasource = load_yaml("datasources/influxdb.yaml")["datasources"][0]
    assert datasource["uid"] == DATASOURCE_UID and datasource["type"] == "influxdb"
    assert datasource["jsonData"]["httpHeaderName1"] == "Authorization"
    assert datasource["secureJsonData"]["httpHeaderValue1"] == "Token ${INFLUX_TOKEN}"
    for data in catalog.build_all().values():
        ids = [panel["id"] for panel in data["panels"]]
        assert len(ids) == len(set(ids)), data["uid"]
        titles = [panel["title"] for panel in data["panels"] if panel["type"] != "row"]
        assert len(titles) == len(set(titles)), data["uid"]
        for panel in data["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
            refs = [target["refId"] for target in panel["targets"]]
            assert refs and len(refs) == len(set(refs)) and all(refs), panel["title"]
            assert all(t["rawQuery"] is True and t["datasource"]["uid"] == DATASOURCE_UID for t in panel["targets"])
        uses_athlete = any("$athlete" in q.query for q in catalog.iter_queries(data))
        variables = {v["name"] for v in data["templating"]["list"]}
        assert uses_athlete == ("athlete" in variables), data["uid"]


def test_dashboard_provider_points_at_the_json_folder():
    provider = load_yaml("dashboards/recovery-monitor.yaml")["providers"][0]
    assert provider["type"] == "file" and provider["folderUid"]
    container_path = provider["options"]["path"]
    assert container_path.startswith(provisioning.CONTAINER_ROOT + "/")
    local = PROVISIONING / container_path.removeprefix(provisioning.CONTAINER_ROOT + "/")
    assert sorted(p.stem for p in local.glob("*.json")) == sorted(catalog.BUILDERS)


def test_alerting_files_are_flat_and_consistent():
    alerting_dir = PROVISIONING / "alerting"
    assert not [p for p in alerting_dir.iterdir() if p.is_dir()], "a subdirectory in alerting/ aborts Grafana"
    documents = [yaml.safe_load(p.read_text()) for p in sorted(alerting_dir.glob("*.yaml"))]
    groups = [g for d in documents for g in d.get("groups", [])]
    contact_points = [c for d in documents for c in d.get("contactPoints", [])]
    policies = [p for d in documents for p in d.get("policies", [])]
    assert [g["name"] for g in groups] == [alerting.RULE_GROUP]
    rule = groups[0]["rules"][0]
    sources = {query["datasourceUid"] for query in rule["data"]}
    assert sources == {DATASOURCE_UID, alerting.EXPR_UID}
    assert [q["refId"] for q in rule["data"]] == ["A", "B", "C"] and rule["condition"] == "C"
    assert rule["data"][1]["model"]["type"] == "reduce" and rule["data"][1]["model"]["reducer"] == "last"
    assert rule["data"][2]["model"]["type"] == "threshold"
    assert 'GROUP BY "athlete"' in rule["data"][0]["model"]["query"]
    assert "$" not in json.dumps(rule["data"]) + json.dumps(rule["labels"]), "Grafana interpolates $ in these"
    receivers = {c["name"]: {r["type"] for r in c["receivers"]} for c in contact_points}
    assert receivers == {alerting.CONTACT_POINT: {"email", "webhook"}}
    settings = json.dumps([c["receivers"] for c in contact_points])
    assert "${ALERT_EMAIL}" in settings and "${GRAFANA_ALERT_WEBHOOK_URL}" in settings

    def used(route: dict) -> set[str]:
        return {route.get("receiver")} | {name for child in route.get("routes", []) for name in used(child)}

    assert set(receivers) <= set().union(*(used(p) for p in policies)) - {None}
    matcher = policies[0]["routes"][0]["object_matchers"][0]
    assert rule["labels"][matcher[0]] == matcher[2]


def test_provisioned_rule_has_every_field_the_api_requires():
    if not SPEC.is_file():
        skip_or_fail(f"{SPEC} not found (shared/ beside the repository)")
    schemas = json.loads(SPEC.read_text())["components"]["schemas"]
    required = set(schemas["ProvisionedAlertRule"]["required"]) - {"orgID", "folderUID", "ruleGroup"}
    rule = load_yaml("alerting/prevention-visit.yaml")["groups"][0]["rules"][0]
    assert required <= set(rule)
    for key in ("noDataState", "execErrState"):
        assert rule[key] in schemas["ProvisionedAlertRule"]["properties"][key]["enum"]
    api_rule = alerting.prevention_rule()
    assert set(schemas["ProvisionedAlertRule"]["required"]) <= set(api_rule)


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_parses_and_mounts_only_existing_files():
    services = compose()["services"]
    assert {"influxdb", "grafana", "monitor", "ingest"} <= set(services)
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("${"):
                default = re.match(r"\$\{\w+:-([^}]*)\}", source)
                source = default.group(1) if default else ""
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: {volume}"
        if "build" in service:
            assert (REPO / service["build"] / "Dockerfile").exists()
    init = REPO / "dashboards/compose/influxdb-init/create-dbrp.sh"
    assert init.stat().st_mode & 0o111, "the influxdb init script must be executable"
    assert "influx v1 dbrp create" in init.read_text()


def test_compose_pins_images_and_wires_provisioning():
    services = compose()["services"]
    assert services["influxdb"]["image"] == "influxdb:2.7"
    assert re.fullmatch(r"grafana/grafana(-oss)?:12\.\d+\.\d+", services["grafana"]["image"])
    influx_env = services["influxdb"]["environment"]
    assert influx_env["DOCKER_INFLUXDB_INIT_MODE"] == "setup"
    assert influx_env["DOCKER_INFLUXDB_INIT_BUCKET"] == "recovery"
    grafana = services["grafana"]
    assert "./dashboards/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    provisioned_env = set()
    for path in PROVISIONING.rglob("*.yaml"):
        provisioned_env |= set(INTERPOLATION.findall(path.read_text()))
    assert provisioned_env == set(provisioning.ENVIRONMENT)
    assert provisioned_env <= set(grafana["environment"]), provisioned_env - set(grafana["environment"])
    assert grafana["environment"]["INFLUX_BUCKET"] == influx_env["DOCKER_INFLUXDB_INIT_BUCKET"]
    assert services["ingest"]["network_mode"] == "host"
    assert any(v.startswith("/var/run/dbus:") for v in services["ingest"]["volumes"])


def test_compose_has_no_secret_literals_and_env_example_covers_it():
    text = COMPOSE.read_text()
    referenced = set(INTERPOLATION.findall(text))
    for service in compose()["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_KEYS.search(key):
                assert str(value).startswith("${"), f"{key} must come from the environment"
    example = dict(
        line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#")
    )
    required = {m.group(1) for m in re.finditer(r"\$\{(\w+):\?", text)}
    assert required <= set(example), required - set(example)
    assert referenced - set(example) == set(), referenced - set(example)
    assert not re.search(r"glsa_|ey[A-Za-z0-9]{20,}|[0-9a-f]{40,}", text + ENV_EXAMPLE.read_text())

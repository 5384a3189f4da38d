"""Contract: every request `dashboards publish` sends is valid against Grafana's own OpenAPI spec.

Grafana's spec (`../shared/grafana/openapi3.json`, AGPL, read from outside the repository) is loaded once per
session; a stateful stub Grafana (tests/fake_grafana.py) answers on pytest-httpserver. Publishing twice must only
read the second time.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import numpy as np
import pytest
from fake_grafana import FakeGrafana
from influxd import free_port
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from shared_data import SHARED_DATA, skip_or_fail
from werkzeug import Request, Response
from werkzeug.test import EnvironBuilder

from dashboards import alerting, catalog
from ingest.store.base import PointBatch
from ingest.store.sqlite import SQLiteStore
from monitor.cli.main import main

SPEC = SHARED_DATA.parent / "grafana" / "openapi3.json"
TOKEN = "glsa_test-token-0123456789"
DAY_MS = 86_400_000
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="session")
def grafana_openapi() -> OpenAPI:
    if not SPEC.exists():
        skip_or_fail(
            f"{SPEC} not found (shared/ beside the repository)",
            ci_reason=f"{SPEC} is missing: the contract tests need shared/grafana/openapi3.json",
        )
    return OpenAPI.from_file_path(str(SPEC))


@pytest.fixture
def fake(httpserver, monkeypatch) -> FakeGrafana:
    grafana = FakeGrafana(TOKEN)
    httpserver.expect_request(re.compile(r"^/api/")).respond_with_handler(grafana)
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    monkeypatch.delenv("GRAFANA_TOKEN_FILE", raising=False)
    return grafana


def _day(offset: int) -> int:
    today = dt.datetime.now(dt.UTC).date()
    day = today - dt.timedelta(days=offset)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def write_flags(store: SQLiteStore, athlete: str, signal: str, family: str, severity: str, days: int) -> None:
    times = np.array([_day(offset) for offset in range(days - 1, -1, -1)], np.int64)
    since = dt.datetime.fromtimestamp(int(times[0]) / 1000, dt.UTC).date().isoformat()
    fields = {
        "value": np.linspace(1.0, 2.0, days),
        "threshold": np.full(days, 0.9),
        "window": np.array(["7d"] * days, dtype=object),
        "since": np.array([since] * days, dtype=object),
        "reason": np.array([f"{signal} for {days} days"] * days, dtype=object),
    }
    tags = {"athlete": athlete, "family": family, "signal": signal, "severity": severity}
    store.write([PointBatch("flag", tags, times, fields)])


@pytest.fixture
def store_url(tmp_path) -> str:
    path = tmp_path / "flags.sqlite"
    store = SQLiteStore(path)
    write_flags(store, "S01", "hrv_suppressed", "recovery", "act", 3)
    write_flags(store, "S02", "acwr_high", "load", "watch", 2)
    store.close()
    return f"sqlite:///{path}"


def publish(httpserver, capsys, store_url: str, *extra: str) -> dict:
    url = httpserver.url_for("/").rstrip("/")
    code = main(["dashboards", "publish", "--grafana-url", url, "--store", store_url, "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def validate_log(httpserver, openapi: OpenAPI) -> list[Request]:
    """Validate every logged request (and our stub's response) against the spec; returns the requests."""
    requests = []
    for request, response in httpserver.log:
        openapi.validate_request(WerkzeugOpenAPIRequest(request))
        openapi.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
        requests.append(request)
    return requests


def writes(requests: list[Request]) -> list[str]:
    return [f"{r.method} {r.path}" for r in requests if r.method in WRITES]


def test_publish_twice_sends_spec_valid_requests_and_creates_nothing_new(
    httpserver, fake, grafana_openapi, capsys, store_url
):
    first = publish(httpserver, capsys, store_url)
    requests = validate_log(httpserver, grafana_openapi)
    assert first["folders"] == {"created": 2}
    assert first["dashboards"] == {"created": len(catalog.BUILDERS)}
    assert first["alert rules"] == {"created": 1}
    assert first["annotations"] == {"created": 2}
    assert first["grafana_version"] == "12.1.1"
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in requests)
    provisioning = [r for r in requests if r.path.startswith("/api/v1/provisioning/") and r.method in WRITES]
    assert provisioning and all(r.headers.get("X-Disable-Provenance") == "true" for r in provisioning)
    assert set(fake.dashboards) == {data["uid"] for data in catalog.build_all().values()}
    group = fake.groups[alerting.ALERT_FOLDER_UID, alerting.RULE_GROUP]
    assert group["interval"] == alerting.RULE_GROUP_INTERVAL_S
    posted = [json.loads(r.get_data()) for r in requests if r.method == "POST" and r.path == "/api/annotations"]
    assert all(None not in body.values() and "panelId" not in body for body in posted)
    assert {tag for body in posted for tag in body["tags"]} >= {"recovery-flag", "athlete:S01", "severity:watch"}

    httpserver.clear_log()
    second = publish(httpserver, capsys, store_url)
    requests = validate_log(httpserver, grafana_openapi)
    assert writes(requests) == [], "a second publish must not write anything"
    assert all(set(counts) == {"unchanged"} for kind, counts in second.items() if isinstance(counts, dict))
    assert len(fake.annotations) == 2 and len(fake.rules) == 1 and len(fake.folders) == 2


def test_publish_updates_what_changed_in_place(httpserver, fake, grafana_openapi, capsys, store_url):
    publish(httpserver, capsys, store_url)
    fake.dashboards["recovery-squad"]["dashboard"]["title"] = "edited in the UI"
    fake.rules[alerting.RULE_UID]["noDataState"] = "Alerting"
    httpserver.clear_log()
    report = publish(httpserver, capsys, store_url)
    requests = validate_log(httpserver, grafana_openapi)
    assert report["dashboards"] == {"updated": 1, "unchanged": len(catalog.BUILDERS) - 1}
    assert report["alert rules"] == {"updated": 1}
    assert "POST /api/dashboards/db" in writes(requests)
    assert f"PUT /api/v1/provisioning/alert-rules/{alerting.RULE_UID}" in writes(requests)
    assert fake.rules[alerting.RULE_UID]["noDataState"] == "OK"
    assert fake.dashboards["recovery-squad"]["dashboard"]["title"] == "Squad overview"
    assert len(fake.dashboards) == len(catalog.BUILDERS)


def test_a_longer_flag_episode_patches_its_annotation(httpserver, fake, grafana_openapi, capsys, tmp_path):
    path = tmp_path / "episode.sqlite"
    store = SQLiteStore(path)
    times = np.array([_day(2), _day(1)], np.int64)
    since = dt.datetime.fromtimestamp(int(times[0]) / 1000, dt.UTC).date().isoformat()
    tags = {"athlete": "S03", "family": "asymmetry", "signal": "asymmetry_gct", "severity": "watch"}

    def fields(n: int) -> dict:
        def text(value: str) -> np.ndarray:
            return np.array([value] * n, dtype=object)

        return {
            "value": np.full(n, 12.0),
            "threshold": np.full(n, 10.0),
            "window": text("7d"),
            "since": text(since),
            "reason": text(f"{n} days"),
        }

    store.write([PointBatch("flag", tags, times, fields(2))])
    publish(httpserver, capsys, f"sqlite:///{path}")
    store.write([PointBatch("flag", tags, np.array([_day(0)], np.int64), fields(1))])
    store.close()
    httpserver.clear_log()
    report = publish(httpserver, capsys, f"sqlite:///{path}")
    requests = validate_log(httpserver, grafana_openapi)
    assert report["annotations"] == {"updated": 1}
    assert [w for w in writes(requests) if "annotations" in w] == ["PATCH /api/annotations/1"]
    assert fake.annotations[1]["timeEnd"] == _day(0) + DAY_MS and fake.annotations[1]["time"] == _day(2)


def test_the_spec_rejects_what_strict_grafana_rejects(grafana_openapi):
    """The validator has teeth: a missing `text`, a null `panelId` or a missing token fail validation."""

    def request(body: dict, headers: dict | None = None) -> Request:
        builder = EnvironBuilder(
            path="/api/annotations", base_url="http://127.0.0.1:3000", method="POST", json=body,
            headers={"Authorization": f"Bearer {TOKEN}"} if headers is None else headers,
        )  # fmt: skip
        return Request(builder.get_environ())

    grafana_openapi.validate_request(WerkzeugOpenAPIRequest(request({"text": "ok", "time": 1})))
    for bad in (request({"time": 1}), request({"text": "x", "panelId": None}), request({"text": "x"}, headers={})):
        with pytest.raises(Exception):  # noqa: B017 - openapi-core raises several validation error types
            grafana_openapi.validate_request(WerkzeugOpenAPIRequest(bad))


def _cli_error(capsys, *args: str) -> str:
    assert main(["dashboards", "publish", "--no-annotations", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and TOKEN not in err, err
    return err


def test_wrong_token_is_one_line_without_the_token(httpserver, fake, capsys, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN + "-wrong")
    err = _cli_error(capsys, "--grafana-url", httpserver.url_for("/"))
    assert "unauthorized" in err and "GRAFANA_TOKEN" in err and "wrong" not in err


def test_unreachable_grafana_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    started = time.monotonic()
    err = _cli_error(capsys, "--grafana-url", f"http://127.0.0.1:{free_port()}")
    assert "connection refused" in err and time.monotonic() - started < 10


def test_a_url_that_is_not_grafana_is_one_line(httpserver, capsys, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    httpserver.expect_request(re.compile(".*")).respond_with_response(
        Response("<html>router login</html>", content_type="text/html")
    )
    err = _cli_error(capsys, "--grafana-url", httpserver.url_for("/"))
    assert "is this Grafana's URL?" in err


def test_slow_grafana_times_out(httpserver, capsys, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)

    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("{}", content_type="application/json")

    httpserver.expect_request(re.compile(".*")).respond_with_handler(slow)
    err = _cli_error(capsys, "--grafana-url", httpserver.url_for("/"), "--timeout", "0.2")
    assert "timed out" in err


def test_missing_token_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    monkeypatch.delenv("GRAFANA_TOKEN_FILE", raising=False)
    err = _cli_error(capsys, "--grafana-url", "http://127.0.0.1:3000")
    assert "GRAFANA_TOKEN" in err

"""`recovery-monitor serve`: health check, Grafana annotations valid against Grafana's spec, clean shutdown."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import test_grafana_contract as contract
from influxd import free_port
from werkzeug import Request, Response

from ingest.store import open_store
from monitor.alerts import EpisodeState
from monitor.cli.main import main
from monitor.service.app import build_app
from monitor.service.episodes import stored_alert
from monitor.service.monitor import Monitor, ServeConfig
from monitor.service.server import WebServer, parse_listen

REPO = Path(__file__).resolve().parents[1]
TOKEN = contract.TOKEN
fake = contract.fake  # the stateful stub Grafana on pytest-httpserver, GRAFANA_TOKEN set
grafana_openapi = contract.grafana_openapi  # Grafana's OpenAPI spec, loaded once per session
HOOK = "/hooks/secret-hook-path"


@pytest.fixture(scope="module")
def squad(tmp_path_factory) -> tuple[str, dict]:
    """Three demo athletes in an embedded store: (store URL, the demo's JSON report)."""
    path = tmp_path_factory.mktemp("serve") / "squad.sqlite"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo", "--store", f"sqlite:///{path}", "--athletes", "3", "--json"]) == 0
    return f"sqlite:///{path}", json.loads(out.getvalue())


@pytest.fixture
def squad_store(squad) -> str:
    return squad[0]


def recommended(demo: dict) -> list[str]:
    return [a["athlete"] for a in demo["athletes"] if a["recommend_idn_visit"]]


def get_health(port: int, path: str = "/healthz") -> tuple[int, dict]:
    response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5.0)
    assert response.headers["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_health_is_200_after_a_good_run_and_503_when_the_store_is_unreachable(tmp_path, squad, squad_store):
    state = EpisodeState(tmp_path / "state.json")
    good = Monitor(ServeConfig(store_url=squad_store), state)
    server = WebServer("127.0.0.1", 0, build_app(good.health)).start()
    try:
        assert get_health(server.port)[0] == 503, "no run yet: not ready"
        report = good.tick()
        assert report is not None and report.ok and report.reason == "start"
        status, body = get_health(server.port)
        assert status == 200 and body["status"] == "ok" and body["store"] == squad_store
        assert body["athletes"] == len(squad[1]["athletes"]) and body["last_run"]["ok"] and body["last_run"]["as_of"]
        assert body["last_run"]["recommended"] == len(recommended(squad[1])) and body["alerts"]["webhook"] is None
        assert good.tick() is None, "no new data, same day: nothing to do"
        assert get_health(server.port, "/health")[0] == 200
        assert get_health(server.port, "/metrics")[0] == 404
    finally:
        server.close()
        state.close()

    unreachable = f"influxdb+http://127.0.0.1:{free_port()}/recovery"
    state = EpisodeState(tmp_path / "state.json")
    bad = Monitor(ServeConfig(store_url=unreachable, store_timeout_s=0.3), state)
    server = WebServer("127.0.0.1", 0, build_app(bad.health)).start()
    try:
        report = bad.tick()
        assert report is not None and not report.ok and "refused" in report.error
        status, body = get_health(server.port)
        assert status == 503 and body["status"] == "failing" and "refused" in body["last_run"]["error"]
    finally:
        server.close()
        state.close()


def test_once_exits_1_when_the_store_is_unreachable(tmp_path, capsys):
    store = f"influxdb+http://127.0.0.1:{free_port()}/recovery"
    code = main(["serve", "--once", "--store", store, "--state", str(tmp_path / "s.json"), "--store-timeout", "0.3"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False and "InfluxDB" in report["error"]


def test_listen_addresses():
    assert parse_listen("0.0.0.0:8787") == ("0.0.0.0", 8787)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_listen("8787")


def test_grafana_annotations_are_spec_valid_and_secrets_stay_out_of_logs(
    httpserver, fake, grafana_openapi, capsys, caplog, tmp_path, squad, squad_store
):
    from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

    alerts: list[dict] = []

    def receiver(request: Request) -> Response:
        alerts.append(json.loads(request.get_data()))
        return Response("{}", status=200, content_type="application/json")

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(receiver)
    grafana = httpserver.url_for("/").rstrip("/")
    args = ["-v", "serve", "--once", "--store", squad_store, "--state", str(tmp_path / "state.json")]
    args += ["--grafana-url", grafana, "--webhook-url", httpserver.url_for(HOOK)]
    caplog.set_level(logging.DEBUG)
    for run in (1, 2):
        assert main(args) == 0
        report = json.loads(capsys.readouterr().out)
        api = [(request, response) for request, response in httpserver.log if request.path.startswith("/api/")]
        assert api, "serve talked to Grafana"
        for request, response in api:  # every request serve sent to Grafana is valid against Grafana's spec
            grafana_openapi.validate_request(WerkzeugOpenAPIRequest(request))
            grafana_openapi.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
            assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        writes = [f"{r.method} {r.path}" for r, _ in api if r.method != "GET"]
        if run == 1:
            assert report["annotations"].get("created", 0) >= 1 and "POST /api/annotations" in writes
        else:
            assert writes == [] and set(report["annotations"]) == {"unchanged"}, "nothing new: nothing written"
        httpserver.clear_log()
    tags = {tag for annotation in fake.annotations.values() for tag in annotation["tags"]}
    flags = [(a["athlete"], f["signal"]) for a in squad[1]["athletes"] for f in a["flags"]]
    assert {"recovery-flag", "severity:act"} | {f"athlete:{a}" for a, _ in flags} | {
        f"signal:{s}" for _, s in flags
    } <= tags
    first = alerts[0]
    assert sorted(a["athlete"] for a in alerts) == sorted(recommended(squad[1]))
    store = open_store(squad_store)
    try:
        assert stored_alert(store, first["athlete"]).episode_id == first["episode_id"], "recorded in the store too"
    finally:
        store.close()
    assert first["dashboard_url"].startswith(f"{grafana}/d/recovery-athlete/")
    ours = [r.getMessage() for r in caplog.records if r.name != "werkzeug"]  # not the stub servers' access log
    logged = "\n".join(ours) + capsys.readouterr().err
    assert (
        f"alert {first['episode_id']} delivered" in logged and TOKEN not in logged and "secret-hook-path" not in logged
    )


def test_serve_answers_health_checks_and_stops_on_sigterm(tmp_path):
    port, store = free_port(), f"sqlite:///{tmp_path / 'empty.sqlite'}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("ALERT_WEBHOOK_URL", None)
    command = [sys.executable, "-m", "monitor", "-v", "serve", "--store", store, "--listen", f"127.0.0.1:{port}"]
    command += ["--interval", "0.2", "--state", str(tmp_path / "state.json")]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, status = time.monotonic() + 30, None
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                status, body = get_health(port)
                if status == 200:
                    break
            time.sleep(0.1)
        assert status == 200 and body["athletes"] == 0, process.stderr.read() if process.poll() is not None else ""
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "SIGTERM: stopping" in err and "Traceback" not in err


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_http_server_answers_get_and_head_uncached_and_frees_its_port_on_close(host):
    body = {"status": "ok", "athletes": 2}
    server = WebServer(host, 0, build_app(lambda: (200, body))).start()
    try:
        assert server._socket.proto == socket.IPPROTO_TCP, "asyncio sets TCP_NODELAY only on such sockets"
        assert server.port > 0 and server.url == (
            f"http://[::1]:{server.port}" if ":" in host else f"http://{host}:{server.port}"
        )
        get = httpx.get(f"{server.url}/healthz", timeout=5.0)
        head = httpx.head(f"{server.url}/healthz", timeout=5.0)
        assert get.status_code == head.status_code == 200 and get.json() == body
        assert head.content == b"" and head.headers["Content-Length"] == get.headers["Content-Length"]
        for response in (get, head):
            assert response.headers["Cache-Control"] == "no-store"
            assert response.headers["Content-Type"] == "application/json"
        with pytest.raises(OSError, match=rf"--listen {host}:{server.port}: .*in use"):
            WebServer(host, server.port, build_app(lambda: (200, body)))
    finally:
        server.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/healthz", timeout=2.0)
    WebServer(host, server.port, build_app(lambda: (503, body))).close()  # the port is free again


def test_http_server_answers_503_and_json_404_and_405():
    server = WebServer("127.0.0.1", 0, build_app(lambda: (503, {"status": "starting"}))).start()
    try:
        assert get_health(server.port) == (503, {"status": "starting"})
        assert get_health(server.port, "/nope") == (404, {"status": "not found", "paths": ["/health", "/healthz"]})
        response = httpx.post(f"{server.url}/healthz", timeout=5.0)
        assert response.status_code == 405 and response.json()["status"] == "Method Not Allowed"
        assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD"}
    finally:
        server.close()

"""The clinic API inside `recovery-monitor serve`: the token from CLINIC_API_TOKEN or CLINIC_API_TOKEN_FILE (kept
hashed, never logged), one log line when the API is off, one clear line and exit 2 for an unusable token."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_client import ATHLETE, AUTH, TOKEN, seed
from influxd import free_port
from werkzeug import Request, Response

from ingest.store.sqlite import SQLiteStore
from ingest.visits import read_visits
from monitor.cli.main import main
from monitor.service.api.auth import MIN_TOKEN_CHARS, BearerAuth, TokenConfigError, token_digest

REPO = Path(__file__).resolve().parents[1]
VISIT = {"athlete": ATHLETE, "at": "2025-05-01T09:30:00+02:00", "regions": ["calf_l"]}


def test_the_token_comes_from_the_variable_or_the_file_and_only_its_digest_is_kept(tmp_path):
    digest = hashlib.sha256(TOKEN.encode()).digest()
    secret = tmp_path / "token"
    secret.write_text(f"  {TOKEN}\n")
    assert token_digest({"CLINIC_API_TOKEN": f"{TOKEN}\n"}) == digest
    assert token_digest({"CLINIC_API_TOKEN_FILE": str(secret)}) == digest
    assert token_digest({"CLINIC_API_TOKEN": TOKEN, "CLINIC_API_TOKEN_FILE": "/nonexistent"}) == digest, "variable wins"
    assert token_digest({}) is None and token_digest({"CLINIC_API_TOKEN": "  "}) is None
    assert token_digest({"CLINIC_API_TOKEN": "x" * MIN_TOKEN_CHARS}) is not None, "the minimum length is allowed"
    for env, problem in [
        ({"CLINIC_API_TOKEN": "x" * (MIN_TOKEN_CHARS - 1)}, "at least 16 characters"),
        ({"CLINIC_API_TOKEN": "0123456789 abcdef"}, "without spaces"),
        (
            {"CLINIC_API_TOKEN_FILE": str(tmp_path / "missing")},
            f"CLINIC_API_TOKEN_FILE {tmp_path / 'missing'}: No such file",
        ),
        ({"CLINIC_API_TOKEN_FILE": str(tmp_path / "empty")}, "the file is empty"),
    ]:
        (tmp_path / "empty").write_text("\n")
        with pytest.raises(TokenConfigError, match=problem) as raised:
            token_digest(env)
        assert "x" * (MIN_TOKEN_CHARS - 1) not in str(raised.value) and "abcdef" not in str(raised.value)
    auth = BearerAuth(digest)
    assert auth.check(f"Bearer {TOKEN}") and auth.check(f"BEARER  {TOKEN} ")
    assert not any(auth.check(h) for h in (None, "", TOKEN, f"Bearer {TOKEN} x", f"Basic {TOKEN}", "Bearer"))
    assert TOKEN not in repr(vars(auth))
    with pytest.raises(ValueError, match="digest"):
        BearerAuth(TOKEN.encode())


def test_an_unusable_token_stops_serve_with_one_line_before_anything_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLINIC_API_TOKEN", "short-token")
    store, state = tmp_path / "store.sqlite", tmp_path / "state.json"
    code = main(["serve", "--store", f"sqlite:///{store}", "--state", str(state), "--listen", "127.0.0.1:0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "short-token" not in err
    assert err.startswith("recovery-monitor: error: CLINIC_API_TOKEN: the clinic token must be at least 16 characters")
    assert list(tmp_path.iterdir()) == []


def _serve(
    tmp_path: Path, env: dict[str, str], *extra: str, interval: str = "0.2"
) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    command = [sys.executable, "-m", "monitor", "-v", "serve", "--store", f"sqlite:///{tmp_path / 'store.sqlite'}"]
    command += ["--listen", f"127.0.0.1:{port}", "--interval", interval, "--state", str(tmp_path / "state.json")]
    command += extra
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5.0).status_code == 200:
                return process, port
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"serve did not come up: {process.communicate()[1]}")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0 and "Traceback" not in err, err
    return err


@pytest.fixture
def clean_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("ALERT_WEBHOOK_URL", "CLINIC_API_TOKEN", "CLINIC_API_TOKEN_FILE", "GRAFANA_URL"):
        env.pop(name, None)
    return env


def test_serve_answers_the_api_with_the_token_file_and_never_logs_the_token(tmp_path, clean_env):
    store = SQLiteStore(tmp_path / "store.sqlite")
    seed(store)
    store.close()
    secret = tmp_path / "clinic-token"
    secret.write_text(TOKEN + "\n")
    process, port = _serve(tmp_path, {**clean_env, "CLINIC_API_TOKEN_FILE": str(secret)})
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        wrong = httpx.post(f"{base}/visits", json=VISIT, headers={"Authorization": "Bearer guessed-token-123456"})
        created = httpx.post(f"{base}/visits", json=VISIT, headers=AUTH)
        listed = httpx.get(f"{base}/athletes/{ATHLETE}/visits", headers=AUTH)
    finally:
        err = _stop(process)
    assert wrong.status_code == 401 and created.status_code == 201
    assert listed.json()["visits"] == [created.json()]
    assert "clinic API on /api/v1" in err and TOKEN not in err and "guessed-token" not in err
    store = SQLiteStore(tmp_path / "store.sqlite")
    try:
        assert [v.visit_id for v in read_visits(store)] == [created.json()["visit_id"]]
    finally:
        store.close()


def test_serve_without_a_token_logs_one_line_and_the_api_answers_503(tmp_path, clean_env):
    process, port = _serve(tmp_path, clean_env)
    try:
        response = httpx.post(f"http://127.0.0.1:{port}/api/v1/visits", json=VISIT, headers=AUTH)
    finally:
        err = _stop(process)
    assert response.status_code == 503 and response.json()["error"] == "api_off"
    off = [line for line in err.splitlines() if "clinic API" in line]
    assert off == [
        "WARNING recovery-monitor.serve: clinic API off: set CLINIC_API_TOKEN or CLINIC_API_TOKEN_FILE to record "
        "visits over HTTP"
    ]


def test_a_visit_posted_to_the_api_wakes_serve_which_sends_the_after_care_reminder_at_once(
    tmp_path, clean_env, httpserver
):
    """serve polls every 10 min here; the API's write wakes its loop, so the reminder goes out within seconds."""
    reminders: list[dict] = []

    def handle(request: Request) -> Response:
        body = json.loads(request.get_data())
        if body.get("event") == "post_visit_care":
            reminders.append(body)
        return Response("{}", status=200, content_type="application/json")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handle)
    store = SQLiteStore(tmp_path / "store.sqlite")
    seed(store)
    store.close()
    env = {**clean_env, "CLINIC_API_TOKEN": TOKEN}
    process, port = _serve(tmp_path, env, "--webhook-url", httpserver.url_for("/hook"), interval="600")
    try:
        time.sleep(1.0)  # the first cycle (at start) has run or is running
        at = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
        visit = {"athlete": ATHLETE, "at": at.isoformat(), "regions": ["calf_l"], "therapist": "T1"}
        created = httpx.post(f"http://127.0.0.1:{port}/api/v1/visits", json=visit, headers=AUTH, timeout=10.0)
        deadline = time.monotonic() + 20
        while not reminders and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        _stop(process)
    assert created.status_code == 201
    assert [(r["athlete"], r["visit_id"]) for r in reminders] == [(ATHLETE, created.json()["visit_id"])]

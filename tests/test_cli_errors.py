"""Bad input gets one line on stderr and exit code 2, never a traceback; nothing already accepted is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from influxd import free_port

REPO = Path(__file__).resolve().parents[1]
QUICK_DEMO = ["demo", "--athletes", "2", "--days", "35", "--json"]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("INFLUX_", "RECOVERY_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def test_unknown_store_scheme():
    result = run_cli(*QUICK_DEMO, "--store", "postgres://db.example/recovery")
    assert_one_line_error(result, "--store", "unknown scheme 'postgres'")


def test_unreachable_influxdb():
    url = f"influxdb+http://127.0.0.1:{free_port()}/recovery"
    result = run_cli(*QUICK_DEMO, "--store", url)
    assert_one_line_error(result, "InfluxDB at http://127.0.0.1:", "connection refused")


@pytest.mark.influx
def test_rejected_credentials_are_a_401_without_the_secret(auth_influxd):
    url = f"influxdb+{auth_influxd.http_url}/recovery"
    result = run_cli(*QUICK_DEMO, "--store", url, env={"INFLUX_USERNAME": "admin", "INFLUX_TOKEN": "wrong-secret"})
    line = assert_one_line_error(result, "401")
    assert "wrong-secret" not in result.stderr + result.stdout
    assert "authorization failed" in line


@pytest.mark.influx
def test_a_401_for_a_token_on_a_server_with_users(auth_influxd):
    result = run_cli(
        *QUICK_DEMO, "--store", f"influxdb+{auth_influxd.http_url}/recovery", env={"INFLUX_TOKEN": "t0k3n"}
    )
    assert_one_line_error(result, "401")
    assert "t0k3n" not in result.stderr


@pytest.mark.influx
def test_the_right_user_and_password_work(auth_influxd):
    url = f"influxdb+{auth_influxd.http_url}/recovery"
    result = run_cli(*QUICK_DEMO, "--store", url, env={"INFLUX_USERNAME": "admin", "INFLUX_TOKEN": "pw"})
    assert result.returncode == 0, result.stderr


def test_bad_arguments_exit_2():
    result = run_cli("demo", "--days", "3")
    assert_one_line_error(result, "--days")

"""Secrets from the environment (ingest.secrets): the variable, else the file named by <NAME>_FILE; every caller
(InfluxDB, Grafana, the clinic API) reports a bad file in one line that names the variable and never the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.secrets import SecretError, secret_from_env
from ingest.store import open_store
from ingest.store.errors import StoreConfigError
from monitor.cli.common import CliError
from monitor.cli.dashboards import grafana_token
from monitor.service.api.auth import TokenConfigError, token_digest

SECRET = "s3cret-token-0123456789"


def test_the_variable_wins_then_the_file_then_nothing(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(f"  {SECRET}\n")
    assert secret_from_env("X", {"X": f" {SECRET} ", "X_FILE": "/nonexistent"}) == (SECRET, "X")
    assert secret_from_env("X", {"X": "   ", "X_FILE": str(path)}) == (SECRET, f"X_FILE {path}")
    assert secret_from_env("X", {}) == (None, "X")
    assert secret_from_env("X", {"X": " "}) == (None, "X")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "No such file or directory"),
        (b"", "the file is empty"),
        (b" \n", "the file is empty"),
        (b"\xff\xfe\x00", "utf-8"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_variable_and_file(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SecretError) as raised:
        secret_from_env("X", {"X_FILE": str(path)})
    assert str(raised.value).startswith(f"X_FILE {path}: ") and problem in str(raised.value)
    assert "\n" not in str(raised.value)
    influx = {"INFLUX_TOKEN_FILE": str(path)}
    with pytest.raises(StoreConfigError, match=f"INFLUX_TOKEN_FILE {path}: .*{problem}"):
        open_store("influxdb+http://127.0.0.1:9/db", influx)
    with pytest.raises(CliError, match=f"GRAFANA_TOKEN_FILE {path}: .*{problem}"):
        grafana_token({"GRAFANA_TOKEN_FILE": str(path)})
    with pytest.raises(TokenConfigError, match=f"CLINIC_API_TOKEN_FILE {path}: .*{problem}"):
        token_digest({"CLINIC_API_TOKEN_FILE": str(path)})


def test_the_secret_is_never_in_an_error(tmp_path: Path) -> None:
    with pytest.raises(TokenConfigError) as raised:
        token_digest({"CLINIC_API_TOKEN": "short secret"})  # too short and with a space
    assert "short secret" not in str(raised.value)

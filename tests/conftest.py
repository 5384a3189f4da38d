"""Shared pytest fixtures: a real InfluxDB 1.x server per session and a fresh InfluxStore per test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from influx_helpers import unique
from influxd import InfluxServer, find_influxd
from shared_data import skip_or_fail

from ingest.store.base import Store
from ingest.store.influx import InfluxStore
from ingest.store.influxql import quote_ident
from ingest.store.sqlite import SQLiteStore


def require_influxd() -> str:
    """The influxd binary; otherwise fail under CI=true, skip elsewhere."""
    binary = find_influxd()
    if binary is None:
        skip_or_fail(
            "influxd not installed: apt-get install influxdb (Debian's InfluxDB 1.6.7) to run the InfluxDB tests",
            ci_reason="influxd not found: .ci/run must apt-get install influxdb",
        )
    return binary


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """A running influxd on a free loopback port: `.http_url`, `.stop()`, `.start()`."""
    server = InfluxServer(require_influxd(), tmp_path_factory.mktemp("influxd"))
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def influx_store(influxd: InfluxServer) -> Iterator[InfluxStore]:
    """An InfluxStore on a database of its own (created by connect(), dropped afterwards); quick retries."""
    database = unique("test")
    store = InfluxStore(influxd.http_url, database, backoff_base_s=0.05, backoff_cap_s=1.0, max_total_s=30.0)
    store.connect()
    try:
        yield store
    finally:
        store.close()
        if influxd.running:
            with contextlib.suppress(Exception):  # cleanup must not mask the test's own outcome
                influxd.query(f"DROP DATABASE {quote_ident(database)}")


@pytest.fixture(scope="session")
def auth_influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """An influxd of its own with `auth-enabled = true` and an admin user `admin`/`pw`."""
    server = InfluxServer(require_influxd(), tmp_path_factory.mktemp("influxd-auth"), auth_enabled=True)
    server.start()
    try:
        server.query("CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES")
        yield server
    finally:
        server.close()


@pytest.fixture(params=["sqlite", "influx"])
def each_store(request, tmp_path) -> Iterator[Store]:
    """An empty store of each backend: a SQLite file in tmp_path, then a database of its own on the real influxd."""
    if request.param == "influx":
        request.applymarker(pytest.mark.influx)
        yield request.getfixturevalue("influx_store")
        return
    store = SQLiteStore(tmp_path / "store.sqlite", url=f"sqlite:///{tmp_path}/store.sqlite")
    yield store
    store.close()

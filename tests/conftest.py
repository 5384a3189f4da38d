"""Shared pytest fixtures: a real InfluxDB 1.x server per session and a fresh InfluxStore per test."""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections.abc import Iterator

import pytest
from influxd import InfluxServer, find_influxd

from ingest.store.influx import InfluxStore
from ingest.store.influxql import quote_ident

_DATABASE_NUMBERS = itertools.count(1)


def require_influxd() -> str:
    """The influxd binary; otherwise fail under CI=true, skip elsewhere."""
    binary = find_influxd()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("influxd not found: .ci/run must apt-get install influxdb", pytrace=False)
        pytest.skip(
            "influxd not installed: apt-get install influxdb (Debian's InfluxDB 1.6.7) to run the InfluxDB tests"
        )
    return binary


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """A running influxd on a free loopback port: `.http_url`, `.stop()`, `.start()`, `.restart()`."""
    server = InfluxServer(require_influxd(), tmp_path_factory.mktemp("influxd"))
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def influx_store(influxd: InfluxServer) -> Iterator[InfluxStore]:
    """An InfluxStore on a database of its own (created by connect(), dropped afterwards); quick retries."""
    database = f"test_{next(_DATABASE_NUMBERS)}_{uuid.uuid4().hex[:8]}"
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
def auth_influxd(influxd: InfluxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """A second influxd with `auth-enabled = true` and an admin user `admin`/`pw`."""
    server = InfluxServer(influxd.binary, tmp_path_factory.mktemp("influxd-auth"), auth_enabled=True)
    server.start()
    server.query("CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES")
    yield server
    server.close()

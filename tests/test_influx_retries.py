"""InfluxStore behind a fault-injecting loopback proxy: batching, retries, timeouts and errors (real influxd)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from influx_helpers import T0, TOKEN, Fault, FaultProxy, hr_batch, proxied_store
from influxd import InfluxServer, free_port

from ingest.store.base import PointBatch
from ingest.store.errors import StoreAuthError, StoreRequestError, StoreUnavailable
from ingest.store.influx import InfluxStore

pytestmark = pytest.mark.influx


@pytest.fixture
def proxy(influxd: InfluxServer) -> Iterator[FaultProxy]:
    server = FaultProxy(influxd.http_url)
    yield server
    server.close()


def test_batches_are_split_at_5000_lines_and_gzipped(proxy: FaultProxy) -> None:
    store = proxied_store(proxy)
    batches = [hr_batch("a", 4000), hr_batch("a", 7000, T0 + 4_000_000), hr_batch("b", 1001)]
    assert store.write(batches) == 12_001
    writes = proxy.writes()
    assert [seen.body.count(b"\n") for seen in writes] == [5000, 5000, 2001]
    assert all(seen.headers["Content-Encoding"] == "gzip" and "precision=ms" in seen.path for seen in writes)
    assert all(seen.headers["Authorization"] == f"Token {TOKEN}" for seen in proxy.seen)
    assert store.count("hr") == 12_001 and store.count("hr", "b") == 1001


def test_503s_are_retried_without_duplicates(proxy: FaultProxy, caplog: pytest.LogCaptureFixture) -> None:
    store = proxied_store(proxy)
    proxy.faults = [Fault(503, b'{"error":"overloaded"}'), Fault(500, b"boom"), Fault(503)]
    with caplog.at_level("INFO", logger="ingest.store.influx"):
        assert store.write(hr_batch("a", 300)) == 300
    assert [seen.outcome for seen in proxy.writes()] == ["503", "500", "503", "forwarded"]
    assert store.count("hr") == 300
    assert "HTTP 503: overloaded; retry 1" in caplog.text and TOKEN not in caplog.text


def test_a_413_splits_the_body_in_halves(proxy: FaultProxy) -> None:
    store = proxied_store(proxy)
    proxy.faults = [Fault(413, b'{"error":"Request Entity Too Large"}')]
    assert store.write(hr_batch("a", 5000)) == 5000
    assert [seen.body.count(b"\n") for seen in proxy.writes()] == [5000, 2500, 2500]
    assert store.count("hr") == 5000


def test_429_retry_after_is_honoured(proxy: FaultProxy) -> None:
    store = proxied_store(proxy)
    proxy.faults = [Fault(429, b'{"error":"slow down"}', {"Retry-After": "1"})]
    started = time.monotonic()
    store.write(hr_batch("a", 10))
    assert time.monotonic() - started >= 1.0
    assert len(proxy.writes()) == 2 and store.count("hr") == 10


def test_a_hang_longer_than_the_timeout_is_retried(proxy: FaultProxy) -> None:
    store = proxied_store(proxy, timeout_s=0.5)
    proxy.faults = [Fault(hang_s=5.0)]
    started = time.monotonic()
    store.write(hr_batch("a", 10))
    assert 0.5 <= time.monotonic() - started < 4.0
    assert [seen.outcome for seen in proxy.writes()] == ["hang 5.0", "forwarded"] and store.count("hr") == 10


def test_exhausted_retries_raise_store_unavailable(proxy: FaultProxy) -> None:
    store = proxied_store(proxy, max_retries=2)
    proxy.faults = [Fault(503, b'{"error":"still starting"}')] * 5
    with pytest.raises(StoreUnavailable) as caught:
        store.write(hr_batch("a", 10))
    message = str(caught.value)
    assert "HTTP 503: still starting" in message and "gave up after 3 attempts" in message and "\n" not in message
    assert len(proxy.writes()) == 3


def test_a_retry_after_beyond_the_time_budget_gives_up_at_once(proxy: FaultProxy) -> None:
    store = proxied_store(proxy, max_total_s=5.0)
    proxy.faults = [Fault(503, headers={"Retry-After": "60"})]
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="would exceed 5 s"):
        store.write(hr_batch("a", 10))
    assert time.monotonic() - started < 2.0


def test_a_field_type_conflict_is_not_retried(proxy: FaultProxy) -> None:
    store = proxied_store(proxy)
    store.write(hr_batch("a", 5))
    clash = PointBatch("hr", {"athlete": "a"}, np.array([T0 + 10]), {"hr": np.array(["high"], dtype=object)})
    with pytest.raises(StoreRequestError) as caught:
        store.write(clash)
    assert caught.value.status == 400 and "field type conflict" in str(caught.value)
    assert len(proxy.writes()) == 2


def test_a_404_is_not_retried_and_keeps_the_server_message(proxy: FaultProxy) -> None:
    store = proxied_store(proxy)
    proxy.faults = [Fault(404, b'{"error":"database not found: \\"x\\""}')]
    with pytest.raises(StoreRequestError, match='database not found: "x"') as caught:
        store.write(hr_batch("a", 5))
    assert caught.value.status == 404 and len(proxy.writes()) == 1


def test_an_unreachable_server_is_reported_in_one_line() -> None:
    port = free_port()
    store = InfluxStore(f"http://127.0.0.1:{port}", "db", token=TOKEN, max_retries=2, backoff_base_s=0.01)
    with pytest.raises(StoreUnavailable) as caught:
        store.write(hr_batch("a", 1))
    message = str(caught.value)
    assert message.startswith(f"InfluxDB at http://127.0.0.1:{port}/ping: connection refused; gave up after 3 attempts")
    assert "\n" not in message and TOKEN not in message


def test_a_401_raises_store_auth_error_without_the_token(proxy: FaultProxy) -> None:
    store = proxied_store(proxy)
    proxy.faults = [Fault(401, b'{"error":"authorization failed"}')]
    with pytest.raises(StoreAuthError, match="authorization failed") as caught:
        store.write(hr_batch("a", 5))
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value) and TOKEN not in repr(store)
    assert len(proxy.writes()) == 1


def test_real_authentication_failures(auth_influxd: InfluxServer) -> None:
    with pytest.raises(StoreAuthError, match="HTTP 401") as caught:
        InfluxStore(auth_influxd.http_url, "db", token=TOKEN).connect()
    assert TOKEN not in str(caught.value)
    wrong = auth_influxd.http_url.replace("http://", "http://admin:wrong-pw@")
    with pytest.raises(StoreAuthError, match="authorization failed") as caught:
        InfluxStore(wrong, "db").connect()
    assert "wrong-pw" not in str(caught.value)
    right = InfluxStore(auth_influxd.http_url.replace("http://", "http://admin:pw@"), "db")
    assert right.write(hr_batch("a", 10)) == 10 and right.count("hr") == 10
    assert "pw" not in right.url


def test_writes_survive_a_server_restart(influx_store: InfluxStore, influxd: InfluxServer) -> None:
    influx_store.write(hr_batch("a", 10))
    influx_store.max_retries, influx_store.backoff_base_s, influx_store.backoff_cap_s = 40, 0.1, 0.3
    influxd.stop()
    restart = threading.Timer(1.0, influxd.start)
    restart.start()
    try:
        assert influx_store.write(hr_batch("a", 20, T0 + 60_000)) == 20
    finally:
        restart.join()
    assert influx_store.count("hr") == 30

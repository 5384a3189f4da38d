"""InfluxStore against a real influxd (Debian's 1.6.7), directly and behind a fault-injecting loopback proxy."""

from __future__ import annotations

import gzip
import itertools
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from influxd import InfluxServer, free_port
from store_contract import assert_reads_everyone_with_tag_columns

from ingest.store.base import PointBatch
from ingest.store.errors import StoreAuthError, StoreConfigError, StoreRequestError, StoreUnavailable
from ingest.store.influx import InfluxStore
from ingest.store.influxql import quote_ident, quote_literal, time_range_clause

pytestmark = pytest.mark.influx

T0 = 1_700_000_000_000  # 2023-11-14, ms
TOKEN = "s3cret-token-value"


def hr_batch(athlete: str, n: int, start_ms: int = T0, step_ms: int = 1000, **tags: str) -> PointBatch:
    """n HR/RR samples of one athlete: `hr` integer bpm, `rr` float ms at 1/1024 s resolution."""
    k = np.arange(n)
    rr = np.round((800 + 40 * np.sin(k / 7)) * 1.024) / 1.024
    fields = {"hr": np.round(60_000 / rr).astype(np.int64), "rr": rr}
    return PointBatch("hr", {"athlete": athlete, **tags}, start_ms + k * step_ms, fields)


# -- fault-injecting proxy ---------------------------------------------------------------------------------------


@dataclass
class Fault:
    """What the proxy answers instead of forwarding: a status (with headers/body), or silence for `hang_s`."""

    status: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes  # decompressed
    outcome: str


class FaultProxy:
    """Loopback HTTP proxy to influxd; the first queued faults answer requests whose path starts with `target`."""

    def __init__(self, upstream: str, target: str = "/write") -> None:
        self.target = target
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._upstream = httpx.Client(base_url=upstream, timeout=30.0, trust_env=False)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy._handle(self)

            do_POST = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def writes(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.path.startswith("/write")]

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        headers = dict(request.headers.items())
        plain = gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body
        with self._lock:
            fault = self.faults.pop(0) if request.path.startswith(self.target) and self.faults else None
            outcome = "forwarded" if fault is None else f"hang {fault.hang_s}" if fault.hang_s else str(fault.status)
            self.seen.append(Seen(request.command, request.path, headers, plain, outcome))
        if fault is not None and fault.hang_s:
            self._closing.wait(fault.hang_s)
            request.close_connection = True
            return
        if fault is not None:
            status, reply_headers, reply = (
                fault.status,
                {"Content-Type": "application/json", **fault.headers},
                fault.body,
            )
        else:
            keep = {
                k: v for k, v in headers.items() if k.lower() in ("content-type", "content-encoding", "authorization")
            }
            response = self._upstream.request(request.command, request.path, content=body, headers=keep)
            skip = {"content-length", "content-encoding", "transfer-encoding", "connection"}
            status, reply = response.status_code, response.content
            reply_headers = {k: v for k, v in response.headers.items() if k.lower() not in skip}
        request.send_response(status)
        for key, value in reply_headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(reply)))
        request.end_headers()
        request.wfile.write(reply)

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._upstream.close()


_NUMBERS = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}_{next(_NUMBERS)}_{time.monotonic_ns() % 10**8}"


@pytest.fixture
def proxy(influxd: InfluxServer) -> Iterator[FaultProxy]:
    server = FaultProxy(influxd.http_url)
    yield server
    server.close()


def proxied_store(proxy: FaultProxy, **options: float) -> InfluxStore:
    """A connected store that talks through the proxy, with fast retries unless told otherwise."""
    settings_ = {"backoff_base_s": 0.01, "backoff_cap_s": 0.05, "max_total_s": 20.0, **options}
    store = InfluxStore(proxy.url, unique("proxied"), token=TOKEN, **settings_)
    store.connect()
    return store


# -- pure helpers ------------------------------------------------------------------------------------------------


def test_quoting() -> None:
    assert quote_ident("hr") == '"hr"'
    assert quote_ident('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert quote_literal("it's a\\b\nc") == "'it\\'s a\\\\b\\nc'"
    assert quote_literal('say "x"') == "'say \"x\"'"
    assert time_range_clause(None, None) == ""
    assert time_range_clause(1000, None) == "time >= 1000ms"
    assert time_range_clause(-5, np.int64(7)) == "time >= -5ms AND time < 7ms"
    with pytest.raises(TypeError):
        time_range_clause(1.5, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["not a url", "ftp://host:21", "http://", "http://[::1"])
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(StoreConfigError, match="InfluxDB URL must look like"):
        InfluxStore(url, "db")


def test_credentials_twice_and_empty_database_are_config_errors() -> None:
    with pytest.raises(StoreConfigError, match="not both"):
        InfluxStore("http://u:p@host:8086", "db", token=TOKEN)
    with pytest.raises(StoreConfigError, match="database"):
        InfluxStore("http://host:8086", "")


# -- against influxd ---------------------------------------------------------------------------------------------


def test_connect_creates_the_database_on_1x(influx_store: InfluxStore) -> None:
    assert influx_store.server_version.startswith("1.6")
    assert influx_store.connect() == influx_store.server_version  # CREATE DATABASE is idempotent
    (result,) = influx_store.query("SHOW DATABASES")
    assert [influx_store.database] in result["series"][0]["values"]
    assert influx_store.url.startswith("influxdb+http://127.0.0.1:") and influx_store.url.endswith(
        influx_store.database
    )


def test_write_read_count_and_list_athletes(influx_store: InfluxStore) -> None:
    n = 120
    notes = np.array([f'lap "{i}" \\ ok' for i in range(n)], dtype=object)
    extra = {"note": notes, "moving": np.arange(n) % 3 == 0}
    batch = PointBatch(
        "hr", {"athlete": "ath 1", "sensor": "strap"}, T0 + np.arange(n) * 1000, {**hr_batch("x", n).fields, **extra}
    )
    assert influx_store.write([batch, hr_batch("ath,2", 30, sensor="watch")]) == n + 30
    frame = influx_store.read("hr", "ath 1", ["hr", "rr", "note", "moving", "absent"], T0 + 10_000, T0 + 20_000)
    assert frame.time_ms.dtype == np.int64 and frame.time_ms.tolist() == list(range(T0 + 10_000, T0 + 20_000, 1000))
    assert (
        frame.columns["hr"].dtype == np.float64 and frame.columns["hr"].tolist() == batch.fields["hr"][10:20].tolist()
    )
    assert frame.columns["rr"].tolist() == batch.fields["rr"][10:20].tolist()
    assert frame.columns["note"].dtype == object and frame.columns["note"].tolist() == notes[10:20].tolist()
    assert frame.columns["moving"].tolist() == [float(i % 3 == 0) for i in range(10, 20)]
    assert np.isnan(frame.columns["absent"]).all()
    assert len(influx_store.read("hr", "ath,2", ["hr"], tags={"sensor": "watch"})) == 30
    assert len(influx_store.read("hr", "ath,2", ["hr"], tags={"sensor": "strap"})) == 0
    empty = influx_store.read("hr", "nobody", ["hr", "note"])
    assert len(empty) == 0 and empty.columns["note"].dtype == object
    assert influx_store.count("hr") == n + 30
    assert influx_store.count("hr", "ath 1") == n
    assert influx_store.count("hr", "ath 1", T0, T0 + 5000) == 5
    assert influx_store.count("nothing") == 0
    assert influx_store.list_athletes() == ["ath 1", "ath,2"]


def test_reads_everyone_with_tag_columns(influx_store: InfluxStore) -> None:
    assert_reads_everyone_with_tag_columns(influx_store)


def test_delete_athlete_removes_every_measurement_of_one_athlete(influx_store: InfluxStore) -> None:
    rmssd = PointBatch("hrv", {"athlete": "gone 'x'"}, np.array([T0]), {"rmssd": np.array([42.0])})
    influx_store.write([hr_batch("gone 'x'", 50), hr_batch("stays", 20), rmssd])
    influx_store.delete_athlete("gone 'x'")
    assert influx_store.list_athletes() == ["stays"]
    assert influx_store.count("hr") == 20 and influx_store.count("hrv") == 0


def test_rewriting_the_same_points_keeps_the_count(influx_store: InfluxStore) -> None:
    influx_store.write([hr_batch("a", 500)])
    influx_store.write([hr_batch("a", 500)])
    assert influx_store.count("hr", "a") == 500


def test_batches_are_split_at_5000_lines_and_gzipped(proxy: FaultProxy) -> None:
    store = proxied_store(proxy)
    batches = [hr_batch("a", 4000), hr_batch("a", 7000, T0 + 4_000_000), hr_batch("b", 1001)]
    assert store.write(batches) == 12_001
    writes = proxy.writes()
    assert [seen.body.count(b"\n") for seen in writes] == [5000, 5000, 2001]
    assert all(seen.headers["Content-Encoding"] == "gzip" and "precision=ms" in seen.path for seen in writes)
    assert all(seen.headers["Authorization"] == f"Token {TOKEN}" for seen in proxy.seen)
    assert store.count("hr") == 12_001 and store.count("hr", "b") == 1001


def test_large_reads_are_streamed_in_chunks(influx_store: InfluxStore) -> None:
    n = 25_000
    influx_store.write(hr_batch("a", n, step_ms=250))
    influx_store.chunk_size = 4000
    frame = influx_store.read("hr", "a", ["rr", "hr"])
    assert len(frame) == n and bool(np.all(np.diff(frame.time_ms) == 250))
    assert frame.columns["rr"].tolist() == hr_batch("a", n).fields["rr"].tolist()
    (result,) = influx_store.query('SELECT "hr" FROM "hr"')
    assert len(result["series"]) == 1 and len(result["series"][0]["values"]) == n


@pytest.mark.slow
def test_a_million_points_round_trip(influx_store: InfluxStore) -> None:
    n = 1_000_000
    started = time.perf_counter()
    assert influx_store.write(hr_batch("big", n, step_ms=100)) == n
    wrote = time.perf_counter()
    frame = influx_store.read("hr", "big", ["hr", "rr"])
    print(f"1M points: write {wrote - started:.1f} s, read {time.perf_counter() - wrote:.1f} s")
    assert len(frame) == n and frame.time_ms[-1] == T0 + (n - 1) * 100
    assert influx_store.count("hr", "big") == n


def test_strange_measurement_and_tag_names_are_quoted(influx_store: InfluxStore) -> None:
    weird = 'm "q" \\x,y=z'
    batch = PointBatch(weird, {"athlete": "it's\\me", 'k "1"': "v\\,w"}, np.array([T0]), {'f "x"': np.array([1.5])})
    influx_store.write(batch)
    frame = influx_store.read(weird, "it's\\me", ['f "x"'], tags={'k "1"': "v\\,w"})
    assert frame.columns['f "x"'].tolist() == [1.5]
    assert influx_store.count(weird, "it's\\me") == 1


def _names(special: str) -> st.SearchStrategy[str]:
    chars = st.characters(codec="utf-8", exclude_characters="\n\r\x00")
    text = st.text(alphabet=st.one_of(st.sampled_from(special), chars), min_size=1, max_size=16)
    return text.filter(lambda value: not value.endswith("\\"))


tag_text = _names(" ,=\"'\\{}#\té🏃")  # backslashes anywhere but at the end
field_key = _names(" ,=\"'\\{}#\té🏃").filter(lambda key: re.search(r'\\[,= "]', key) is None and key[0] != "\t")
measurement_text = _names(" ,=\"'\\{}\t").filter(lambda name: re.search(r'\\[,= "]', name) is None)
string_value = st.text(
    alphabet=st.one_of(st.sampled_from(" ,=\"'\\\x00"), st.characters(codec="utf-8", exclude_characters="\n\r")),
    max_size=24,
)
MIN_MS, MAX_MS = -9_223_372_036_854, 9_223_372_036_854  # InfluxDB's time range, in ms


@pytest.fixture(scope="module")
def shared_store(influxd: InfluxServer) -> Iterator[InfluxStore]:
    store = InfluxStore(influxd.http_url, unique("roundtrip"), backoff_base_s=0.05)
    store.connect()
    yield store
    store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    athlete=tag_text,
    name=measurement_text,
    tag_key=tag_text,
    tag_value=tag_text,
    field_key=field_key,
    integer=st.integers(-(2**63), 2**63 - 1),
    real=st.floats(allow_nan=False, allow_infinity=False),
    flag=st.booleans(),
    text=string_value,
    time_ms=st.one_of(st.integers(T0, T0 + 6 * 86_400_000), st.sampled_from([MIN_MS, -1, 0, MAX_MS])),
)
def test_round_trip_through_influxd(
    shared_store: InfluxStore,
    athlete: str,
    name: str,
    tag_key: str,
    tag_value: str,
    field_key: str,
    integer: int,
    real: float,
    flag: bool,
    text: str,
    time_ms: int,
) -> None:
    measurement = unique("rt") + name
    keys = {kind: kind + field_key for kind in "ifbs"}
    fields = {
        keys["i"]: np.array([integer], dtype=np.int64),
        keys["f"]: np.array([real]),
        keys["b"]: np.array([flag]),
        keys["s"]: np.array([text], dtype=object),
    }
    shared_store.write(
        PointBatch(measurement, {"athlete": athlete, "k" + tag_key: tag_value}, np.array([time_ms]), fields)
    )
    athlete_is = f"{quote_ident('athlete')} = {quote_literal(athlete)}"
    where = f"{athlete_is} AND {quote_ident('k' + tag_key)} = {quote_literal(tag_value)}"
    (result,) = shared_store.query(f"SELECT * FROM {quote_ident(measurement)} WHERE {where}")
    (series,) = result["series"]
    (row,) = series["values"]
    got = dict(zip(series["columns"], row, strict=True))
    got[keys["f"]] = float(got[keys["f"]])  # JSON writes 4.26e16 as 42628849820375570: an int to Python
    assert series["name"] == measurement
    assert got == {
        "time": time_ms,
        "athlete": athlete,
        "k" + tag_key: tag_value,
        keys["i"]: integer,
        keys["f"]: real,
        keys["b"]: flag,
        keys["s"]: text,
    }
    assert type(got[keys["i"]]) is int and type(got[keys["b"]]) is bool


# -- retries and errors --------------------------------------------------------------------------------------------


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

"""InfluxStore against a real influxd (Debian's 1.6.7): reads, writes, quoting and round trips."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from influx_helpers import T0, TOKEN, hr_batch, unique
from influxd import InfluxServer

from ingest.store.base import PointBatch
from ingest.store.errors import StoreConfigError
from ingest.store.influx import InfluxStore
from ingest.store.influxql import quote_ident, quote_literal, time_range_clause

pytestmark = pytest.mark.influx


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

"""The embedded SQLite store and store-URL selection."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from ingest.store import open_store, resolve_store_url
from ingest.store.base import PointBatch
from ingest.store.errors import StoreConfigError, StoreError
from ingest.store.sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "s.sqlite")
    yield s
    s.close()


def hr_batch(athlete: str, start: int, n: int, device: str = "strap") -> PointBatch:
    t = start + 1000 * np.arange(n, dtype=np.int64)
    return PointBatch("hr", {"athlete": athlete, "device": device}, t, {"bpm": 50 + np.arange(n) % 40})


def test_write_read_count_and_list(store):
    assert store.write([hr_batch("A01", 0, 10), hr_batch("A02", 0, 5)]) == 15
    frame = store.read("hr", "A01", ["bpm"], 2000, 6000)
    assert frame.time_ms.tolist() == [2000, 3000, 4000, 5000]
    assert frame.columns["bpm"].tolist() == [52.0, 53.0, 54.0, 55.0]
    assert store.count("hr", "A01") == 10
    assert store.count("hr") == 15
    assert store.count("hr", "A01", start_ms=5000) == 5
    assert store.list_athletes() == ["A01", "A02"]


def test_same_series_and_time_overwrites(store):
    store.write([hr_batch("A01", 0, 10)])
    store.write([hr_batch("A01", 0, 10)])
    assert store.count("hr", "A01") == 10
    again = PointBatch("hr", {"athlete": "A01", "device": "strap"}, np.array([0]), {"bpm": np.array([99])})
    store.write([again])
    assert store.read("hr", "A01", ["bpm"], 0, 1).columns["bpm"].tolist() == [99.0]


def test_tag_filter_and_mixed_field_types(store):
    batch = PointBatch(
        "flag",
        {"athlete": 'A 1,="x"', "signal": "hrv_suppressed", "severity": "watch"},
        np.array([86_400_000]),
        {"value": np.array([3.71]), "reason": np.array(['below "range" \\ ok'], dtype=object)},
    )
    store.write([batch, hr_batch('A 1,="x"', 0, 3)])
    frame = store.read("flag", 'A 1,="x"', ["value", "reason"], tags={"signal": "hrv_suppressed"})
    assert frame.columns["reason"].tolist() == ['below "range" \\ ok']
    assert frame.columns["value"].tolist() == [3.71]
    assert len(store.read("flag", 'A 1,="x"', ["value"], tags={"signal": "other"})) == 0


def test_failed_batch_is_not_half_written(store):
    bad = PointBatch("hr", {"athlete": "A01"}, np.array([1, 2]), {"x": np.array([1.0, np.nan])})
    with pytest.raises(StoreError, match="field 'x': nan at row 1 is not a finite number"):
        store.write([hr_batch("A01", 0, 5), bad])
    assert store.count("hr", "A01") == 0


def test_wal_mode_and_delete(store, tmp_path):
    store.write([hr_batch("A01", 0, 3), hr_batch("A02", 0, 3)])
    mode = sqlite3.connect(tmp_path / "s.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.delete_athlete("A01")
    assert store.list_athletes() == ["A02"]


def test_store_url_selection(tmp_path):
    path = tmp_path / "x.sqlite"
    store = open_store(f"sqlite:///{path}")
    assert getattr(store, "path", None) == path  # the embedded store, on that file
    store.close()
    assert resolve_store_url(None, {"RECOVERY_STORE": "sqlite:///env.sqlite"}) == "sqlite:///env.sqlite"
    assert resolve_store_url(None, {}).endswith("recovery.sqlite")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://db/x", "unknown scheme 'postgres'"),
        ("just-a-path", "not a URL"),
        ("influxdb+http://user:secret@127.0.0.1:8086/db", "credentials in the URL are refused"),
        ("influxdb+http://127.0.0.1:8086", "expected /DATABASE"),
        ("influxdb+http://127.0.0.1:99999/db", "out of range"),
    ],
)
def test_bad_store_urls_are_one_line_errors(url, message):
    with pytest.raises(StoreConfigError, match=message) as info:
        open_store(url, {})
    assert "\n" not in str(info.value)
    assert "secret" not in str(info.value)

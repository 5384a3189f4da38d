"""Behaviour every Store backend shares: one check per behaviour, run on each real backend by
tests/test_store_contract.py (the `each_store` fixture: a SQLite file and a database on a real influxd).

Expected values are written out by hand from the points each check writes.
"""

from __future__ import annotations

import numpy as np
import pytest

from ingest.store.base import PointBatch, SeriesInfo, Store
from ingest.store.errors import EncodeError

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DAY_MS = 86_400_000


def _hr(athlete: str, n: int, start_ms: int = T0, device: str = "strap") -> PointBatch:
    """``n`` points one second apart: bpm 60, 61, … (int), rr_ms 1000.5, 999.5, … (float)."""
    steps = np.arange(n, dtype=np.int64)
    fields = {"bpm": 60 + steps, "rr_ms": 1000.5 - steps.astype(float)}
    return PointBatch("hr", {"athlete": athlete, "device": device}, start_ms + 1000 * steps, fields)


def check_round_trip(store: Store) -> None:
    """Integer, float, boolean and string fields come back in [start, end) sorted by time: numbers as float64
    (booleans 0/1), strings as object, NaN for a field the rows lack; an unknown athlete reads empty."""
    notes = np.array(['lap "0" \\ ok', "lap, 1", "läp=2", "lap 3"], dtype=object)
    batch = PointBatch(
        "hr",
        {"athlete": "ath 1", "device": "strap"},
        np.array([T0 + 3000, T0, T0 + 1000, T0 + 2000], dtype=np.int64),  # written out of order
        {
            "bpm": np.array([63, 60, 61, 62]),
            "rr_ms": np.array([997.25, 1000.5, 999.0, 998.125]),
            "moving": np.array([True, False, True, False]),
            "note": notes,
        },
    )
    assert store.write([batch]) == 4
    frame = store.read("hr", "ath 1", ["bpm", "rr_ms", "moving", "note", "absent"], T0 + 1000, T0 + 3000)
    assert frame.time_ms.dtype == np.int64 and frame.time_ms.tolist() == [T0 + 1000, T0 + 2000]
    assert frame.columns["bpm"].dtype == np.float64 and frame.columns["bpm"].tolist() == [61.0, 62.0]
    assert frame.columns["rr_ms"].tolist() == [999.0, 998.125]
    assert frame.columns["moving"].tolist() == [1.0, 0.0]
    assert frame.columns["note"].dtype == object and frame.columns["note"].tolist() == ["läp=2", "lap 3"]
    assert np.isnan(frame.columns["absent"]).all() and len(frame.columns["absent"]) == 2
    whole = store.read("hr", "ath 1", ["bpm"])
    assert whole.time_ms.tolist() == [T0, T0 + 1000, T0 + 2000, T0 + 3000]
    assert whole.columns["bpm"].tolist() == [60.0, 61.0, 62.0, 63.0]
    assert len(store.read("hr", "nobody", ["bpm"])) == 0 and len(store.read("nothing", "ath 1", ["bpm"])) == 0
    store.write(
        [PointBatch("hr", {"athlete": "ath 1", "device": "strap"}, np.array([T0 + 5000]), {"bpm": np.array([70])})]
    )
    later = store.read("hr", "ath 1", ["note", "bpm"], T0 + 5000)  # a string field without values: None, not NaN
    assert later.columns["note"].dtype == object and later.columns["note"].tolist() == [None]
    empty = store.read("hr", "nobody", ["note", "bpm"])
    assert empty.columns["note"].dtype == object and empty.columns["bpm"].dtype == np.float64


def check_overwrite_merges_fields(store: Store) -> None:
    """Same measurement, tags and time = the same point: a later write adds its fields and overwrites the same
    fields; another tag set is another point."""
    tags = {"athlete": "A", "device": "strap"}
    store.write([PointBatch("hr", tags, np.array([T0]), {"bpm": np.array([50])})])
    store.write([PointBatch("hr", tags, np.array([T0]), {"rr_ms": np.array([1200.0])})])
    frame = store.read("hr", "A", ["bpm", "rr_ms"])
    assert (frame.time_ms.tolist(), frame.columns["bpm"].tolist(), frame.columns["rr_ms"].tolist()) == (
        [T0],
        [50.0],
        [1200.0],
    )
    store.write([PointBatch("hr", tags, np.array([T0]), {"bpm": np.array([51])})])
    frame = store.read("hr", "A", ["bpm", "rr_ms"])
    assert (frame.columns["bpm"].tolist(), frame.columns["rr_ms"].tolist()) == ([51.0], [1200.0])
    assert store.count("hr", "A") == 1
    store.write([PointBatch("hr", {**tags, "device": "watch"}, np.array([T0]), {"bpm": np.array([52])})])
    assert store.count("hr", "A") == 2
    assert sorted(store.read("hr", "A", ["bpm"]).columns["bpm"].tolist()) == [51.0, 52.0]


def check_read_with_tags(store: Store) -> None:
    """``read(athlete=None, with_tags=…)``: every athlete's rows with their tag values as columns (None where a
    series lacks the tag); ``tags=`` filters series."""
    series = (
        ("A 1", "acwr_spike", "watch", 0.0),
        ("A 1", "hrv_suppressed", "act", 10.0),
        ("B,2", "acwr_spike", "watch", 20.0),
    )
    batches = [
        PointBatch(
            "flag",
            {"athlete": athlete, "signal": signal, "severity": severity},
            T0 + DAY_MS * np.arange(3, dtype=np.int64),
            {"value": np.array([1.5, 1.6, 1.7]) + offset, "reason": np.array(["a", "b", "c"], dtype=object)},
        )
        for athlete, signal, severity, offset in series
    ]
    assert store.write(batches) == 9
    frame = store.read("flag", None, ["value", "reason"], T0 + DAY_MS, None, with_tags=["athlete", "signal", "missing"])
    rows = sorted(
        zip(
            frame.time_ms.tolist(),
            frame.columns["athlete"].tolist(),
            frame.columns["signal"].tolist(),
            frame.columns["value"].tolist(),
            frame.columns["reason"].tolist(),
            strict=True,
        )
    )
    assert rows == sorted(
        (T0 + DAY_MS * k, athlete, signal, 1.5 + 0.1 * k + offset, "abc"[k])
        for athlete, signal, _severity, offset in series
        for k in (1, 2)
    )
    assert frame.columns["missing"].tolist() == [None] * 6
    assert np.all(np.diff(frame.time_ms) >= 0)
    one = store.read("flag", "A 1", ["value"], tags={"severity": "act"}, with_tags=["signal"])
    assert one.columns["signal"].tolist() == ["hrv_suppressed"] * 3 and one.columns["value"].tolist() == [
        11.5,
        11.6,
        11.7,
    ]
    assert len(store.read("flag", "A 1", ["value"], tags={"severity": "none"})) == 0
    empty = store.read("flag", "nobody", ["value"], with_tags=["signal"])
    assert len(empty) == 0 and empty.columns["signal"].dtype == object


def check_count(store: Store) -> None:
    """Points (series and timestamp) in [start_ms, end_ms): a point exactly at start counts, exactly at end not."""
    store.write([_hr("A01", 10), _hr("A02", 5), _hr("A01", 3, device="watch")])
    assert store.count("hr") == 18
    assert store.count("hr", "A01") == 13 and store.count("hr", "A02") == 5
    assert store.count("hr", "A01", start_ms=T0 + 5000) == 5
    assert store.count("hr", "A01", T0 + 2000, T0 + 5000) == 4  # strap at T0+2 s, 3 s, 4 s; watch at T0+2 s
    assert store.count("hr", "A01", end_ms=T0 + 2000) == 4  # T0 and T0+1 s on both devices
    assert store.count("hr", "nobody") == 0 and store.count("nothing") == 0


def check_list_athletes(store: Store) -> None:
    """Every athlete ID, sorted, across measurements or in one; none in an empty store or unknown measurement."""
    assert store.list_athletes() == []
    store.write(
        [
            _hr("b'2", 2),
            _hr("A 1", 1),
            PointBatch("hrv", {"athlete": "C"}, np.array([T0]), {"rmssd_ms": np.array([40.0])}),
        ]
    )
    assert store.list_athletes() == ["A 1", "C", "b'2"]
    assert store.list_athletes("hr") == ["A 1", "b'2"] and store.list_athletes("hrv") == ["C"]
    assert store.list_athletes("nothing") == []


def check_delete_athlete_count(store: Store) -> None:
    """Deleting an athlete removes its points in every measurement and returns how many; others stay."""
    rmssd = PointBatch(
        "hrv", {"athlete": "gone 'x'"}, np.array([T0, T0 + DAY_MS]), {"rmssd_ms": np.array([42.0, 40.0])}
    )
    store.write([_hr("gone 'x'", 7), _hr("gone 'x'", 2, device="watch"), _hr("stays", 4), rmssd])
    assert store.delete_athlete("gone 'x'") == 11
    assert store.list_athletes() == ["stays"]
    assert store.count("hr") == 4 and store.count("hrv") == 0 and store.series("gone 'x'") == []
    assert store.delete_athlete("gone 'x'") == 0 and store.delete_athlete("nobody") == 0


def check_series(store: Store) -> None:
    """An athlete's series: measurement, tags, field types, distinct timestamps and first and last time."""
    flag = PointBatch(
        "flag",
        {"athlete": "A", "signal": "acwr_spike"},
        np.array([T0 + DAY_MS, T0 + 3 * DAY_MS]),
        {"active": np.array([True, False]), "reason": np.array(["up", "down"], dtype=object)},
    )
    store.write([_hr("A", 5, T0 + 500), _hr("A", 2, device="watch"), flag, _hr("B", 9)])
    assert store.series("A") == [
        SeriesInfo(
            "flag",
            {"athlete": "A", "signal": "acwr_spike"},
            {"active": "boolean", "reason": "string"},
            2,
            T0 + DAY_MS,
            T0 + 3 * DAY_MS,
        ),
        SeriesInfo(
            "hr", {"athlete": "A", "device": "strap"}, {"bpm": "integer", "rr_ms": "float"}, 5, T0 + 500, T0 + 4500
        ),
        SeriesInfo("hr", {"athlete": "A", "device": "watch"}, {"bpm": "integer", "rr_ms": "float"}, 2, T0, T0 + 1000),
    ]
    assert store.series("nobody") == []


def check_read_many(store: Store) -> None:
    """Numeric fields of many athletes in one read: rows sorted by athlete then time, athletes sorted (or as
    asked, including ones without data), NaN for a missing or non-numeric value."""
    partial = PointBatch("hr", {"athlete": "A", "device": "watch"}, np.array([T0 + 500]), {"rr_ms": np.array([800.0])})
    note = PointBatch("hr", {"athlete": "B"}, np.array([T0 + 1500]), {"note": np.array(["x"], dtype=object)})
    store.write([_hr("B", 2), _hr("A", 3), partial, note])
    many = store.read_many("hr", ["bpm", "rr_ms", "note"], None, T0, T0 + 2000)
    assert many.athletes == ["A", "B"]
    assert many.athlete_index.tolist() == [0, 0, 0, 1, 1, 1]
    assert many.time_ms.tolist() == [T0, T0 + 500, T0 + 1000, T0, T0 + 1000, T0 + 1500]
    np.testing.assert_array_equal(many.columns["bpm"], [60.0, np.nan, 61.0, 60.0, 61.0, np.nan])
    np.testing.assert_array_equal(many.columns["rr_ms"], [1000.5, 800.0, 999.5, 1000.5, 999.5, np.nan])
    assert np.isnan(many.columns["note"]).all() and len(many) == 6  # a string reads as NaN
    asked = store.read_many("hr", ["bpm"], ["B", "nobody"], T0 + 1000)
    assert (
        asked.athletes == ["B", "nobody"]
        and asked.athlete_index.tolist() == [0]
        and asked.columns["bpm"].tolist() == [61.0]
    )
    none = store.read_many("nothing", ["bpm"], ["A"])
    assert none.athletes == ["A"] and len(none) == 0 and none.columns["bpm"].dtype == np.float64


def check_non_finite_refused(store: Store) -> None:
    """NaN and infinity are refused as `EncodeError` naming the field; the batch holding them is not stored."""
    for bad_value in (np.nan, np.inf, -np.inf):
        bad = PointBatch("hrv", {"athlete": "A"}, np.array([T0, T0 + 1]), {"rmssd_ms": np.array([40.0, bad_value])})
        with pytest.raises(EncodeError, match="'rmssd_ms'") as info:
            store.write([bad])
        assert "\n" not in str(info.value)
    assert store.count("hrv") == 0


class CountingStore:
    """A store that counts its `write` calls (to check that a job wrote nothing the second time)."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.writes = inner, 0

    def write(self, batches):
        self.writes += 1
        return self.inner.write(batches)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

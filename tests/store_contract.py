"""Behaviour every Store backend shares, checked against each real backend by its own test module."""

from __future__ import annotations

import numpy as np

from ingest.store.base import PointBatch, Store

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def assert_reads_everyone_with_tag_columns(store: Store) -> None:
    """``read(athlete=None, with_tags=…)``: every athlete's rows with their tag values as columns; athletes by
    measurement."""
    day = 86_400_000
    series = (
        ("A 1", "acwr_spike", "watch", 0.0),
        ("A 1", "hrv_suppressed", "act", 10.0),
        ("B,2", "acwr_spike", "watch", 20.0),
    )
    batches = [
        PointBatch(
            "flag",
            {"athlete": athlete, "signal": signal, "severity": severity},
            T0 + day * np.arange(3, dtype=np.int64),
            {"value": np.array([1.5, 1.6, 1.7]) + offset, "reason": np.array(["a", "b", "c"], dtype=object)},
        )
        for athlete, signal, severity, offset in series
    ]
    assert store.write(batches) == 9
    frame = store.read("flag", None, ["value", "reason"], T0 + day, None, with_tags=["athlete", "signal", "missing"])
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
        (T0 + day * k, athlete, signal, 1.5 + 0.1 * k + offset, "abc"[k])
        for athlete, signal, _severity, offset in series
        for k in (1, 2)
    )
    assert frame.columns["missing"].tolist() == [None] * 6
    assert np.all(np.diff(frame.time_ms) >= 0)
    one = store.read("flag", "A 1", ["value"], tags={"severity": "act"}, with_tags=["signal"])
    assert one.columns["signal"].tolist() == ["hrv_suppressed"] * 3
    empty = store.read("flag", "nobody", ["value"], with_tags=["signal"])
    assert len(empty) == 0 and empty.columns["signal"].dtype == object
    store.write([PointBatch("hr", {"athlete": "C"}, np.array([T0]), {"bpm": np.array([50])})])
    assert store.list_athletes("flag") == ["A 1", "B,2"] and store.list_athletes("hr") == ["C"]
    assert store.list_athletes() == ["A 1", "B,2", "C"] and store.list_athletes("nothing") == []


class CountingStore:
    """A store that counts its `write` calls (to check that a job wrote nothing the second time)."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.writes = inner, 0

    def write(self, batches):
        self.writes += 1
        return self.inner.write(batches)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

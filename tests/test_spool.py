"""The durable spool and its writer: append-before-ack, crash replay, disk budget, outages, poison rows."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest

from ingest.gateway.spool import Spool
from ingest.gateway.writer import SpoolWriter
from ingest.store.base import PointBatch
from ingest.store.errors import StoreRequestError, StoreUnavailable
from ingest.store.sqlite import SQLiteStore

TAGS = {"athlete": "A01", "device": "pod", "side": "left"}


def add_strides(spool: Spool, start_ms: int, n: int, tags: dict[str, str] = TAGS) -> None:
    for i in range(n):
        spool.add(
            "stride",
            tags,
            np.array([start_ms + 700 * i], np.int64),
            {
                "gct_ms": np.array([240 + i % 7], np.int64),
                "emg_rms_pct_mvc": np.array([33.5]),
                "ok": np.array([True]),
                "note": np.array(['é"x'], dtype=object),
            },
        )


def test_rows_round_trip_with_types_and_order(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    add_strides(spool, 1_000, 5)
    spool.add("hr", {"athlete": "A01"}, np.array([5, 6], np.int64), {"bpm": np.array([61, 62], np.int64)})
    assert spool.read(0, 100) is None  # nothing committed yet: not received
    assert spool.commit() == 7
    batch = spool.read(0, 100)
    assert batch is not None and batch.points == 7 and len(batch.rows) == 6
    stride, hr = batch.batches
    assert stride.measurement == "stride" and dict(stride.tags) == TAGS
    assert stride.time_ms.tolist() == [1_000 + 700 * i for i in range(5)]
    assert stride.fields["gct_ms"].dtype == np.int64 and stride.fields["ok"].dtype == bool
    assert stride.fields["note"].tolist() == ['é"x'] * 5
    assert hr.fields["bpm"].tolist() == [61, 62]
    spool.ack(batch)
    assert spool.pending_points == 0 and spool.read(0, 100) is None
    spool.close()


def test_a_crash_before_the_ack_replays_and_the_store_stays_exact(tmp_path):
    store = SQLiteStore(tmp_path / "store.sqlite")
    spool = Spool(tmp_path / "spool.sqlite")
    add_strides(spool, 10_000, 50)
    spool.commit()
    batch = spool.read(0, 1000)
    store.write(batch.batches)  # written, but the gateway dies before deleting the rows
    spool.close()

    reopened = Spool(tmp_path / "spool.sqlite")
    assert reopened.pending_points == reopened.recovered_points == 50
    writer = SpoolWriter(reopened, store)
    assert asyncio.run(writer.drain(5.0))
    assert store.count("stride", "A01") == 50  # replayed, overwritten, not duplicated
    assert reopened.pending_points == 0
    reopened.close()


def test_disk_budget_warns_then_rejects_and_recovers(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    spool = Spool(tmp_path / "spool.sqlite", max_bytes=20_000)
    add_strides(spool, 0, 400)
    spool.commit()
    assert spool.rejected_points > 0 and spool.pending_bytes <= 20_000
    kept = spool.pending_points
    assert kept + spool.rejected_points == 400
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "budget" in messages and "FULL" in messages and "DROPPED" in messages
    store = SQLiteStore(tmp_path / "store.sqlite")
    assert asyncio.run(SpoolWriter(spool, store).drain(5.0))
    assert store.count("stride", "A01") == kept
    assert spool.add("stride", TAGS, np.array([10**9], np.int64), {"gct_ms": np.array([1], np.int64)})
    assert "has room again" in " ".join(record.getMessage() for record in caplog.records)
    spool.close()


class FlakyStore:
    """Fails the first ``failures`` writes like an unreachable server, then delegates."""

    def __init__(self, inner: SQLiteStore, failures: int) -> None:
        self.inner = inner
        self.url = inner.url
        self.failures = failures
        self.calls = 0

    def write(self, batches):
        self.calls += 1
        if self.calls <= self.failures:
            raise StoreUnavailable("InfluxDB at http://127.0.0.1:1/write: connection refused")
        return self.inner.write(list(batches))


def test_writer_keeps_everything_through_an_outage_and_replays_in_order(tmp_path):
    async def scenario() -> tuple[SpoolWriter, int]:
        spool = Spool(tmp_path / "spool.sqlite")
        store = FlakyStore(SQLiteStore(tmp_path / "store.sqlite"), failures=4)
        writer = SpoolWriter(spool, store, batch_points=30, interval_s=0.01, backoff_s=0.01, backoff_cap_s=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(writer.run(stop))
        for chunk in range(10):
            add_strides(spool, chunk * 100_000, 20)
            spool.commit()
            await asyncio.sleep(0.02)
        assert await writer.drain(5.0)
        stop.set()
        await task
        return writer, store.inner.count("stride", "A01")

    writer, stored = asyncio.run(scenario())
    assert stored == 200
    assert writer.stats.failures == 4 and writer.stats.outages == 1 and writer.stats.store_ok
    assert writer.stats.points == 200 and writer.stats.latency_percentiles()["p50_ms"] is not None


class PickyStore:
    """Refuses for good any write that contains the measurement ``bad``."""

    def __init__(self, inner: SQLiteStore) -> None:
        self.inner = inner
        self.url = inner.url

    def write(self, batches):
        batches = list(batches)
        if any(batch.measurement == "bad" for batch in batches):
            raise StoreRequestError("HTTP 400: partial write: field type conflict", 400)
        return self.inner.write(batches)


def test_rows_the_store_refuses_for_good_are_quarantined_alone(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite")
    add_strides(spool, 0, 10)
    spool.add("bad", {"athlete": "A01"}, np.array([1], np.int64), {"x": np.array([1.0])})
    add_strides(spool, 100_000, 10)
    spool.commit()
    store = PickyStore(SQLiteStore(tmp_path / "store.sqlite"))
    assert asyncio.run(SpoolWriter(spool, store).drain(5.0))
    assert store.inner.count("stride", "A01") == 20
    assert spool.quarantined_points == 1 and spool.pending_points == 0
    spool.close()


def test_invalid_settings_are_refused(tmp_path):
    with pytest.raises(ValueError):
        Spool(tmp_path / "a.sqlite", synchronous="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Spool(tmp_path / "b.sqlite", max_bytes=0)
    full = Spool(tmp_path / "c.sqlite", synchronous="full")
    full.add("hr", {"athlete": "A"}, np.array([1], np.int64), {"bpm": np.array([60], np.int64)})
    assert full.commit() == 1
    full.close()
    assert PointBatch  # the spool hands PointBatch objects to any Store

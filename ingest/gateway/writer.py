"""Drains the spool to the store in batches, in order, retrying while the store is unreachable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field

import numpy as np

from ingest.gateway.spool import Spool, SpoolBatch, merge_rows
from ingest.retry import backoff_delay_s
from ingest.store.base import Store
from ingest.store.errors import EncodeError, StoreConfigError, StoreRequestError, StoreUnavailable

logger = logging.getLogger(__name__)

_PERMANENT = (StoreRequestError, EncodeError, StoreConfigError)
_LATENCY_RESERVOIR = 20_000


@dataclass
class WriterStats:
    """What the writer did so far."""

    batches: int = 0
    points: int = 0
    failures: int = 0
    store_ok: bool = True
    last_error: str | None = None
    outage_started: float | None = None
    outages: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    """Arrival at the gateway → acknowledged by the store, one entry per spooled row (a bounded sample)."""

    def latency_percentiles(self) -> dict[str, float | None]:
        if not self.latencies_ms:
            return {"p50_ms": None, "p99_ms": None, "max_ms": None}
        values = np.asarray(self.latencies_ms)
        return {
            "p50_ms": round(float(np.percentile(values, 50)), 1),
            "p99_ms": round(float(np.percentile(values, 99)), 1),
            "max_ms": round(float(values.max()), 1),
        }


class SpoolWriter:
    """Moves spooled samples into the store: ``run`` until stopped, ``drain`` to empty the spool at shutdown.

    A failed write (store down, 5xx, timeout) keeps the rows and retries with capped exponential backoff, so the
    spool grows during an outage and replays in order afterwards. Rows the store rejects for good (4xx, encoding)
    are bisected down to single rows and quarantined, so one bad point cannot block the rest.
    """

    def __init__(
        self,
        spool: Spool,
        store: Store,
        *,
        batch_points: int = 5000,
        interval_s: float = 0.2,
        backoff_s: float = 0.5,
        backoff_cap_s: float = 5.0,
    ) -> None:
        self.spool = spool
        self.store = store
        self.batch_points = batch_points
        self.interval_s = interval_s
        self.backoff_s = backoff_s
        self.backoff_cap_s = backoff_cap_s
        self.stats = WriterStats()
        self._after_seq = 0
        self._wake = asyncio.Event()
        self._random = random.Random(0)

    def wake(self) -> None:
        """Drain now instead of at the next interval."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Write batches until ``stop`` is set (then return without waiting for the store)."""
        failures = 0
        while not stop.is_set():
            try:
                progressed = await self.write_once()
            except StoreUnavailable as exc:
                failures += 1
                self._record_failure(exc)
                delay = backoff_delay_s(failures, self.backoff_s, self.backoff_cap_s, self._random, min_fraction=0.5)
                await self._sleep(delay, stop)
                continue
            if failures:
                self._record_recovery()
                failures = 0
            if not progressed:
                await self._sleep(self.interval_s, stop)

    async def drain(self, deadline_s: float) -> bool:
        """Write until the spool is empty or ``deadline_s`` seconds passed; True when empty."""
        end = time.monotonic() + deadline_s
        while self.spool.pending_points or self.spool.commit():
            if time.monotonic() > end:
                logger.warning("spool: %d points still waiting for the store at shutdown", self.spool.pending_points)
                return False
            try:
                await self.write_once()
            except StoreUnavailable as exc:
                self._record_failure(exc)
                await asyncio.sleep(min(self.backoff_cap_s, max(end - time.monotonic(), 0) / 4, 1.0))
                continue
            if not self.stats.store_ok:
                self._record_recovery()
        return True

    async def write_once(self) -> bool:
        """Write one batch; False when nothing was waiting. Raises StoreUnavailable when the store is down."""
        self.spool.commit()
        batch = await asyncio.to_thread(self.spool.read, self._after_seq, self.batch_points)
        if batch is None:
            return False
        await self._write(batch)
        return True

    async def _write(self, batch: SpoolBatch) -> None:
        try:
            await asyncio.to_thread(self.store.write, batch.batches)
        except _PERMANENT as exc:
            if len(batch.rows) == 1:
                self.spool.quarantine(batch, str(exc))
                self._after_seq = batch.last_seq
                return
            half = len(batch.rows) // 2
            for rows in (batch.rows[:half], batch.rows[half:]):
                await self._write(SpoolBatch(rows, merge_rows(rows)))
            return
        except StoreUnavailable:
            raise
        except Exception as exc:  # any other failure of a store backend: treat as unreachable, keep the rows
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
        now_ms = self.spool.clock()
        latencies = self.stats.latencies_ms
        for row in batch.rows:
            if len(latencies) < _LATENCY_RESERVOIR:
                latencies.append(float(now_ms - row.arrival_ms))
            else:
                latencies[self._random.randrange(_LATENCY_RESERVOIR)] = float(now_ms - row.arrival_ms)
        self.spool.ack(batch)
        self._after_seq = batch.last_seq
        self.stats.batches += 1
        self.stats.points += batch.points

    def _record_failure(self, exc: Exception) -> None:
        self.stats.failures += 1
        self.stats.last_error = str(exc)
        if self.stats.store_ok:
            self.stats.store_ok = False
            self.stats.outages += 1
            self.stats.outage_started = time.monotonic()
            logger.warning("store unreachable, spooling (%d points waiting): %s", self.spool.pending_points, exc)

    def _record_recovery(self) -> None:
        if not self.stats.store_ok:
            lasted = time.monotonic() - (self.stats.outage_started or time.monotonic())
            logger.warning(
                "store reachable again after %.1f s; replaying %d spooled points", lasted, self.spool.pending_points
            )
        self.stats.store_ok = True
        self.stats.outage_started = None

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                    stopper.cancel()

"""The gateway: every configured sensor connected and streamed, samples spooled, spool drained to the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bleak.exc import BleakError

from ingest.gateway.config import SquadConfig
from ingest.gateway.finder import DeviceFinder
from ingest.gateway.recorders import make_recorder
from ingest.gateway.session import DeviceSession, DeviceState, timed_client_class
from ingest.gateway.spool import Spool
from ingest.gateway.telemetry import GatewaySnapshot, Telemetry
from ingest.gateway.writer import SpoolWriter
from ingest.store.base import Store
from ingest.timeline import Clock, wall_clock_ms

logger = logging.getLogger(__name__)

COMMIT_INTERVAL_S = 0.05


class BluetoothUnavailable(Exception):
    """The scanner could not start (no adapter, no bluetoothd, no permission)."""


class Gateway:
    """Runs until ``stop`` is set, then disconnects every sensor, spools final telemetry and drains the spool.

    ``client_kwargs``/``scanner_kwargs`` select the bleak backend (empty for the host's Bluetooth,
    ``air.client_kwargs()`` for a virtual air). Adapters: every sensor uses its configured adapter's slots
    (``adapter_slots`` concurrent connections each) and connects one at a time per adapter (as BlueZ creates LE
    connections); on BlueZ the adapter name is passed as ``bluez={"adapter": NAME}``.
    """

    def __init__(
        self,
        config: SquadConfig,
        store: Store,
        spool: Spool,
        *,
        client_kwargs: dict[str, Any] | None = None,
        scanner_kwargs: dict[str, Any] | None = None,
        clock: Clock = wall_clock_ms,
        drain_deadline_s: float = 60.0,
    ) -> None:
        settings = config.gateway
        self.config = config
        self.store = store
        self.spool = spool
        self.clock = clock
        self.drain_deadline_s = drain_deadline_s
        self.writer = SpoolWriter(spool, store)
        self.telemetry = Telemetry(settings.id, spool, clock)
        self.finder = DeviceFinder(config.devices, scanner_kwargs)
        self.slots = {name: asyncio.Semaphore(settings.adapter_slots) for name in settings.adapters}
        self.connect_locks = {name: asyncio.Lock() for name in settings.adapters}
        self.snapshots: list[GatewaySnapshot] = []
        self.drained = False
        client_class = timed_client_class(settings.connect_timeout_s)
        base_kwargs = dict(client_kwargs or {})
        self.sessions: list[DeviceSession] = []
        for index, spec in enumerate(config.devices):
            adapter = spec.adapter or settings.adapters[0]
            kwargs = dict(base_kwargs)
            if adapter != "default" and "backend" not in kwargs:
                kwargs["bluez"] = {"adapter": adapter}
            recorder = make_recorder(spec, spool, clock)
            self.sessions.append(
                DeviceSession(
                    index,
                    spec,
                    recorder,
                    self.finder,
                    self.slots[adapter],
                    self.connect_locks[adapter],
                    settings,
                    client_class,
                    kwargs,
                    self.telemetry.device_state,
                )
            )

    def connected(self) -> int:
        return sum(session.state is DeviceState.CONNECTED for session in self.sessions)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop``; always shuts down cleanly (sensors disconnected, spool drained as far as possible)."""
        inner_stop = asyncio.Event()
        tasks: list[asyncio.Task[Any]] = []
        background: list[asyncio.Task[Any]] = []
        try:
            try:
                await self.finder.start()
            except (BleakError, OSError) as exc:
                raise BluetoothUnavailable(f"cannot scan: {exc or type(exc).__name__}") from exc
            tasks = [asyncio.create_task(session.run(inner_stop), name=session.spec.key) for session in self.sessions]
            background = [
                asyncio.create_task(self.writer.run(inner_stop), name="spool writer"),
                asyncio.create_task(self._commit_loop(inner_stop), name="spool commit"),
                asyncio.create_task(self._telemetry_loop(inner_stop), name="telemetry"),
            ]
            await stop.wait()
        finally:
            inner_stop.set()
            for session in self.sessions:
                session.wake()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            for session, result in zip(self.sessions, results):
                if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                    logger.error("%s: session failed: %r", session.spec.key, result)
            for task in background:
                with contextlib.suppress(Exception):
                    await task
            with contextlib.suppress(Exception):
                await self.finder.stop()
            self._take_snapshot()
            self.spool.commit()
            self.drained = await self.writer.drain(self.drain_deadline_s)

    def _take_snapshot(self) -> GatewaySnapshot:
        snapshot = self.telemetry.snapshot(self.sessions, self.spool, self.writer)
        self.telemetry.record(snapshot)
        self.snapshots.append(snapshot)
        return snapshot

    async def _commit_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.spool.commit():
                self.writer.wake()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(COMMIT_INTERVAL_S):
                    await stop.wait()

    async def _telemetry_loop(self, stop: asyncio.Event) -> None:
        interval = self.config.gateway.telemetry_interval_s
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await stop.wait()
            if not stop.is_set():
                snapshot = self._take_snapshot()
                fields = snapshot.fields
                logger.info(
                    "gateway: %s/%s connected, %.1f notifications/s, spool %s points, lag %.0f ms, store %s",
                    fields["devices_connected"],
                    fields["devices_configured"],
                    fields["notifications_per_s"],
                    fields["spool_points"],
                    fields["ingest_lag_ms"],
                    "ok" if fields["store_ok"] else "DOWN",
                )

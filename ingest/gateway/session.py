"""One configured sensor's connection: find, connect through bleak-retry-connector, stream, watch, reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import bleak_retry_connector
from bleak import BleakClient
from bleak.exc import BleakError

from ingest.ble.heart_rate import BATTERY_LEVEL_UUID, decode_battery_level
from ingest.gateway.config import DeviceSpec, GatewaySettings
from ingest.gateway.finder import DeviceFinder
from ingest.gateway.recorders import Recorder, SetupError
from ingest.retry import backoff_delay_s

logger = logging.getLogger(__name__)

DISCONNECT_TIMEOUT_S = 5.0
CONNECT_ERRORS = (BleakError, TimeoutError, EOFError, BrokenPipeError, SetupError, OSError)


class DeviceState(StrEnum):
    SEARCHING = "searching"
    CONNECTED = "connected"
    LOST = "lost contact"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


StateListener = Callable[["DeviceSession", DeviceState, str], None]


def timed_client_class(connect_timeout_s: float) -> type[BleakClient]:
    """A BleakClient whose connects use ``connect_timeout_s`` instead of bleak-retry-connector's 20 s constant."""

    class TimedBleakClient(BleakClient):
        async def connect(self, **kwargs: Any) -> None:
            kwargs["timeout"] = connect_timeout_s
            await super().connect(**kwargs)

    return TimedBleakClient


@dataclass
class SessionStats:
    connections: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    watchdog_trips: int = 0
    battery_pct: int | None = None
    rssi: int | None = None
    first_data_after_connect: list[float] = field(default_factory=list)
    """Monotonic arrival time of the first notification of every connection."""


class DeviceSession:
    """The state machine of one sensor: searching → connected → lost contact → reconnecting → connected …"""

    def __init__(
        self,
        index: int,
        spec: DeviceSpec,
        recorder: Recorder,
        finder: DeviceFinder,
        slots: asyncio.Semaphore,
        connect_lock: asyncio.Lock,
        settings: GatewaySettings,
        client_class: type[BleakClient],
        client_kwargs: dict[str, Any],
        on_state: StateListener,
    ) -> None:
        self.index = index
        self.spec = spec
        self.recorder = recorder
        self.finder = finder
        self.slots = slots
        self.connect_lock = connect_lock
        self.settings = settings
        self.client_class = client_class
        self.client_kwargs = client_kwargs
        self.on_state = on_state
        self.state = DeviceState.SEARCHING
        self.stats = SessionStats()
        period = spec.period_s or recorder.profile.period_s
        self.watchdog_s = max(settings.watchdog_periods * period, settings.watchdog_min_s)
        self.last_data = 0.0
        self._awaiting_first = False
        self._wake = asyncio.Event()
        self._random = random.Random(index)
        self._wrap_callback()

    def _wrap_callback(self) -> None:
        inner = self.recorder.on_notification

        def on_notification(_characteristic: object, data: bytearray) -> None:
            now = time.monotonic()
            self.last_data = now
            if self._awaiting_first:
                self._awaiting_first = False
                self.stats.first_data_after_connect.append(now)
            inner(_characteristic, data)

        # a deliberate patch of this recorder's bound method: `start` subscribes the wrapper
        self.recorder.on_notification = on_notification  # type: ignore[method-assign]

    def wake(self) -> None:
        """Re-check the connection now (called on drops and at shutdown)."""
        self._wake.set()

    def _set_state(self, state: DeviceState, reason: str = "") -> None:
        self.state = state
        self.on_state(self, state, reason)

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the sensor connected until ``stop`` is set."""
        failures = 0
        since = time.monotonic() - 1.0
        self._set_state(DeviceState.SEARCHING)
        while not stop.is_set():
            sighting = await _until(self.finder.wait_for(self.index, since), stop)
            if sighting is None:
                break
            self.stats.rssi = sighting.rssi
            outcome = await self._connect_and_stream(sighting.device, stop)
            if stop.is_set():
                break
            if outcome is None:  # connect failed: back off, then look for a fresh advertisement
                failures += 1
                self.stats.connect_failures += 1
                delay = backoff_delay_s(failures, 0.25, self.settings.backoff_max_s, self._random, min_fraction=0.5)
                await _until(asyncio.sleep(delay), stop)
                since = time.monotonic() - 0.5
                continue
            failures = 0
            self.stats.reconnects += 1
            self._set_state(DeviceState.LOST, outcome)
            self._set_state(DeviceState.RECONNECTING)
            since = time.monotonic() - 0.05
        self._set_state(DeviceState.STOPPED, "gateway shutdown")

    async def _connect_and_stream(self, device: Any, stop: asyncio.Event) -> str | None:
        """Connect and stream; None when the connect failed, else why the connection ended."""
        async with self.slots:
            if stop.is_set():
                return "gateway shutdown"
            dropped = asyncio.Event()

            def on_disconnected(_client: BleakClient) -> None:
                dropped.set()
                self._wake.set()

            try:
                async with self.connect_lock:  # one LE connection being created per adapter, as BlueZ does
                    await self.finder.pause()
                    try:
                        client = await bleak_retry_connector.establish_connection(
                            self.client_class,
                            device,
                            self.spec.key,
                            disconnected_callback=on_disconnected,
                            max_attempts=self.settings.connect_attempts,
                            **self.client_kwargs,
                        )
                    finally:
                        await self.finder.resume()
            except CONNECT_ERRORS as exc:
                logger.info("%s: connect failed: %s", self.spec.key, exc)
                return None
            try:
                try:
                    await self._setup(client)
                except CONNECT_ERRORS as exc:
                    logger.info("%s: setup after connect failed: %s", self.spec.key, exc)
                    return None if not dropped.is_set() else "link lost during setup"
                self.stats.connections += 1
                self._set_state(DeviceState.CONNECTED)
                return await self._supervise(dropped, stop)
            finally:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
                        await client.disconnect()

    async def _setup(self, client: BleakClient) -> None:
        timeout = self.settings.connect_timeout_s
        async with asyncio.timeout(timeout):
            if client.services.get_characteristic(BATTERY_LEVEL_UUID) is not None:
                with contextlib.suppress(Exception):
                    self.stats.battery_pct = decode_battery_level(await client.read_gatt_char(BATTERY_LEVEL_UUID))
            self.last_data = time.monotonic()
            self._awaiting_first = True
            await self.recorder.start(client, timeout)

    async def _supervise(self, dropped: asyncio.Event, stop: asyncio.Event) -> str:
        """Wait for a drop, silence longer than the watchdog, or the stop; returns the reason."""
        check = min(0.25, self.watchdog_s / 4)
        while True:
            if stop.is_set():
                return "gateway shutdown"
            if dropped.is_set():
                return "link lost"
            silent = time.monotonic() - self.last_data
            if silent > self.watchdog_s:
                self.stats.watchdog_trips += 1
                logger.warning(
                    "%s: no data for %.1f s (watchdog %.1f s): reconnecting", self.spec.key, silent, self.watchdog_s
                )
                return f"no data for {silent:.1f} s"
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(check):
                    await self._wake.wait()


async def _until(awaitable: Any, stop: asyncio.Event) -> Any:
    """Await ``awaitable`` unless ``stop`` is set first (then None)."""
    task = asyncio.ensure_future(awaitable)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None

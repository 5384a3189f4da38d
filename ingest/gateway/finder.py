"""One long-running scanner that binds configured sensors to advertisers and tells sessions when they are in reach."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from ingest.gateway.config import DeviceSpec
from ingest.gateway.profiles import PROFILES, recognise

logger = logging.getLogger(__name__)


@dataclass
class Sighting:
    """The latest advertisement of a bound sensor (``at`` on the monotonic clock)."""

    device: BLEDevice
    rssi: int | None
    at: float


class DeviceFinder:
    """Scans continuously; a name-pattern entry binds the first matching advertiser, an address entry its own."""

    def __init__(self, specs: Sequence[DeviceSpec], scanner_kwargs: dict[str, Any] | None = None) -> None:
        self.specs = list(specs)
        self.scanner_kwargs = scanner_kwargs or {}
        self.bound: dict[int, str] = {}
        self.sightings: dict[int, Sighting] = {}
        self.advertisements = 0
        self._events = {index: asyncio.Event() for index in range(len(self.specs))}
        self._owners: dict[str, int] = {}
        self._scanner: BleakScanner | None = None
        self._paused = 0
        self._scanning = False
        self._toggle = asyncio.Lock()

    async def start(self) -> None:
        if self._scanner is None:
            self._scanner = BleakScanner(self._on_detection, **self.scanner_kwargs)
            await self._apply()

    async def stop(self) -> None:
        async with self._toggle:
            scanner, self._scanner = self._scanner, None
            if scanner is not None and self._scanning:
                self._scanning = False
                await scanner.stop()

    async def pause(self) -> None:
        """Stop scanning while a connection is being created (many controllers and BlueZ do not do both well)."""
        self._paused += 1
        await self._apply()

    async def resume(self) -> None:
        self._paused = max(0, self._paused - 1)
        await self._apply()

    async def _apply(self) -> None:
        async with self._toggle:
            scanner = self._scanner
            if scanner is None:
                return
            want = self._paused == 0
            if want and not self._scanning:
                await scanner.start()
                self._scanning = True
            elif not want and self._scanning:
                await scanner.stop()
                self._scanning = False

    async def wait_for(self, index: int, since: float) -> Sighting:
        """The first sighting of sensor ``index`` after ``since`` (monotonic seconds)."""
        event = self._events[index]
        while True:
            sighting = self.sightings.get(index)
            if sighting is not None and sighting.at > since:
                return sighting
            event.clear()
            await event.wait()

    def _on_detection(self, device: BLEDevice, adv: AdvertisementData) -> None:
        self.advertisements += 1
        address = device.address.upper()
        index = self._owners.get(address)
        if index is None:
            index = self._bind(address, adv.local_name or device.name, adv.service_uuids)
            if index is None:
                return
        self.sightings[index] = Sighting(device, adv.rssi, time.monotonic())
        self._events[index].set()

    def _bind(self, address: str, name: str | None, service_uuids: list[str]) -> int | None:
        for index, spec in enumerate(self.specs):
            if index in self.bound or not spec.matches(address, name):
                continue
            profile = PROFILES[spec.profile]
            if spec.address is None and profile.advertised and profile not in recognise(service_uuids, name):
                continue  # a name match that does not advertise the configured profile
            self.bound[index] = address
            self._owners[address] = index
            logger.info("%s (%s, %s) is %s", spec.key, spec.athlete, spec.profile, address)
            return index
        return None

"""An in-process radio: Bumble controllers on one LocalLink, each driven by a Bumble host and device.

Nothing here is global: every ``VirtualAir`` owns its link, controllers and devices, and is closed explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from bumble import hci
from bumble.controller import Controller
from bumble.device import Advertisement, Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from ingest.virtual.bumble.client import BumbleClient
from ingest.virtual.bumble.common import is_static_random, parse_address
from ingest.virtual.bumble.scanner import BumbleScanner

logger = logging.getLogger(__name__)

AdvertisementListener = Callable[[Advertisement], None]

DEFAULT_CENTRAL_ADDRESS = "C0:00:00:00:CE:01"


class VirtualController(Controller):
    """A Bumble controller whose LE Create Connection Cancel completes the pending connection.

    Bumble 0.0.236's controller acknowledges the cancel but keeps the pending connection and never reports its
    end, so a connect to an absent peer hangs, the next connect is refused with Command Disallowed (0x0C) and a
    late completion trips a host assertion. As the Core specification requires (Vol 4, Part E, 7.8.13), this
    controller clears the pending connection and then reports LE Connection Complete with status 0x02
    (Unknown Connection Identifier), which Bumble's ``Device.connect`` turns into a timeout.
    The cancel always returns success: if the connection completed just before it, the caller receives that
    connection instead of an orphaned link.
    """

    def on_hci_le_create_connection_cancel_command(
        self, command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        """Clear the pending connection and report its cancellation after the Command Complete event."""
        del command
        pending = self.pending_le_connection
        if pending is not None:
            self.pending_le_connection = None
            cancelled = hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                connection_handle=0,
                role=hci.Role.CENTRAL,
                peer_address_type=pending.peer_address_type,
                peer_address=pending.peer_address,
                connection_interval=0,
                peripheral_latency=0,
                supervision_timeout=0,
                central_clock_accuracy=0,
            )
            # Scheduled, so the host sees Command Complete first and the cancellation second.
            asyncio.get_running_loop().call_soon(self.send_hci_packet, cancelled)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)


class VirtualAir:
    """One in-process BLE radio space: a shared central plus any number of peripheral devices.

    Use ``client_kwargs()`` / ``scanner_kwargs()`` to point ``bleak.BleakClient`` / ``bleak.BleakScanner`` at it.
    """

    def __init__(
        self, *, central_address: str = DEFAULT_CENTRAL_ADDRESS, advertising_interval_ms: float = 20.0
    ) -> None:
        self.central_address = central_address
        self.advertising_interval_ms = advertising_interval_ms
        self.connect_lock = asyncio.Lock()
        """Serialises connects: a Bumble central allows one pending LE connection at a time."""
        self._link: LocalLink | None = None
        self._controllers: dict[Device, Controller] = {}
        self._central: Device | None = None
        self._central_lock = asyncio.Lock()
        self._scan_lock = asyncio.Lock()
        self._advertisement_listeners: list[AdvertisementListener] = []

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def link(self) -> LocalLink:
        """The link all controllers share (for fault injection)."""
        if self._link is None:
            raise RuntimeError("VirtualAir is not started")
        return self._link

    def controller_of(self, device: Device) -> Controller:
        """The virtual controller under ``device`` (for fault injection such as link loss)."""
        return self._controllers[device]

    async def start(self) -> None:
        """Create the link; devices can be added afterwards."""
        if self._link is None:
            self._link = LocalLink()

    async def close(self) -> None:
        """Drop every connection, stop advertising and scanning, and forget all devices."""
        if self._link is None:
            return
        for device in self._controllers:
            for connection in list(device.connections.values()):
                with contextlib.suppress(Exception):
                    await connection.disconnect()
        for device, controller in self._controllers.items():
            with contextlib.suppress(Exception):
                await device.power_off()  # flushes the host, cancelling pending advertising restarts
            controller.le_legacy_advertiser.stop()
            for advertising_set in controller.advertising_sets.values():
                advertising_set.stop()
            controller.le_scan_enable = False
        self._advertisement_listeners.clear()
        self._controllers.clear()
        self._central = None
        self._link = None

    async def new_peripheral_device(self, name: str, address: str) -> Device:
        """A powered-on device with its own controller on this air; it does not advertise yet."""
        return await self._new_device(name, address)

    async def central(self) -> Device:
        """The central shared by all bleak clients and scanners on this air (created on first use)."""
        async with self._central_lock:
            if self._central is None:
                self._central = await self._new_device("recovery-monitor central", self.central_address)
            return self._central

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that make ``bleak.BleakClient`` use this air."""
        return {"backend": BumbleClient, "air": self}

    def scanner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that make ``bleak.BleakScanner`` use this air."""
        return {"backend": BumbleScanner, "air": self}

    async def add_advertisement_listener(self, listener: AdvertisementListener) -> None:
        """Call ``listener`` for every advertisement the central receives; scanning runs while any listener does."""
        central = await self.central()
        async with self._scan_lock:
            central.on(Device.EVENT_ADVERTISEMENT, listener)
            self._advertisement_listeners.append(listener)
            if not central.is_scanning:
                await central.start_scanning(active=True, filter_duplicates=False)

    async def remove_advertisement_listener(self, listener: AdvertisementListener) -> None:
        """Stop calling ``listener``; scanning stops with the last listener."""
        central = self._central
        if central is None or listener not in self._advertisement_listeners:
            return
        async with self._scan_lock:
            central.remove_listener(Device.EVENT_ADVERTISEMENT, listener)
            self._advertisement_listeners.remove(listener)
            if not self._advertisement_listeners and central.is_scanning:
                await central.stop_scanning()

    async def _new_device(self, name: str, address: str) -> Device:
        link = self.link
        typed_address = parse_address(address)
        if not is_static_random(typed_address):
            raise ValueError(f"{address}: expected a static random address (first octet 0xC0-0xFF)")
        if any(device.random_address == typed_address for device in self._controllers):
            raise ValueError(f"{address}: already used by another device on this air")
        controller = VirtualController(f"ctl {name}", link=link)
        device = Device(name=name, address=typed_address, host=Host(controller, AsyncPipeSink(controller)))
        await device.power_on()
        self._controllers[device] = controller
        logger.debug("virtual device %s at %s is on the air", name, typed_address)
        return device

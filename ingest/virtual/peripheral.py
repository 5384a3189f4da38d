"""Shared machinery of the virtual sensors: a Bumble GATT server with one notifying data characteristic.

Ground truth for tests: the link (``ingest.virtual.chaos_air.ChaosLink``) reports every notification of the data
characteristic that actually reached a live connection at the gateway's controller; ``record_delivery`` turns it
into ``delivered`` counters (samples, notifications, malformed payloads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from bumble import att, gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device

from ingest.ble.errors import DecodeError

if TYPE_CHECKING:
    from ingest.virtual.bumble.air import VirtualAir

logger = logging.getLogger(__name__)

_LEGACY_ADVERTISING_DATA_SIZE = 31


def subscribed_bearers(
    device: Device | None, characteristic: gatt.Characteristic[Any], bits: int = 0x03
) -> list[att.Bearer]:
    """Bearers that enabled notifications or indications (CCCD ``bits``) on ``characteristic``."""
    if device is None:
        return []
    return [
        bearer
        for bearer, cccds in device.gatt_server.subscribers.items()
        if (cccd := cccds.get(characteristic.handle)) and len(cccd) == 2 and cccd[0] & bits
    ]


_SIG_BASE_SUFFIX = "-0000-1000-8000-00805f9b34fb"


def bumble_uuid(text: str) -> UUID:
    """A Bumble UUID from bleak's 128-bit string, shortened to 16 bits for SIG-assigned numbers."""
    text = text.lower()
    if text.startswith("0000") and text.endswith(_SIG_BASE_SUFFIX):
        return UUID.from_16_bits(int(text[4:8], 16))
    return UUID(text)


def advertising_data(name: str, service_uuid: str) -> bytes:
    """Flags, the service UUID (16-bit SIG or 128-bit; none when empty) and the name in a legacy advertisement."""
    flags = AdvertisingData.Flags.LE_GENERAL_DISCOVERABLE_MODE | AdvertisingData.Flags.BR_EDR_NOT_SUPPORTED
    structures: list[tuple[int, bytes]] = [(AdvertisingData.Type.FLAGS, bytes([flags]))]
    if service_uuid:
        uuid = bumble_uuid(service_uuid)
        if len(bytes(uuid)) == 2:
            structures.append((AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, bytes(uuid)))
        else:
            structures.append((AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, bytes(uuid)))
    structures.append((AdvertisingData.Type.COMPLETE_LOCAL_NAME, name.encode("utf-8")))
    data = bytes(AdvertisingData(structures))
    if len(data) > _LEGACY_ADVERTISING_DATA_SIZE:
        raise ValueError(f"{name}: name too long for a {_LEGACY_ADVERTISING_DATA_SIZE}-byte advertisement")
    return data


class GattPeripheral:
    """Bumble GATT server plumbing: one notifying ``data`` characteristic, a battery level, advertising and
    subscriptions. Subclasses implement ``data_uuid`` and usually ``services``.
    """

    service_uuid: str = ""
    kind: str = "sensor"
    """What the device is called in error messages."""
    subscription_bits: int = 0x03
    """CCCD bits that count as subscribed to ``data`` (0x01 notifications, 0x02 indications)."""

    def __init__(self, air: VirtualAir, name: str, address: str, *, battery_pct: int = 90) -> None:
        if not 0 <= battery_pct <= 100:
            raise ValueError(f"battery level {battery_pct} % is outside 0-100")
        self.air = air
        self.name = name
        self.address = address
        self.battery_pct = battery_pct
        self._device: Device | None = None
        self._subscription_changed = asyncio.Event()
        self.last_sent: bytes | None = None
        """The last payload notified on ``data`` (ground truth for tests that check a client's reading)."""
        self.data = gatt.Characteristic(
            bumble_uuid(self.data_uuid()),
            gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.Permissions(0),
            b"",
        )
        self.data.on(gatt.Characteristic.EVENT_SUBSCRIPTION, self._on_subscription)
        self.battery_level: gatt.Characteristic[bytes] = gatt.Characteristic(
            gatt.GATT_BATTERY_LEVEL_CHARACTERISTIC,
            gatt.Characteristic.Properties.READ | gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.READABLE,
            gatt.CharacteristicValue(read=lambda _connection: bytes([self.battery_pct])),
        )

    # To override

    def data_uuid(self) -> str:
        raise NotImplementedError

    def services(self) -> list[gatt.Service]:
        """Every service of the device; the default is the battery service only."""
        return [gatt.Service(gatt.GATT_BATTERY_SERVICE, [self.battery_level])]

    def advertisement(self) -> bytes:
        """The legacy advertising data; the default is flags, ``service_uuid`` and the name."""
        return advertising_data(self.name, self.service_uuid)

    # Lifecycle

    @property
    def device(self) -> Device:
        """The Bumble device (after ``start``)."""
        if self._device is None:
            raise RuntimeError(f"{self.name}: {self.kind} is not started")
        return self._device

    @property
    def data_handle(self) -> int:
        return self.data.handle

    @property
    def connections(self) -> list[Connection]:
        """Current connections from centrals."""
        return list(self._device.connections.values()) if self._device is not None else []

    async def start(self) -> None:
        """Power on (first time only) and advertise, restarting after every disconnection."""
        if self._device is None:
            self._device = await self.air.new_peripheral_device(self.name, self.address)
            self._device.add_services(self.services())
        interval = self.air.advertising_interval_ms
        await self._device.start_advertising(
            auto_restart=True,
            advertising_data=self.advertisement(),
            advertising_interval_min=interval,
            advertising_interval_max=interval,
        )

    async def stop(self) -> None:
        """Stop advertising and drop every connection (silent until ``start``)."""
        device = self._device
        if device is None:
            return
        await device.stop_advertising()
        for connection in self.connections:
            with contextlib.suppress(Exception):
                await connection.disconnect()
        await device.host.flush()  # cancels the advertising restarts scheduled by those disconnections

    def _data_bearers(self) -> list[att.Bearer]:
        """Bearers subscribed to the data characteristic (per ``subscription_bits``)."""
        return subscribed_bearers(self._device, self.data, self.subscription_bits)

    @property
    def subscribed(self) -> bool:
        return bool(self._data_bearers())

    async def wait_subscribed(self, timeout: float) -> None:
        """Wait until a central enables notifications of the data characteristic; TimeoutError after ``timeout``."""
        async with asyncio.timeout(timeout):
            while not self.subscribed:
                self._subscription_changed.clear()
                await self._subscription_changed.wait()

    async def _notify_data(self, payload: bytes) -> bool:
        """Notify subscribers of the data characteristic; False (nothing sent) when nobody is subscribed."""
        if not self.subscribed:
            return False
        await self.device.notify_subscribers(self.data, payload)
        self.last_sent = payload
        return True

    def _on_subscription(self, bearer: att.Bearer, notify_enabled: bool, indicate_enabled: bool) -> None:
        self._subscription_changed.set()


class VirtualPeripheral(GattPeripheral):
    """Base of the virtual sensors: build ``services`` with ``data`` as the notifying characteristic.

    Subclasses implement ``samples_in(payload)`` (samples in one valid payload; DecodeError when malformed).
    """

    def __init__(self, air: VirtualAir, name: str, address: str, *, battery_pct: int = 90) -> None:
        super().__init__(air, name, address, battery_pct=battery_pct)
        self.notifications_sent = 0
        self.notifications_delivered = 0
        self.samples_delivered = 0
        self.malformed_delivered = 0

    def samples_in(self, payload: bytes) -> int:
        raise NotImplementedError

    async def notify(self, payload: bytes) -> bool:
        """Notify subscribers of the data characteristic; False (nothing sent) when nobody is subscribed."""
        if not await self._notify_data(payload):
            return False
        self.notifications_sent += 1
        return True

    def record_delivery(self, payload: bytes) -> None:
        """Called by the link for every data notification that reached the gateway's controller."""
        self.notifications_delivered += 1
        try:
            self.samples_delivered += self.samples_in(payload)
        except DecodeError:
            self.malformed_delivered += 1

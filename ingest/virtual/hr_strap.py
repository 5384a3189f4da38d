"""A virtual chest strap: a Bumble GATT server speaking the Heart Rate (0x180D) and Battery (0x180F) services.

Counters are ground truth for tests and demos: a notification counts as *delivered* when at least one
connection had notifications enabled on the Heart Rate Measurement characteristic when it was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bumble import att, gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection

from ingest.ble.heart_rate import (
    CONTROL_POINT_NOT_SUPPORTED,
    HEART_RATE_MEASUREMENT_UUID,
    RESET_ENERGY_EXPENDED,
    RR_TICKS_PER_SECOND,
    encode_heart_rate_notifications,
)
from ingest.virtual.peripheral import _LEGACY_ADVERTISING_DATA_SIZE, GattPeripheral

if TYPE_CHECKING:
    from ingest.virtual.bumble.air import VirtualAir

logger = logging.getLogger(__name__)

ADVERTISED_TX_POWER_DBM = 0
ENERGY_PER_MEASUREMENT_KJ = 1
"""The Energy Expended counter grows by this much on every ``send``."""
_MIN_PAYLOAD = 5
_UINT16_MAX = 0xFFFF


def quantise_rr_ms(rr_ms: float) -> int:
    """An RR interval in ms rounded to whole 1/1024 s ticks; ValueError outside 1-65535 ticks."""
    ticks = round(rr_ms * RR_TICKS_PER_SECOND / 1000)
    if not 1 <= ticks <= _UINT16_MAX:
        raise ValueError(f"RR interval {rr_ms} ms is {ticks} ticks of 1/1024 s, expected 1-65535")
    return ticks


class VirtualHeartRateStrap(GattPeripheral):
    """A heart-rate strap on a ``VirtualAir``.

    ``max_payload`` caps every notification below the negotiated MTU (real straps often keep 20-byte
    notifications); by default notifications use the smallest MTU - 3 among subscribed connections.
    """

    kind = "strap"
    subscription_bits = 0x01  # notifications only

    def __init__(
        self,
        air: VirtualAir,
        name: str,
        address: str,
        location: int = 1,
        battery_pct: int = 90,
        *,
        max_payload: int | None = None,
    ) -> None:
        if not 0 <= location <= 0xFF:
            raise ValueError(f"body sensor location {location} is outside 0-255")
        super().__init__(air, name, address, battery_pct=battery_pct)
        if max_payload is not None and max_payload < _MIN_PAYLOAD:
            raise ValueError(f"max_payload {max_payload} leaves no room for flags, a uint16 heart rate and energy")
        self.location = location
        self.max_payload = max_payload
        self.energy_kj = 0
        self.notifications_delivered = 0
        self.rr_delivered = 0
        self.hr_delivered = 0
        self.delivered_rr_ms: list[float] = []

    def data_uuid(self) -> str:
        return HEART_RATE_MEASUREMENT_UUID

    def services(self) -> list[gatt.Service]:
        """Heart Rate (measurement, body sensor location, control point) and Battery."""
        return [
            gatt.Service(
                gatt.GATT_HEART_RATE_SERVICE,
                [
                    self.data,
                    gatt.Characteristic(
                        gatt.GATT_BODY_SENSOR_LOCATION_CHARACTERISTIC,
                        gatt.Characteristic.Properties.READ,
                        gatt.Characteristic.READABLE,
                        bytes([self.location]),
                    ),
                    gatt.Characteristic(
                        gatt.GATT_HEART_RATE_CONTROL_POINT_CHARACTERISTIC,
                        gatt.Characteristic.Properties.WRITE,
                        gatt.Characteristic.WRITEABLE,
                        gatt.CharacteristicValue(write=self._write_control_point),
                    ),
                ],
            ),
            *super().services(),
        ]

    def advertisement(self) -> bytes:
        """Flags, the name, the Heart Rate service and (when it fits) the TX power level."""
        flags = AdvertisingData.Flags.LE_GENERAL_DISCOVERABLE_MODE | AdvertisingData.Flags.BR_EDR_NOT_SUPPORTED
        structures: list[tuple[int, bytes]] = [
            (AdvertisingData.Type.FLAGS, bytes([flags])),
            (AdvertisingData.Type.COMPLETE_LOCAL_NAME, self.name.encode("utf-8")),
            (AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, bytes(UUID.from_16_bits(0x180D))),
        ]
        tx_power = (AdvertisingData.Type.TX_POWER_LEVEL, ADVERTISED_TX_POWER_DBM.to_bytes(1, "little", signed=True))
        if len(bytes(AdvertisingData([*structures, tx_power]))) <= _LEGACY_ADVERTISING_DATA_SIZE:
            structures.append(tx_power)
        data = bytes(AdvertisingData(structures))
        if len(data) > _LEGACY_ADVERTISING_DATA_SIZE:
            raise ValueError(f"{self.name}: name too long for a {_LEGACY_ADVERTISING_DATA_SIZE}-byte advertisement")
        return data

    async def send(self, bpm: int, rr_ms: Sequence[float] = (), contact: bool = True) -> int:
        """Notify one measurement, its RR intervals split over as many notifications as the payload size needs.

        The first notification carries Energy Expended. Returns the number of RR intervals delivered
        (0 when nobody is subscribed).
        """
        if not 0 <= bpm <= _UINT16_MAX:
            raise ValueError(f"heart rate {bpm} bpm is outside 0-65535")
        ticks = [quantise_rr_ms(value) for value in rr_ms]
        self.energy_kj = min(self.energy_kj + ENERGY_PER_MEASUREMENT_KJ, _UINT16_MAX)
        limit = self._payload_limit()
        if limit is None:
            return 0
        try:
            notifications = encode_heart_rate_notifications(bpm, ticks, self.energy_kj, contact, max_payload=limit)
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from exc
        delivered = offset = 0
        for payload, count in notifications:
            chunk, offset = ticks[offset : offset + count], offset + count
            if await self._notify(payload):
                self.hr_delivered += 1
                self.rr_delivered += count
                self.delivered_rr_ms.extend(value * 1000 / RR_TICKS_PER_SECOND for value in chunk)
                delivered += count
        return delivered

    async def send_raw(self, payload: bytes) -> bool:
        """Notify an arbitrary 0x2A37 payload (for malformed-packet tests); True when delivered."""
        return await self._notify(bytes(payload))

    async def set_battery_level(self, battery_pct: int) -> None:
        """Change the battery level and notify subscribers of 0x2A19."""
        if not 0 <= battery_pct <= 100:
            raise ValueError(f"battery level {battery_pct} % is outside 0-100")
        self.battery_pct = battery_pct
        if self._device is not None:
            await self._device.notify_subscribers(self.battery_level, bytes([battery_pct]))

    # Internals

    def _payload_limit(self) -> int | None:
        bearers = self._data_bearers()
        if not bearers:
            return None
        limit = min(bearer.att_mtu for bearer in bearers) - 3
        return min(limit, self.max_payload) if self.max_payload is not None else limit

    async def _notify(self, payload: bytes) -> bool:
        if not await self._notify_data(payload):
            return False
        self.notifications_delivered += 1
        return True

    def _on_subscription(self, bearer: att.Bearer, notify_enabled: bool, indicate_enabled: bool) -> None:
        logger.debug("%s: notifications %s", self.name, "enabled" if notify_enabled else "disabled")
        super()._on_subscription(bearer, notify_enabled, indicate_enabled)

    def _write_control_point(self, connection: Connection, value: bytes) -> None:
        if bytes(value) != bytes([RESET_ENERGY_EXPENDED]):
            raise att.ATT_Error(CONTROL_POINT_NOT_SUPPORTED)
        self.energy_kj = 0

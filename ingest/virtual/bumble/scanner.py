"""A bleak scanner backend that listens on a ``VirtualAir``'s central."""

from __future__ import annotations

import logging
import struct
from typing import TYPE_CHECKING, Any, Literal, get_args

from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bumble.core import AdvertisingData
from bumble.device import Advertisement

from ingest.virtual.bumble.common import BumbleDeviceDetails, bleak_uuid

if TYPE_CHECKING:
    from ingest.virtual.bumble.air import VirtualAir

logger = logging.getLogger(__name__)

_ServiceUuidList = Literal[
    AdvertisingData.Type.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
]
_ServiceData = Literal[
    AdvertisingData.Type.SERVICE_DATA_16_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_32_BIT_UUID,
    AdvertisingData.Type.SERVICE_DATA_128_BIT_UUID,
]
# the Literal types select Bumble's typed overloads of `AdvertisingData.get_all` (lists of UUIDs, (UUID, data))
_SERVICE_UUID_LISTS: tuple[_ServiceUuidList, ...] = get_args(_ServiceUuidList)
_SERVICE_DATA: tuple[_ServiceData, ...] = get_args(_ServiceData)


def advertisement_data_from(advertisement: Advertisement) -> AdvertisementData:
    """Translate a Bumble advertisement into bleak's ``AdvertisementData``."""
    data = advertisement.data
    local_name = data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.Type.SHORTENED_LOCAL_NAME
    )
    service_uuids: list[str] = []
    for list_type in _SERVICE_UUID_LISTS:
        for uuids in data.get_all(list_type):
            for uuid in uuids:
                if (text := bleak_uuid(uuid)) not in service_uuids:
                    service_uuids.append(text)
    service_data: dict[str, bytes] = {}
    for data_type in _SERVICE_DATA:
        for uuid, payload in data.get_all(data_type):
            service_data[bleak_uuid(uuid)] = bytes(payload)
    manufacturer_data: dict[int, bytes] = {}
    for raw in data.get_all(AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA, raw=True):
        if len(raw) >= 2:
            manufacturer_data[struct.unpack_from("<H", raw)[0]] = bytes(raw[2:])
    tx_power_fields = data.get_all(AdvertisingData.Type.TX_POWER_LEVEL, raw=True)
    tx_power = struct.unpack("<b", tx_power_fields[0])[0] if tx_power_fields and len(tx_power_fields[0]) == 1 else None
    return AdvertisementData(
        local_name=local_name if isinstance(local_name, str) else None,
        manufacturer_data=manufacturer_data,
        service_data=service_data,
        service_uuids=service_uuids,
        tx_power=tx_power,
        rssi=advertisement.rssi,
        platform_data=(advertisement,),
    )


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend for a ``VirtualAir``; pass ``**air.scanner_kwargs()`` to ``BleakScanner``."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        *,
        air: VirtualAir,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        del scanning_mode  # the virtual controller answers active and passive scans alike
        self._air = air
        self._scanning = False

    async def start(self) -> None:
        """Start reporting advertisements (clears ``seen_devices``)."""
        self.seen_devices = {}
        if not self._scanning:
            await self._air.add_advertisement_listener(self._on_advertisement)
            self._scanning = True

    async def stop(self) -> None:
        """Stop reporting advertisements."""
        if self._scanning:
            self._scanning = False
            await self._air.remove_advertisement_listener(self._on_advertisement)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        adv = advertisement_data_from(advertisement)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        key = str(advertisement.address)
        previous = self.seen_devices.get(key)
        name = adv.local_name or (previous[0].name if previous else None)
        device = self.create_or_update_device(key, key, name, BumbleDeviceDetails(address=advertisement.address), adv)
        self.call_detection_callbacks(device, adv)

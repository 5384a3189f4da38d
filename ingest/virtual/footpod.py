"""A virtual footpod: Running Speed and Cadence service (0x1814) plus battery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bumble import gatt

from ingest.ble.rsc import (
    RSC_FEATURE_UUID,
    RSC_MEASUREMENT_UUID,
    RSC_SERVICE_UUID,
    SENSOR_LOCATION_UUID,
    RSCFeature,
    decode_rsc_measurement,
    encode_rsc_feature,
    encode_rsc_measurement,
)
from ingest.virtual.peripheral import VirtualPeripheral, bumble_uuid

if TYPE_CHECKING:
    from ingest.virtual.bumble.air import VirtualAir

IN_SHOE = 2
FEATURE = RSCFeature(
    stride_length=True, total_distance=True, walk_run_status=True, calibration=False, multiple_locations=False
)


class VirtualFootpod(VirtualPeripheral):
    """Notifies RSC Measurements with stride length, total distance and the walking/running bit."""

    service_uuid = RSC_SERVICE_UUID

    def __init__(self, air: VirtualAir, name: str, address: str, *, battery_pct: int = 80) -> None:
        super().__init__(air, name, address, battery_pct=battery_pct)
        self.total_distance_m = 0.0

    def data_uuid(self) -> str:
        return RSC_MEASUREMENT_UUID

    def services(self) -> list[gatt.Service]:
        read = gatt.Characteristic.Properties.READ
        rsc = gatt.Service(
            bumble_uuid(RSC_SERVICE_UUID),
            [
                self.data,
                gatt.Characteristic(
                    bumble_uuid(RSC_FEATURE_UUID), read, gatt.Characteristic.READABLE, encode_rsc_feature(FEATURE)
                ),
                gatt.Characteristic(
                    bumble_uuid(SENSOR_LOCATION_UUID), read, gatt.Characteristic.READABLE, bytes([IN_SHOE])
                ),
            ],
        )
        return [rsc, *super().services()]

    def samples_in(self, payload: bytes) -> int:
        decode_rsc_measurement(payload)
        return 1

    async def send(self, speed_mps: float, cadence_spm: int, stride_length_m: float, elapsed_s: float) -> bool:
        """Advance the distance by ``speed × elapsed_s`` and notify one measurement; True when sent."""
        self.total_distance_m += speed_mps * elapsed_s
        payload = encode_rsc_measurement(
            speed_mps,
            min(int(cadence_spm), 255),
            running=speed_mps >= 2.0,
            stride_length_m=stride_length_m,
            total_distance_m=self.total_distance_m,
        )
        return await self.notify(payload)

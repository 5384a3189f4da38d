"""A virtual muscle-load pod (left or right leg): our open stride-frame service, see docs/ble-muscle-load-service.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bumble import gatt

from ingest.ble.muscle_load import (
    MUSCLE_LOAD_SERVICE_UUID,
    POD_INFO_UUID,
    STRIDE_FRAME_UUID,
    Side,
    decode_stride_frame,
    encode_pod_info,
    encode_stride_frame,
)
from ingest.virtual.peripheral import VirtualPeripheral, bumble_uuid

if TYPE_CHECKING:
    from ingest.virtual.bumble.air import VirtualAir
    from ingest.virtual.running import StrideEvent


class VirtualMusclePod(VirtualPeripheral):
    """Notifies one stride frame per ground contact of its leg; the sequence number counts every stride."""

    service_uuid = MUSCLE_LOAD_SERVICE_UUID

    def __init__(
        self,
        air: VirtualAir,
        name: str,
        address: str,
        side: Side,
        *,
        muscle_code: int = 1,
        strides_per_min: int = 86,
        battery_pct: int = 70,
    ) -> None:
        super().__init__(air, name, address, battery_pct=battery_pct)
        self.side: Side = side
        self.muscle_code = muscle_code
        self.strides_per_min = strides_per_min
        self.sequence = 0

    def data_uuid(self) -> str:
        return STRIDE_FRAME_UUID

    def services(self) -> list[gatt.Service]:
        info = gatt.Characteristic(
            bumble_uuid(POD_INFO_UUID),
            gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE,
            encode_pod_info(self.side, self.muscle_code, min(self.strides_per_min, 255)),
        )
        return [gatt.Service(bumble_uuid(MUSCLE_LOAD_SERVICE_UUID), [self.data, info]), *super().services()]

    def samples_in(self, payload: bytes) -> int:
        decode_stride_frame(payload)
        return 1

    async def send_stride(self, stride: StrideEvent, sensor_ms: int) -> bool:
        """Encode one stride at ``sensor_ms`` (initial contact on the pod clock); the sequence advances regardless."""
        payload = encode_stride_frame(
            self.sequence,
            self.side,
            sensor_ms,
            muscle_code=self.muscle_code,
            gct_ms=round(stride.gct_ms),
            emg_rms_pct_mvc=stride.emg_rms_pct_mvc,
            impact_g=stride.impact_g,
        )
        self.sequence += 1
        return await self.notify(payload)

"""A virtual cycling power meter: Cycling Power service (0x1818) with pedal balance and crank/wheel data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bumble import gatt

from ingest.ble.cycling_power import (
    CRANK_EVENT_TICKS_PER_S,
    CYCLING_POWER_FEATURE_UUID,
    CYCLING_POWER_MEASUREMENT_UUID,
    CYCLING_POWER_SERVICE_UUID,
    WHEEL_EVENT_TICKS_PER_S,
    CyclingPowerMeasurement,
    decode_cycling_power_measurement,
    encode_cycling_power_measurement,
)
from ingest.ble.rsc import SENSOR_LOCATION_UUID
from ingest.virtual.peripheral import VirtualPeripheral, bumble_uuid

if TYPE_CHECKING:
    from ingest.virtual.bumble.air import VirtualAir

LEFT_CRANK = 5
FEATURE_MASK = (1 << 0) | (1 << 2) | (1 << 3)  # pedal balance, wheel and crank revolution data


class VirtualPowerMeter(VirtualPeripheral):
    """Notifies CP Measurements; crank and wheel counters and event times wrap as real meters' do."""

    service_uuid = CYCLING_POWER_SERVICE_UUID

    def __init__(
        self, air: VirtualAir, name: str, address: str, *, wheel_circumference_m: float = 2.105, battery_pct: int = 75
    ) -> None:
        super().__init__(air, name, address, battery_pct=battery_pct)
        self.wheel_circumference_m = wheel_circumference_m
        self.crank_revolutions = 0.0
        self.wheel_revolutions = 0.0
        self.time_s = 0.0
        self.last_crank_event_s = 0.0
        self.last_wheel_event_s = 0.0

    def data_uuid(self) -> str:
        return CYCLING_POWER_MEASUREMENT_UUID

    def services(self) -> list[gatt.Service]:
        read = gatt.Characteristic.Properties.READ
        cps = gatt.Service(
            bumble_uuid(CYCLING_POWER_SERVICE_UUID),
            [
                self.data,
                gatt.Characteristic(
                    bumble_uuid(CYCLING_POWER_FEATURE_UUID),
                    read,
                    gatt.Characteristic.READABLE,
                    FEATURE_MASK.to_bytes(4, "little"),
                ),
                gatt.Characteristic(
                    bumble_uuid(SENSOR_LOCATION_UUID), read, gatt.Characteristic.READABLE, bytes([LEFT_CRANK])
                ),
            ],
        )
        return [cps, *super().services()]

    def samples_in(self, payload: bytes) -> int:
        decode_cycling_power_measurement(payload)
        return 1

    async def send(self, power_w: int, cadence_rpm: float, speed_mps: float, left_pct: float, elapsed_s: float) -> bool:
        """Advance the counters by ``elapsed_s`` and notify one measurement; True when sent.

        Event times are those of the last *whole* revolution, as a real crank or wheel sensor reports them.
        """
        self.time_s += elapsed_s
        crank_rate = cadence_rpm / 60
        wheel_rate = speed_mps / self.wheel_circumference_m
        self.crank_revolutions, self.last_crank_event_s = _advance(
            self.crank_revolutions, crank_rate, elapsed_s, self.time_s, self.last_crank_event_s
        )
        self.wheel_revolutions, self.last_wheel_event_s = _advance(
            self.wheel_revolutions, wheel_rate, elapsed_s, self.time_s, self.last_wheel_event_s
        )
        measurement = CyclingPowerMeasurement(
            power_w=power_w,
            pedal_balance_raw=round(left_pct * 2),
            pedal_balance_left_reference=True,
            wheel_revolutions=int(self.wheel_revolutions) % (1 << 32),
            last_wheel_event_ticks=round(self.last_wheel_event_s * WHEEL_EVENT_TICKS_PER_S) % 0x10000,
            crank_revolutions=int(self.crank_revolutions) % 0x10000,
            last_crank_event_ticks=round(self.last_crank_event_s * CRANK_EVENT_TICKS_PER_S) % 0x10000,
        )
        return await self.notify(encode_cycling_power_measurement(measurement))


def _advance(
    revolutions: float, rate: float, elapsed_s: float, now_s: float, last_event_s: float
) -> tuple[float, float]:
    """Revolutions after ``elapsed_s`` at ``rate`` per s, and the time of the last whole revolution."""
    after = revolutions + rate * elapsed_s
    if rate > 0 and int(after) > int(revolutions):
        last_event_s = now_s - (after - int(after)) / rate
    return after, last_event_s

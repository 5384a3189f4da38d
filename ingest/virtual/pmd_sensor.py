"""A Polar H10-like sensor: the PMD service (ECG and ACC) beside the standard Heart Rate and Battery services.

Like an H10 it advertises its name and the Heart Rate service (never PMD), answers PMD control point commands as
Polar's ``online_measurement`` document describes them (see ``ingest.ble.polar_pmd``) and streams only what a client
started, with the settings it started it with:

- a get-settings answer lists every value offered (H10: ACC 25/50/100/200 Hz, 16 bit, ±2/4/8 G; ECG 130 Hz, 14 bit);
- a start request is checked against the offer: an unknown or repeated setting is 5 (invalid parameter), a sample
  rate not offered 8, a resolution 7, a range 9, channels 11, ECG with an ATT MTU below 232 is 10 (invalid MTU), a
  second start 6 (already in state), a type not offered 3 (not supported); a setting left out takes the offered
  value when only one is offered, else 5;
- raw ACC frames carry mG unscaled (saturated at the started range); compressed frames carry samples divided by
  ``factor``, announced in the ACC start response, in delta blocks of at least 2 bits;
- ECG frames are raw int24 µV, 73 samples each at 130 Hz.
Every stream stops when the link drops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bumble import att, gatt
from bumble.device import Connection

from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import (
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    encode_heart_rate_notifications,
)
from ingest.ble.polar_pmd import (
    ECG_FRAME_SAMPLES,
    ECG_MIN_ATT_MTU,
    OP_GET_SETTINGS,
    OP_START,
    OP_STOP,
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
    SETTING_CHANNELS,
    SETTING_FACTOR,
    SETTING_RANGE,
    SETTING_RESOLUTION,
    SETTING_SAMPLE_RATE,
    STATUS_ALREADY_IN_STATE,
    STATUS_INVALID_CHANNELS,
    STATUS_INVALID_MTU,
    STATUS_INVALID_OP_CODE,
    STATUS_INVALID_PARAMETER,
    STATUS_INVALID_RANGE,
    STATUS_INVALID_RESOLUTION,
    STATUS_INVALID_SAMPLE_RATE,
    STATUS_NOT_SUPPORTED,
    STATUS_OK,
    TYPE_ACC,
    TYPE_ECG,
    decode_pmd_command,
    decode_pmd_settings,
    encode_acc_frame,
    encode_ecg_frame,
    encode_pmd_control_response,
    encode_pmd_features,
    encode_pmd_settings,
    pmd_samples_in,
)
from ingest.virtual.hr_strap import quantise_rr_ms
from ingest.virtual.peripheral import VirtualPeripheral, bumble_uuid, subscribed_bearers

if TYPE_CHECKING:
    from ingest.virtual.bumble.air import VirtualAir

logger = logging.getLogger(__name__)

Offer = Mapping[int, Sequence[int]]
"""Setting kind → the values a measurement accepts."""
H10_ACC: Offer = {SETTING_SAMPLE_RATE: (25, 50, 100, 200), SETTING_RESOLUTION: (16,), SETTING_RANGE: (2, 4, 8)}
H10_ECG: Offer = {SETTING_SAMPLE_RATE: (130,), SETTING_RESOLUTION: (14,)}
DEFAULT_ACC_RATE_HZ = 50
_INVALID_STATUS = {
    SETTING_SAMPLE_RATE: STATUS_INVALID_SAMPLE_RATE,
    SETTING_RESOLUTION: STATUS_INVALID_RESOLUTION,
    SETTING_RANGE: STATUS_INVALID_RANGE,
    SETTING_CHANNELS: STATUS_INVALID_CHANNELS,
}
CHEST = 1


def check_start(offer: Offer, parameters: bytes) -> tuple[int, dict[int, int]]:
    """Polar's status for a start request's settings against ``offer``, and the settings it starts with."""
    try:
        requested = decode_pmd_settings(parameters)
    except DecodeError:
        return STATUS_INVALID_PARAMETER, {}
    chosen: dict[int, int] = {}
    for kind in sorted(requested):
        value = requested[kind]
        if kind not in offer or len(value) != 1:
            return STATUS_INVALID_PARAMETER, {}
        if value[0] not in offer[kind]:
            return _INVALID_STATUS.get(kind, STATUS_INVALID_PARAMETER), {}
        chosen[kind] = int(value[0])
    for kind, offered in offer.items():
        if kind not in chosen:
            if len(offered) != 1:
                return STATUS_INVALID_PARAMETER, {}
            chosen[kind] = offered[0]
    return STATUS_OK, chosen


class VirtualPmdSensor(VirtualPeripheral):
    """An H10-like sensor on a ``VirtualAir`` (see the module docstring); ``data`` is the PMD data characteristic.

    ``compressed`` selects delta-compressed ACC frames (type 0x81) instead of raw int16 frames (type 0x01); ``acc``
    and ``ecg`` are the settings offered (``None``: the measurement is not offered).
    """

    service_uuid = HEART_RATE_SERVICE_UUID  # an H10 advertises its name and the Heart Rate service, never PMD

    def __init__(
        self,
        air: VirtualAir,
        name: str,
        address: str,
        *,
        compressed: bool = False,
        factor: float = 1.0,
        battery_pct: int = 95,
        acc: Offer | None = H10_ACC,
        ecg: Offer | None = H10_ECG,
    ) -> None:
        super().__init__(air, name, address, battery_pct=battery_pct)
        if not factor > 0:
            raise ValueError(f"factor {factor}: expected a positive multiplier")
        self.compressed = compressed
        self.factor = factor
        self.offers: dict[int, Offer] = {kind: offer for kind, offer in ((TYPE_ECG, ecg), (TYPE_ACC, acc)) if offer}
        self.active: dict[int, dict[int, int]] = {}
        """Measurement type → the settings it was started with, while it streams."""
        self.commands: list[bytes] = []
        self.statuses: list[int] = []
        """The status of every control point command, in order."""
        self.control_point: gatt.Characteristic[bytes] = gatt.Characteristic(
            bumble_uuid(PMD_CONTROL_POINT_UUID),
            gatt.Characteristic.Properties.READ
            | gatt.Characteristic.Properties.WRITE
            | gatt.Characteristic.Properties.INDICATE,
            gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(read=self._read_features, write=self._write_command),
        )
        self.heart_rate_measurement: gatt.Characteristic[bytes] = gatt.Characteristic(
            bumble_uuid(HEART_RATE_MEASUREMENT_UUID),
            gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.Permissions(0),
            b"",
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._watching = False

    def data_uuid(self) -> str:
        return PMD_DATA_UUID

    def services(self) -> list[gatt.Service]:
        """Heart Rate (measurement, chest location), PMD (control point, data) and Battery, as an H10."""
        heart_rate = gatt.Service(
            gatt.GATT_HEART_RATE_SERVICE,
            [
                self.heart_rate_measurement,
                gatt.Characteristic(
                    gatt.GATT_BODY_SENSOR_LOCATION_CHARACTERISTIC,
                    gatt.Characteristic.Properties.READ,
                    gatt.Characteristic.READABLE,
                    bytes([CHEST]),
                ),
            ],
        )
        pmd = gatt.Service(bumble_uuid(PMD_SERVICE_UUID), [self.control_point, self.data])
        return [heart_rate, pmd, *super().services()]

    def samples_in(self, payload: bytes) -> int:
        return pmd_samples_in(payload)

    @property
    def streaming(self) -> bool:
        """True while ACC streams."""
        return TYPE_ACC in self.active

    @property
    def ecg_streaming(self) -> bool:
        return TYPE_ECG in self.active

    @property
    def acc_sample_rate_hz(self) -> int:
        """The started ACC sample rate (the default rate while ACC is stopped)."""
        return self.active.get(TYPE_ACC, {}).get(SETTING_SAMPLE_RATE, DEFAULT_ACC_RATE_HZ)

    async def start(self) -> None:
        await super().start()
        if not self._watching:
            self._watching = True
            self.device.on(self.device.EVENT_CONNECTION, self._on_connection)

    async def send_frame(self, timestamp_ns: int, samples_mg: Sequence[Sequence[float]]) -> bool:
        """Notify one ACC frame (last sample at ``timestamp_ns`` on the sensor clock) while ACC streams.

        Samples saturate at the started range; raw frames carry them in mG, compressed ones divided by ``factor``.
        """
        settings = self.active.get(TYPE_ACC)
        if settings is None:
            return False
        limit = 1000.0 * settings.get(SETTING_RANGE, 8)
        scale = self.factor if self.compressed else 1.0
        raw = [[round(min(max(value, -limit), limit) / scale) for value in sample] for sample in samples_mg]
        return await self.notify(encode_acc_frame(timestamp_ns, raw, compressed=self.compressed))

    async def send_ecg_frame(self, timestamp_ns: int, samples_uv: Sequence[float]) -> bool:
        """Notify one ECG frame of at most 73 samples (µV, last at ``timestamp_ns``) while ECG streams."""
        if TYPE_ECG not in self.active:
            return False
        if len(samples_uv) > ECG_FRAME_SAMPLES:
            raise ValueError(f"{self.name}: {len(samples_uv)} ECG samples, an H10 frame holds {ECG_FRAME_SAMPLES}")
        return await self.notify(encode_ecg_frame(timestamp_ns, [round(value) for value in samples_uv]))

    async def send_heart_rate(self, bpm: int, rr_ms: Sequence[float] = ()) -> int:
        """Notify one Heart Rate Measurement as an H10 does (contact detected, RR, no energy); the RR intervals
        delivered (0 when nobody subscribed)."""
        bearers = subscribed_bearers(self._device, self.heart_rate_measurement, 0x01)
        if not bearers:
            return 0
        ticks = [quantise_rr_ms(value) for value in rr_ms]
        limit = min(bearer.att_mtu for bearer in bearers) - 3
        delivered = 0
        for payload, count in encode_heart_rate_notifications(bpm, ticks, None, True, max_payload=limit):
            await self.device.notify_subscribers(self.heart_rate_measurement, payload)
            delivered += count
        return delivered

    # Control point

    def _read_features(self, connection: Connection) -> bytes:
        return encode_pmd_features(sorted(self.offers))

    def _write_command(self, connection: Connection, value: bytes) -> None:
        try:
            opcode, kind, parameters = decode_pmd_command(value)
        except DecodeError as exc:
            raise att.ATT_Error(att.ErrorCode.INVALID_ATTRIBUTE_LENGTH) from exc
        self.commands.append(bytes(value))
        status, answer = self._answer(connection, opcode, kind, parameters)
        self.statuses.append(status)
        response = encode_pmd_control_response(opcode, kind, status, answer if status == STATUS_OK else b"")
        task = asyncio.get_running_loop().create_task(self._indicate(connection, response))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _answer(self, connection: Connection, opcode: int, kind: int, parameters: bytes) -> tuple[int, bytes]:
        if opcode not in (OP_GET_SETTINGS, OP_START, OP_STOP):
            return STATUS_INVALID_OP_CODE, b""
        offer = self.offers.get(kind)
        if offer is None:
            return STATUS_NOT_SUPPORTED, b""
        if opcode == OP_GET_SETTINGS:
            return STATUS_OK, encode_pmd_settings(offer)
        if opcode == OP_STOP:
            return (STATUS_OK if self.active.pop(kind, None) is not None else STATUS_ALREADY_IN_STATE), b""
        if kind in self.active:
            return STATUS_ALREADY_IN_STATE, b""
        status, chosen = check_start(offer, parameters)
        if status == STATUS_OK and kind == TYPE_ECG and connection.att_mtu < ECG_MIN_ATT_MTU:
            status = STATUS_INVALID_MTU
        if status != STATUS_OK:
            logger.debug("%s: start of type %d refused with status %d", self.name, kind, status)
            return status, b""
        self.active[kind] = chosen
        return STATUS_OK, encode_pmd_settings({SETTING_FACTOR: self.factor}) if kind == TYPE_ACC else b""

    async def _indicate(self, connection: Connection, response: bytes) -> None:
        if not subscribed_bearers(self._device, self.control_point):
            logger.debug("%s: control point response dropped, indications are off", self.name)
            return
        try:
            await self.device.indicate_subscriber(connection, self.control_point, response)
        except Exception as exc:  # the link may drop before the confirmation
            logger.debug("%s: control point indication failed: %s", self.name, exc)

    def _on_connection(self, connection: Connection) -> None:
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)

    def _on_disconnection(self, reason: int) -> None:
        self.active.clear()

"""A Polar-like sensor streaming accelerometer frames over the PMD service (control point + data)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bumble import att, gatt
from bumble.device import Connection

from ingest.ble.errors import DecodeError
from ingest.ble.polar_pmd import (
    OP_GET_SETTINGS,
    OP_START,
    OP_STOP,
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
    SETTING_FACTOR,
    SETTING_RANGE,
    SETTING_RESOLUTION,
    SETTING_SAMPLE_RATE,
    STATUS_ALREADY_IN_STATE,
    STATUS_INVALID_OP_CODE,
    STATUS_NOT_SUPPORTED,
    STATUS_OK,
    TYPE_ACC,
    TYPE_ECG,
    decode_acc_frame,
    decode_pmd_command,
    encode_acc_frame,
    encode_pmd_control_response,
    encode_pmd_features,
    encode_pmd_settings,
)
from ingest.virtual.peripheral import VirtualPeripheral, bumble_uuid, subscribed_bearers

if TYPE_CHECKING:
    from ingest.virtual.bumble.air import VirtualAir

logger = logging.getLogger(__name__)


class VirtualPmdSensor(VirtualPeripheral):
    """Answers PMD control point commands for ACC and streams ACC frames while started (stops on disconnect).

    ``compressed`` selects delta-compressed frames (type 0x81) instead of raw int16 frames (type 0x01);
    ``factor`` is announced in the start response and the samples are divided by it before encoding.
    """

    service_uuid = ""  # Polar sensors advertise their name and the HR service, never PMD

    def __init__(
        self,
        air: VirtualAir,
        name: str,
        address: str,
        *,
        compressed: bool = False,
        factor: float = 1.0,
        battery_pct: int = 95,
    ) -> None:
        super().__init__(air, name, address, battery_pct=battery_pct)
        self.compressed = compressed
        self.factor = factor
        self.streaming = False
        self.commands: list[bytes] = []
        self.control_point: gatt.Characteristic[bytes] = gatt.Characteristic(
            bumble_uuid(PMD_CONTROL_POINT_UUID),
            gatt.Characteristic.Properties.READ
            | gatt.Characteristic.Properties.WRITE
            | gatt.Characteristic.Properties.INDICATE,
            gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(read=self._read_features, write=self._write_command),
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._watching = False

    def data_uuid(self) -> str:
        return PMD_DATA_UUID

    def services(self) -> list[gatt.Service]:
        pmd = gatt.Service(bumble_uuid(PMD_SERVICE_UUID), [self.control_point, self.data])
        return [pmd, *super().services()]

    def samples_in(self, payload: bytes) -> int:
        return len(decode_acc_frame(payload).samples)

    async def start(self) -> None:
        await super().start()
        if not self._watching:
            self._watching = True
            self.device.on(self.device.EVENT_CONNECTION, self._on_connection)

    async def send_frame(self, timestamp_ns: int, samples_mg: Sequence[Sequence[float]]) -> bool:
        """Notify one ACC frame (last sample at ``timestamp_ns`` on the sensor clock) while streaming."""
        if not self.streaming:
            return False
        raw = [[round(value / self.factor) for value in sample] for sample in samples_mg]
        return await self.notify(encode_acc_frame(timestamp_ns, raw, compressed=self.compressed))

    def _read_features(self, connection: Connection) -> bytes:
        return encode_pmd_features([TYPE_ECG, TYPE_ACC])

    def _write_command(self, connection: Connection, value: bytes) -> None:
        try:
            opcode, kind, _parameters = decode_pmd_command(value)
        except DecodeError as exc:
            raise att.ATT_Error(att.ErrorCode.INVALID_ATTRIBUTE_LENGTH) from exc
        self.commands.append(bytes(value))
        parameters = b""
        if kind != TYPE_ACC:
            status = STATUS_NOT_SUPPORTED
        elif opcode == OP_GET_SETTINGS:
            status = STATUS_OK
            parameters = encode_pmd_settings({SETTING_SAMPLE_RATE: 50, SETTING_RESOLUTION: 16, SETTING_RANGE: 8})
        elif opcode == OP_START:
            status = STATUS_ALREADY_IN_STATE if self.streaming else STATUS_OK
            parameters = encode_pmd_settings({SETTING_FACTOR: self.factor})
            self.streaming = True
        elif opcode == OP_STOP:
            status = STATUS_OK if self.streaming else STATUS_ALREADY_IN_STATE
            self.streaming = False
        else:
            status = STATUS_INVALID_OP_CODE
        response = encode_pmd_control_response(opcode, kind, status, parameters if status == STATUS_OK else b"")
        task = asyncio.get_running_loop().create_task(self._indicate(connection, response))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        self.streaming = False

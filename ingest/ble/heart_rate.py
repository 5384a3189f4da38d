"""Heart Rate Service (0x180D) and Battery Level (0x2A19) payloads, as pure functions.

Byte layouts follow the Bluetooth SIG Heart Rate Service specification; multi-byte fields are little-endian.

Heart Rate Measurement (0x2A37): ``flags`` u8, heart rate (u8 or u16), optional Energy Expended u16 (kJ),
then zero or more RR intervals u16 in 1/1024 s, oldest first, their count implied by the remaining length.

Decoder policy (documented choices where the specification leaves room):

* The RR flag set with no RR bytes is accepted and yields ``rr_ticks == ()``: the heart rate is still valid and
  Bumble's reference encoder emits exactly this for an empty interval list.
* Bytes left over without the RR flag and an odd number of RR bytes are errors.
* An RR interval of 0 ticks is a valid uint16 but no beat interval: it is skipped and counted in ``rr_zero``; the
  heart rate and the other intervals of the notification stand (receivers count the skipped ones, never drop the
  notification).
* Flag bits 5-7 are reserved for future use and ignored.
* A heart rate of 0 bpm is returned as is (some sensors send it while they have no reading).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.ble.errors import DecodeError

BytesLike = bytes | bytearray | memoryview


def sig_uuid(short_uuid: int) -> str:
    """The 128-bit lower-case form of a 16-bit SIG UUID, as bleak reports it."""
    return f"{short_uuid:08x}-0000-1000-8000-00805f9b34fb"


HEART_RATE_SERVICE_UUID = sig_uuid(0x180D)
HEART_RATE_MEASUREMENT_UUID = sig_uuid(0x2A37)
BODY_SENSOR_LOCATION_UUID = sig_uuid(0x2A38)
HEART_RATE_CONTROL_POINT_UUID = sig_uuid(0x2A39)
BATTERY_SERVICE_UUID = sig_uuid(0x180F)
BATTERY_LEVEL_UUID = sig_uuid(0x2A19)
DEVICE_NAME_UUID = sig_uuid(0x2A00)

FLAG_HEART_RATE_UINT16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY_EXPENDED = 0x08
FLAG_RR_INTERVALS = 0x10

RESET_ENERGY_EXPENDED = 0x01
"""Heart Rate Control Point opcode that resets the Energy Expended counter."""
CONTROL_POINT_NOT_SUPPORTED = 0x80
"""ATT error code returned for any other Heart Rate Control Point value."""

RR_TICKS_PER_SECOND = 1024
DEFAULT_MAX_PAYLOAD = 20
"""Notification payload at the default ATT MTU of 23 bytes (MTU - 3)."""

BODY_SENSOR_LOCATIONS: dict[int, str] = {
    0: "other",
    1: "chest",
    2: "wrist",
    3: "finger",
    4: "hand",
    5: "ear lobe",
    6: "foot",
}

_UINT16_MAX = 0xFFFF


@dataclass(frozen=True)
class HeartRateMeasurement:
    """One decoded Heart Rate Measurement notification."""

    bpm: int
    contact_supported: bool
    contact_detected: bool | None
    energy_kj: int | None
    rr_ticks: tuple[int, ...]
    """The RR intervals of at least one tick, in 1/1024 s, oldest first."""
    rr_zero: int = 0
    """RR intervals of 0 ticks in the payload, left out of ``rr_ticks``."""

    @property
    def rr_ms(self) -> tuple[float, ...]:
        """RR intervals in milliseconds (exact conversion of the 1/1024 s ticks)."""
        return tuple(ticks * 1000 / RR_TICKS_PER_SECOND for ticks in self.rr_ticks)


def decode_heart_rate_measurement(data: BytesLike) -> HeartRateMeasurement:
    """Decode a 0x2A37 payload; raise DecodeError for anything the specification does not allow."""
    payload = bytes(data)
    size = len(payload)
    if size == 0:
        raise DecodeError("0x2A37: empty payload, expected at least 2 bytes (flags and a uint8 heart rate)")
    flags = payload[0]
    uint16_heart_rate = bool(flags & FLAG_HEART_RATE_UINT16)
    heart_rate_size = 2 if uint16_heart_rate else 1
    offset = 1 + heart_rate_size
    if size < offset:
        width = "uint16" if uint16_heart_rate else "uint8"
        raise DecodeError(f"0x2A37: {size} bytes, expected at least {offset} for a {width} heart rate")
    bpm = struct.unpack_from("<H", payload, 1)[0] if uint16_heart_rate else payload[1]

    energy_kj: int | None = None
    if flags & FLAG_ENERGY_EXPENDED:
        if size < offset + 2:
            raise DecodeError(
                f"0x2A37: {size} bytes, expected at least {offset + 2} with energy expended (flags 0x{flags:02x})"
            )
        energy_kj = struct.unpack_from("<H", payload, offset)[0]
        offset += 2

    remaining = size - offset
    if not flags & FLAG_RR_INTERVALS:
        if remaining:
            raise DecodeError(f"0x2A37: {remaining} trailing bytes without the RR flag (flags 0x{flags:02x})")
        rr_ticks: tuple[int, ...] = ()
    else:
        if remaining % 2:
            raise DecodeError(f"0x2A37: {remaining} RR bytes after offset {offset}, expected a multiple of 2")
        rr_ticks = struct.unpack_from(f"<{remaining // 2}H", payload, offset)
    rr_zero = rr_ticks.count(0)
    if rr_zero:
        rr_ticks = tuple(ticks for ticks in rr_ticks if ticks)

    contact_supported = bool(flags & FLAG_CONTACT_SUPPORTED)
    return HeartRateMeasurement(
        bpm=bpm,
        contact_supported=contact_supported,
        contact_detected=bool(flags & FLAG_CONTACT_DETECTED) if contact_supported else None,
        energy_kj=energy_kj,
        rr_ticks=tuple(rr_ticks),
        rr_zero=rr_zero,
    )


def heart_rate_field_size(bpm: int) -> int:
    """Bytes the heart rate value takes: 1 for 0-255 bpm, 2 above."""
    return 1 if bpm <= 0xFF else 2


def max_rr_per_notification(bpm: int, with_energy: bool, max_payload: int = DEFAULT_MAX_PAYLOAD) -> int:
    """How many RR intervals fit next to the other fields in one payload of ``max_payload`` bytes."""
    fixed = 1 + heart_rate_field_size(bpm) + (2 if with_energy else 0)
    return max(0, (max_payload - fixed) // 2)


def encode_heart_rate_measurement(
    bpm: int,
    rr_ticks: Sequence[int] = (),
    energy_kj: int | None = None,
    contact: bool | None = True,
    *,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> bytes:
    """Encode a 0x2A37 payload (uint8 heart rate up to 255 bpm, uint16 above).

    ``contact`` None means contact detection is not supported. Raises ValueError for out-of-range
    fields or when the payload would exceed ``max_payload`` bytes.
    """
    if not 0 <= bpm <= _UINT16_MAX:
        raise ValueError(f"0x2A37: heart rate {bpm} bpm is outside 0-65535")
    if energy_kj is not None and not 0 <= energy_kj <= _UINT16_MAX:
        raise ValueError(f"0x2A37: energy expended {energy_kj} kJ is outside 0-65535")
    for index, ticks in enumerate(rr_ticks):
        if not 1 <= ticks <= _UINT16_MAX:
            raise ValueError(f"0x2A37: RR interval #{index + 1} is {ticks} ticks, expected 1-65535")

    flags = 0
    if bpm > 0xFF:
        flags |= FLAG_HEART_RATE_UINT16
        fields = struct.pack("<H", bpm)
    else:
        fields = struct.pack("<B", bpm)
    if contact is not None:
        flags |= FLAG_CONTACT_SUPPORTED | (FLAG_CONTACT_DETECTED if contact else 0)
    if energy_kj is not None:
        flags |= FLAG_ENERGY_EXPENDED
        fields += struct.pack("<H", energy_kj)
    if rr_ticks:
        flags |= FLAG_RR_INTERVALS
        fields += struct.pack(f"<{len(rr_ticks)}H", *rr_ticks)

    payload = bytes([flags]) + fields
    if len(payload) > max_payload:
        raise ValueError(f"0x2A37: payload of {len(payload)} bytes exceeds the {max_payload}-byte limit")
    return payload


def encode_heart_rate_notifications(
    bpm: int,
    rr_ticks: Sequence[int] = (),
    energy_kj: int | None = None,
    contact: bool | None = True,
    *,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
) -> list[tuple[bytes, int]]:
    """One measurement as the notifications a sensor sends for it, with how many RR intervals each carries.

    The RR intervals are split over as many payloads of at most ``max_payload`` bytes as they need, oldest first;
    only the first carries Energy Expended. ValueError when a payload has no room for RR intervals at all.
    """
    if rr_ticks and max_rr_per_notification(bpm, False, max_payload) == 0:
        raise ValueError(f"0x2A37: a {max_payload}-byte payload has no room for RR intervals at {bpm} bpm")
    notifications = []
    remaining = list(rr_ticks)
    energy = energy_kj
    while True:
        capacity = max_rr_per_notification(bpm, energy is not None, max_payload)
        chunk, remaining = remaining[:capacity], remaining[capacity:]
        payload = encode_heart_rate_measurement(bpm, chunk, energy, contact, max_payload=max_payload)
        notifications.append((payload, len(chunk)))
        energy = None
        if not remaining:
            return notifications


def decode_body_sensor_location(data: BytesLike) -> str:
    """Decode a 0x2A38 payload to a location name; values outside the table become ``"reserved(N)"``."""
    payload = bytes(data)
    if len(payload) != 1:
        raise DecodeError(f"0x2A38: {len(payload)} bytes, expected exactly 1")
    return BODY_SENSOR_LOCATIONS.get(payload[0], f"reserved({payload[0]})")


def decode_battery_level(data: BytesLike) -> int:
    """Decode a 0x2A19 payload to a percentage (0-100)."""
    payload = bytes(data)
    if len(payload) != 1:
        raise DecodeError(f"0x2A19: {len(payload)} bytes, expected exactly 1")
    if payload[0] > 100:
        raise DecodeError(f"0x2A19: battery level {payload[0]} % is outside 0-100")
    return payload[0]

"""Running Speed and Cadence service (0x1814) payloads, as pure functions.

RSC Measurement (0x2A53): ``flags`` u8 (bit 0 stride length present, bit 1 total distance present, bit 2 walking
(0) or running (1)), instantaneous speed u16 in 1/256 m/s, instantaneous cadence u8 in steps/min, then the optional
stride length u16 in 1/100 m and total distance u32 in 1/10 m, in that order. RSC Feature (0x2A54) is a u16 mask.

Decoder policy: bytes left over after the fields the flags announce are an error; reserved flag bits 3-7 are ignored.
The walking/running bit is only meaningful when the sensor's RSC Feature has bit 2 (walk/run status supported).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import BytesLike, sig_uuid

RSC_SERVICE_UUID = sig_uuid(0x1814)
RSC_MEASUREMENT_UUID = sig_uuid(0x2A53)
RSC_FEATURE_UUID = sig_uuid(0x2A54)
SENSOR_LOCATION_UUID = sig_uuid(0x2A5D)
SC_CONTROL_POINT_UUID = sig_uuid(0x2A55)

FLAG_STRIDE_LENGTH = 0x01
FLAG_TOTAL_DISTANCE = 0x02
FLAG_RUNNING = 0x04

SPEED_UNITS_PER_MPS = 256
STRIDE_UNITS_PER_M = 100
DISTANCE_UNITS_PER_M = 10

SENSOR_LOCATIONS: dict[int, str] = {
    0: "other",
    1: "top of shoe",
    2: "in shoe",
    3: "hip",
    4: "front wheel",
    5: "left crank",
    6: "right crank",
    7: "left pedal",
    8: "right pedal",
    9: "front hub",
    10: "rear dropout",
    11: "chainstay",
    12: "rear wheel",
    13: "rear hub",
    14: "chest",
    15: "spider",
    16: "chain ring",
}


@dataclass(frozen=True)
class RSCMeasurement:
    """One decoded RSC Measurement notification (raw units kept next to SI values)."""

    speed_raw: int
    cadence_spm: int
    running: bool
    stride_length_raw: int | None = None
    total_distance_raw: int | None = None

    @property
    def speed_mps(self) -> float:
        return self.speed_raw / SPEED_UNITS_PER_MPS

    @property
    def stride_length_m(self) -> float | None:
        return None if self.stride_length_raw is None else self.stride_length_raw / STRIDE_UNITS_PER_M

    @property
    def total_distance_m(self) -> float | None:
        return None if self.total_distance_raw is None else self.total_distance_raw / DISTANCE_UNITS_PER_M


@dataclass(frozen=True)
class RSCFeature:
    """RSC Feature (0x2A54) bits."""

    stride_length: bool
    total_distance: bool
    walk_run_status: bool
    calibration: bool
    multiple_locations: bool


def decode_rsc_measurement(data: BytesLike) -> RSCMeasurement:
    """Decode a 0x2A53 payload; raise DecodeError for anything the specification does not allow."""
    payload = bytes(data)
    size = len(payload)
    if size < 4:
        raise DecodeError(f"0x2A53: {size} bytes, expected at least 4 (flags, speed, cadence)")
    flags = payload[0]
    expected = 4 + (2 if flags & FLAG_STRIDE_LENGTH else 0) + (4 if flags & FLAG_TOTAL_DISTANCE else 0)
    if size != expected:
        raise DecodeError(f"0x2A53: {size} bytes, expected exactly {expected} for flags 0x{flags:02x}")
    speed_raw, cadence = struct.unpack_from("<HB", payload, 1)
    offset = 4
    stride: int | None = None
    distance: int | None = None
    if flags & FLAG_STRIDE_LENGTH:
        stride = struct.unpack_from("<H", payload, offset)[0]
        offset += 2
    if flags & FLAG_TOTAL_DISTANCE:
        distance = struct.unpack_from("<I", payload, offset)[0]
    return RSCMeasurement(speed_raw, cadence, bool(flags & FLAG_RUNNING), stride, distance)


def encode_rsc_measurement(
    speed_mps: float,
    cadence_spm: int,
    *,
    running: bool,
    stride_length_m: float | None = None,
    total_distance_m: float | None = None,
) -> bytes:
    """Encode a 0x2A53 payload (values rounded to the field resolution); ValueError when out of range."""
    speed = round(speed_mps * SPEED_UNITS_PER_MPS)
    if not 0 <= speed <= 0xFFFF:
        raise ValueError(f"0x2A53: speed {speed_mps} m/s is outside 0-255.99")
    if not 0 <= cadence_spm <= 0xFF:
        raise ValueError(f"0x2A53: cadence {cadence_spm}/min is outside 0-255")
    flags = FLAG_RUNNING if running else 0
    fields = struct.pack("<HB", speed, cadence_spm)
    if stride_length_m is not None:
        stride = round(stride_length_m * STRIDE_UNITS_PER_M)
        if not 0 <= stride <= 0xFFFF:
            raise ValueError(f"0x2A53: stride length {stride_length_m} m is outside 0-655.35")
        flags |= FLAG_STRIDE_LENGTH
        fields += struct.pack("<H", stride)
    if total_distance_m is not None:
        distance = round(total_distance_m * DISTANCE_UNITS_PER_M)
        if not 0 <= distance <= 0xFFFFFFFF:
            raise ValueError(f"0x2A53: total distance {total_distance_m} m is outside the u32 range")
        flags |= FLAG_TOTAL_DISTANCE
        fields += struct.pack("<I", distance)
    return bytes([flags]) + fields


def decode_rsc_feature(data: BytesLike) -> RSCFeature:
    """Decode a 0x2A54 payload (u16 mask; reserved bits ignored)."""
    payload = bytes(data)
    if len(payload) != 2:
        raise DecodeError(f"0x2A54: {len(payload)} bytes, expected exactly 2")
    mask = struct.unpack("<H", payload)[0]
    return RSCFeature(
        stride_length=bool(mask & 0x01),
        total_distance=bool(mask & 0x02),
        walk_run_status=bool(mask & 0x04),
        calibration=bool(mask & 0x08),
        multiple_locations=bool(mask & 0x10),
    )


def encode_rsc_feature(feature: RSCFeature) -> bytes:
    """Encode a 0x2A54 payload."""
    bits = (
        feature.stride_length,
        feature.total_distance,
        feature.walk_run_status,
        feature.calibration,
        feature.multiple_locations,
    )
    return struct.pack("<H", sum(1 << index for index, bit in enumerate(bits) if bit))


def decode_sensor_location(data: BytesLike) -> str:
    """Decode a Sensor Location (0x2A5D) payload; values outside the table become ``"reserved(N)"``."""
    payload = bytes(data)
    if len(payload) != 1:
        raise DecodeError(f"0x2A5D: {len(payload)} bytes, expected exactly 1")
    return SENSOR_LOCATIONS.get(payload[0], f"reserved({payload[0]})")

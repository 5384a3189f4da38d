"""Muscle-load pod service (our own open GATT service, see ``docs/ble-muscle-load-service.md``), as pure functions.

A pod sits on one leg (left or right) over one muscle and notifies one **stride frame** per ground contact of
that foot. Stride frame, 16 bytes, little-endian:

======  ====  ====================================================================================
offset  size  field
======  ====  ====================================================================================
0       u8    frame version, 0x01
1       u8    flags: bit 0 GCT valid, bit 1 EMG valid, bit 2 impact valid; bits 3-7 reserved, must be 0
2       u16   sequence number, +1 per stride (also for strides that were not sent), wraps 0xFFFF → 0
4       u8    side: 1 left, 2 right
5       u8    muscle code (see ``MUSCLES``)
6       u32   sensor timestamp: initial contact of this stride, ms of the pod's own clock, wraps at 2**32
10      u16   ground-contact time, ms
12      u16   EMG RMS over the contact, 0.1 % MVC
14      u16   peak impact acceleration, 0.01 g
======  ====  ====================================================================================

The frame is sent at toe-off, i.e. at sensor time ``timestamp + GCT``. Pod Info (read, 4 bytes): version u8,
side u8, muscle u8, frame rate hint u8 (nominal strides per minute of one leg, 0 = unknown).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import BytesLike

MUSCLE_LOAD_SERVICE_UUID = "5ec70001-8d1b-4c3e-a2f9-3b6d0c1e7a40"
STRIDE_FRAME_UUID = "5ec70002-8d1b-4c3e-a2f9-3b6d0c1e7a40"
POD_INFO_UUID = "5ec70003-8d1b-4c3e-a2f9-3b6d0c1e7a40"

FRAME_VERSION = 0x01
FRAME_SIZE = 16
FLAG_GCT_VALID = 0x01
FLAG_EMG_VALID = 0x02
FLAG_IMPACT_VALID = 0x04
_RESERVED_FLAGS = 0xF8
_FRAME = struct.Struct("<BBHBBIHHH")
_INFO = struct.Struct("<BBBB")

Side = Literal["left", "right"]
SIDES: dict[int, Side] = {1: "left", 2: "right"}
SIDE_CODES: dict[Side, int] = {"left": 1, "right": 2}
MUSCLES: dict[int, str] = {
    0: "unspecified",
    1: "gastrocnemius medialis",
    2: "gastrocnemius lateralis",
    3: "soleus",
    4: "tibialis anterior",
    5: "vastus lateralis",
    6: "vastus medialis",
    7: "rectus femoris",
    8: "biceps femoris",
    9: "semitendinosus",
    10: "gluteus maximus",
    11: "gluteus medius",
}
SEQUENCE_MODULUS = 0x10000
TIMESTAMP_MODULUS = 1 << 32


@dataclass(frozen=True)
class StrideFrame:
    """One decoded stride frame; fields whose valid flag is clear are None."""

    sequence: int
    side: Side
    muscle_code: int
    sensor_ms: int
    gct_ms: int | None
    emg_raw: int | None
    impact_raw: int | None

    @property
    def muscle(self) -> str:
        return MUSCLES.get(self.muscle_code, f"reserved({self.muscle_code})")

    @property
    def emg_rms_pct_mvc(self) -> float | None:
        return None if self.emg_raw is None else self.emg_raw / 10

    @property
    def impact_g(self) -> float | None:
        return None if self.impact_raw is None else self.impact_raw / 100

    @property
    def toe_off_sensor_ms(self) -> int:
        """Sensor time at which the frame was sent (initial contact + GCT), unwrapped."""
        return self.sensor_ms + (self.gct_ms or 0)


@dataclass(frozen=True)
class PodInfo:
    """The Pod Info characteristic."""

    version: int
    side: Side
    muscle_code: int
    strides_per_min: int


def decode_stride_frame(data: BytesLike) -> StrideFrame:
    """Decode a stride frame; raise DecodeError for anything the specification does not allow."""
    payload = bytes(data)
    if len(payload) != FRAME_SIZE:
        raise DecodeError(f"stride frame: {len(payload)} bytes, expected exactly {FRAME_SIZE}")
    version, flags, sequence, side, muscle, sensor_ms, gct, emg, impact = _FRAME.unpack(payload)
    if version != FRAME_VERSION:
        raise DecodeError(f"stride frame: version {version}, expected {FRAME_VERSION}")
    if flags & _RESERVED_FLAGS:
        raise DecodeError(f"stride frame: reserved flag bits set (flags 0x{flags:02x})")
    if side not in SIDES:
        raise DecodeError(f"stride frame: side code {side}, expected 1 (left) or 2 (right)")
    return StrideFrame(
        sequence=sequence,
        side=SIDES[side],
        muscle_code=muscle,
        sensor_ms=sensor_ms,
        gct_ms=gct if flags & FLAG_GCT_VALID else None,
        emg_raw=emg if flags & FLAG_EMG_VALID else None,
        impact_raw=impact if flags & FLAG_IMPACT_VALID else None,
    )


def encode_stride_frame(
    sequence: int,
    side: Side,
    sensor_ms: int,
    *,
    muscle_code: int = 0,
    gct_ms: int | None = None,
    emg_rms_pct_mvc: float | None = None,
    impact_g: float | None = None,
) -> bytes:
    """Encode a stride frame (sequence and timestamp are reduced modulo their wrap); ValueError when out of range."""
    if side not in SIDE_CODES:
        raise ValueError(f"stride frame: side {side!r}, expected 'left' or 'right'")
    flags = 0
    gct = emg = impact = 0
    if gct_ms is not None:
        flags |= FLAG_GCT_VALID
        gct = int(gct_ms)
    if emg_rms_pct_mvc is not None:
        flags |= FLAG_EMG_VALID
        emg = round(emg_rms_pct_mvc * 10)
    if impact_g is not None:
        flags |= FLAG_IMPACT_VALID
        impact = round(impact_g * 100)
    for name, value in (("GCT", gct), ("EMG", emg), ("impact", impact)):
        if not 0 <= value <= 0xFFFF:
            raise ValueError(f"stride frame: {name} value {value} is outside 0-65535 units")
    if not 0 <= muscle_code <= 0xFF:
        raise ValueError(f"stride frame: muscle code {muscle_code} is outside 0-255")
    return _FRAME.pack(
        FRAME_VERSION,
        flags,
        sequence % SEQUENCE_MODULUS,
        SIDE_CODES[side],
        muscle_code,
        sensor_ms % TIMESTAMP_MODULUS,
        gct,
        emg,
        impact,
    )


def decode_pod_info(data: BytesLike) -> PodInfo:
    """Decode the Pod Info characteristic."""
    payload = bytes(data)
    if len(payload) != _INFO.size:
        raise DecodeError(f"pod info: {len(payload)} bytes, expected exactly {_INFO.size}")
    version, side, muscle, rate = _INFO.unpack(payload)
    if side not in SIDES:
        raise DecodeError(f"pod info: side code {side}, expected 1 (left) or 2 (right)")
    return PodInfo(version, SIDES[side], muscle, rate)


def encode_pod_info(side: Side, muscle_code: int = 0, strides_per_min: int = 0) -> bytes:
    """Encode the Pod Info characteristic."""
    return _INFO.pack(FRAME_VERSION, SIDE_CODES[side], muscle_code, strides_per_min)


def sequence_gap(previous: int, current: int) -> int:
    """Frames missing between two sequence numbers, across the wrap.

    0 when consecutive, for a repeat, and for a step backwards (more than half the sequence space ahead), which
    means a pod restart or reordering rather than loss.
    """
    gap = (current - previous - 1) % SEQUENCE_MODULUS
    return 0 if current == previous or gap >= SEQUENCE_MODULUS // 2 else gap

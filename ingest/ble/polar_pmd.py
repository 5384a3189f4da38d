"""Polar Measurement Data (PMD) service: control point commands/responses and ACC data frames, as pure functions.

Source: Polar's published polar-ble-sdk (``technical_documentation/online_measurement.pdf`` and its ``pmd``
client); not a Bluetooth SIG specification. Multi-byte fields are little-endian.

Control point (``FB005C81``, read/write/indicate):
  read → ``[0x0F, b1, b2...]``: bit n of the bitmap after 0x0F = measurement type n available;
  write ``[opcode, type, settings...]``: 1 get settings, 2 start, 3 stop, 5 get status;
  indication ``[0xF0, opcode, type, status, more, parameters...]`` (status 0 = success);
  settings are ``[kind, count, value × count]`` with kinds 0 sample rate u16, 1 resolution u16, 2 range u16,
  3 range in milli-units u32, 4 channels u8, 5 factor float32.
Data (``FB005C82``, notify): type u8 (low 6 bits), timestamp u64 in ns since 2000-01-01T00:00Z of the **last**
sample, frame type u8 (bit 7 = delta compressed), then samples.

ACC frames (type 2, three channels, mG): raw frame types 0/1/2 carry int8/int16/int24 samples in mG, **unscaled**
(Polar's SDK applies no factor to raw frames); compressed frame types 0 and 1 carry an int16 reference sample
followed by blocks ``[bit width u8, count u8, packed deltas]`` whose signed deltas are packed LSB first, channel
after channel; their samples are multiplied by the factor from the start response (compressed type 0 is in G, so
it is also multiplied by 1000). Real sensors use blocks of at least 2 bits: a 1-bit block is two's complement here
(0 or −1), but Polar's SDK and polar-python sign-extend only wider blocks and misread it, so the encoder never
writes one.

ECG frames (type 0, H10): raw frame type 0 carries int24 samples in µV, 130 Hz, up to 73 per frame (a 229-byte
notification, so ECG needs an ATT MTU of at least 232). Other types decode their header only.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import BytesLike

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

FEATURES_RESPONSE = 0x0F
CONTROL_POINT_RESPONSE = 0xF0
OP_GET_SETTINGS, OP_START, OP_STOP, OP_GET_STATUS = 0x01, 0x02, 0x03, 0x05
TYPE_ECG, TYPE_PPG, TYPE_ACC, TYPE_PPI, TYPE_GYRO, TYPE_MAG = 0, 1, 2, 3, 5, 6
MEASUREMENT_TYPE_MASK = 0x3F
OFFLINE_BIT = 0x80
COMPRESSED_BIT = 0x80

SETTING_SAMPLE_RATE, SETTING_RESOLUTION, SETTING_RANGE, SETTING_RANGE_MILLIUNIT = 0, 1, 2, 3
SETTING_CHANNELS, SETTING_FACTOR = 4, 5
_SETTING_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4}

STATUS_OK, STATUS_INVALID_OP_CODE, STATUS_NOT_SUPPORTED, STATUS_ALREADY_IN_STATE = 0, 1, 3, 6
"""Control point response status codes (see ``STATUS_NAMES``)."""
STATUS_INVALID_LENGTH, STATUS_INVALID_PARAMETER, STATUS_INVALID_RESOLUTION = 4, 5, 7
STATUS_INVALID_SAMPLE_RATE, STATUS_INVALID_RANGE, STATUS_INVALID_MTU, STATUS_INVALID_CHANNELS = 8, 9, 10, 11
STATUS_NAMES = {
    0: "success",
    1: "invalid op code",
    2: "invalid measurement type",
    3: "not supported",
    4: "invalid length",
    5: "invalid parameter",
    6: "already in state",
    7: "invalid resolution",
    8: "invalid sample rate",
    9: "invalid range",
    10: "invalid MTU",
    11: "invalid number of channels",
    12: "invalid state",
    13: "device in charger",
    14: "disk full",
}

PMD_EPOCH_UNIX_NS = 946_684_800 * 1_000_000_000
"""2000-01-01T00:00:00Z in ns since the Unix epoch."""
_HEADER = struct.Struct("<BQB")
ACC_CHANNELS = 3
_ACC_RAW_WIDTH = {0: 1, 1: 2, 2: 3}
_ACC_REFERENCE_BITS = 16
_MAX_DELTA_BITS = 32
MIN_DELTA_BITS = 2
"""The narrowest delta block the encoder writes (real sensors never send 1-bit blocks; see the module docstring)."""
ECG_SAMPLE_BYTES = 3
ECG_FRAME_SAMPLES = 73
"""Samples per ECG frame of an H10 (the most a 232-byte ATT MTU carries)."""
ECG_MIN_ATT_MTU = _HEADER.size + ECG_FRAME_SAMPLES * ECG_SAMPLE_BYTES + 3
"""232: the ATT MTU an H10 needs before it starts ECG."""


@dataclass(frozen=True)
class PmdControlResponse:
    """A control point indication ``[0xF0, opcode, type, status, more, parameters...]``."""

    opcode: int
    measurement_type: int
    status: int
    more: bool
    parameters: bytes

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, f"reserved({self.status})")


@dataclass(frozen=True)
class PmdFrame:
    """One data notification: header fields and the undecoded sample bytes."""

    measurement_type: int
    timestamp_ns: int
    frame_type: int
    compressed: bool
    payload: bytes

    @property
    def timestamp_unix_ns(self) -> int:
        """The last sample's time on the sensor clock, in ns since the Unix epoch."""
        return self.timestamp_ns + PMD_EPOCH_UNIX_NS


@dataclass(frozen=True)
class AccFrame:
    """Decoded ACC samples in mG (factor applied to compressed frames); ``timestamp_ns`` is the last sample's
    sensor time (2000 epoch)."""

    timestamp_ns: int
    samples: tuple[tuple[float, float, float], ...]


@dataclass(frozen=True)
class EcgFrame:
    """Decoded ECG samples in µV; ``timestamp_ns`` is the last sample's sensor time (ns since 2000-01-01 UTC)."""

    timestamp_ns: int
    samples_uv: tuple[int, ...]


def decode_pmd_features(data: BytesLike) -> frozenset[int]:
    """Measurement types announced by a control point read ``[0x0F, bitmap...]``."""
    payload = bytes(data)
    if len(payload) < 2 or payload[0] != FEATURES_RESPONSE:
        raise DecodeError(f"PMD features: expected 0x0F and at least one bitmap byte, got {payload[:4].hex()!r}")
    return frozenset(8 * index + bit for index, byte in enumerate(payload[1:]) for bit in range(8) if byte >> bit & 1)


def encode_pmd_features(types: Sequence[int]) -> bytes:
    """The control point read value announcing ``types``."""
    bitmap = sum(1 << value for value in types)
    return bytes([FEATURES_RESPONSE]) + bitmap.to_bytes(max(2, (bitmap.bit_length() + 7) // 8), "little")


def encode_pmd_settings(settings: Mapping[int, int | float | Sequence[int | float]]) -> bytes:
    """Settings TLVs ``[kind, count, values]``: one value per kind, or a sequence (a get-settings answer lists every
    value offered); the factor is a float32."""
    out = bytearray()
    for kind, value in settings.items():
        if kind not in _SETTING_SIZES:
            raise ValueError(f"PMD setting kind {kind} is unknown")
        values = list(value) if isinstance(value, Sequence) else [value]
        if not 1 <= len(values) <= 0xFF:
            raise ValueError(f"PMD setting kind {kind}: {len(values)} values, expected 1-255")
        out += bytes([kind, len(values)])
        for item in values:
            if kind == SETTING_FACTOR:
                out += struct.pack("<f", item)
            else:
                out += int(item).to_bytes(_SETTING_SIZES[kind], "little")
    return bytes(out)


def decode_pmd_settings(data: BytesLike) -> dict[int, tuple[int | float, ...]]:
    """Parse settings TLVs into ``kind → values`` (factor values as floats)."""
    payload = bytes(data)
    settings: dict[int, tuple[int | float, ...]] = {}
    offset = 0
    while offset < len(payload):
        if offset + 2 > len(payload):
            raise DecodeError(f"PMD settings: truncated TLV header at offset {offset}")
        kind, count = payload[offset], payload[offset + 1]
        offset += 2
        size = _SETTING_SIZES.get(kind)
        if size is None:
            raise DecodeError(f"PMD settings: unknown setting kind {kind} at offset {offset - 2}")
        if offset + size * count > len(payload):
            raise DecodeError(f"PMD settings: kind {kind} needs {size * count} bytes at offset {offset}")
        values: list[int | float] = []
        for _ in range(count):
            chunk = payload[offset : offset + size]
            values.append(struct.unpack("<f", chunk)[0] if kind == SETTING_FACTOR else int.from_bytes(chunk, "little"))
            offset += size
        settings[kind] = tuple(values)
    return settings


def encode_pmd_start(measurement_type: int, settings: Mapping[int, int | float | Sequence[int | float]]) -> bytes:
    """Control point write that starts a measurement, e.g. ACC at 50 Hz, 16 bit, 8 G."""
    return bytes([OP_START, measurement_type]) + encode_pmd_settings(settings)


def encode_pmd_stop(measurement_type: int) -> bytes:
    """Control point write that stops a measurement."""
    return bytes([OP_STOP, measurement_type])


def decode_pmd_command(data: BytesLike) -> tuple[int, int, bytes]:
    """A control point write as ``(opcode, measurement type byte, parameters)`` (used by the virtual sensor)."""
    payload = bytes(data)
    if len(payload) < 1:
        raise DecodeError("PMD command: empty write")
    if len(payload) == 1:
        return payload[0], 0, b""
    return payload[0], payload[1], payload[2:]


def decode_pmd_control_response(data: BytesLike) -> PmdControlResponse:
    """Decode a control point indication."""
    payload = bytes(data)
    if len(payload) < 4 or payload[0] != CONTROL_POINT_RESPONSE:
        raise DecodeError(f"PMD response: expected [0xF0, opcode, type, status, ...], got {payload[:8].hex()!r}")
    status = payload[3]
    more = status == STATUS_OK and len(payload) > 4 and payload[4] != 0
    parameters = payload[5:] if status == STATUS_OK else b""
    return PmdControlResponse(payload[1], payload[2], status, more, parameters)


def encode_pmd_control_response(
    opcode: int, measurement_type: int, status: int = 0, parameters: bytes = b"", *, more: bool = False
) -> bytes:
    """A control point indication (used by the virtual sensor)."""
    return bytes([CONTROL_POINT_RESPONSE, opcode, measurement_type, status, int(more)]) + parameters


def decode_pmd_frame(data: BytesLike) -> PmdFrame:
    """Decode a data notification's 10-byte header."""
    payload = bytes(data)
    if len(payload) < _HEADER.size + 1:
        raise DecodeError(f"PMD frame: {len(payload)} bytes, expected a 10-byte header and samples")
    measurement_type, timestamp_ns, frame_type = _HEADER.unpack_from(payload)
    return PmdFrame(
        measurement_type & MEASUREMENT_TYPE_MASK,
        timestamp_ns,
        frame_type & ~COMPRESSED_BIT & 0xFF,
        bool(frame_type & COMPRESSED_BIT),
        payload[_HEADER.size :],
    )


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


def decode_delta_samples(payload: bytes, channels: int, reference_bits: int) -> list[list[int]]:
    """Reference sample plus delta blocks → absolute samples (integers, before the factor)."""
    reference_size = channels * math.ceil(reference_bits / 8)
    if len(payload) < reference_size:
        raise DecodeError(f"PMD delta frame: {len(payload)} bytes, expected a {reference_size}-byte reference sample")
    step = reference_size // channels
    last = [
        _signed(int.from_bytes(payload[i * step : (i + 1) * step], "little"), reference_bits) for i in range(channels)
    ]
    samples = [last]
    offset = reference_size
    while offset < len(payload):
        if offset + 2 > len(payload):
            raise DecodeError(f"PMD delta frame: truncated block header at offset {offset}")
        width, count = payload[offset], payload[offset + 1]
        offset += 2
        if not 1 <= width <= _MAX_DELTA_BITS or count == 0:
            raise DecodeError(f"PMD delta frame: block with bit width {width} and {count} samples")
        size = math.ceil(width * count * channels / 8)
        if offset + size > len(payload):
            raise DecodeError(f"PMD delta frame: block of {size} bytes at offset {offset} is truncated")
        bits = int.from_bytes(payload[offset : offset + size], "little")
        offset += size
        mask = (1 << width) - 1
        position = 0
        for _ in range(count):
            current = []
            for channel in range(channels):
                current.append(last[channel] + _signed(bits >> position & mask, width))
                position += width
            samples.append(current)
            last = current
    return samples


def encode_delta_samples(samples: Sequence[Sequence[int]], reference_bits: int = 16, block: int = 16) -> bytes:
    """Inverse of :func:`decode_delta_samples`: reference sample, then blocks of up to ``block`` deltas."""
    if not samples:
        raise ValueError("PMD delta frame needs at least one sample")
    step = math.ceil(reference_bits / 8)
    out = bytearray()
    for value in samples[0]:
        out += (value & ((1 << (8 * step)) - 1)).to_bytes(step, "little")
    for start in range(1, len(samples), block):
        chunk = samples[start : start + block]
        previous = samples[start - 1 : start - 1 + len(chunk)]
        deltas = [c - p for current, prior in zip(chunk, previous) for c, p in zip(current, prior)]
        width = max(max(d.bit_length() + 1 if d >= 0 else (-d - 1).bit_length() + 1 for d in deltas), MIN_DELTA_BITS)
        bits = 0
        for index, delta in enumerate(deltas):
            bits |= (delta & ((1 << width) - 1)) << (index * width)
        out += bytes([width, len(chunk)]) + bits.to_bytes(math.ceil(width * len(deltas) / 8), "little")
    return bytes(out)


def decode_acc_frame(data: BytesLike, factor: float = 1.0) -> AccFrame:
    """Decode an ACC data notification to mG samples; DecodeError for another type or a malformed frame.

    ``factor`` (from the start response) scales compressed frames only; raw frames are already in mG.
    """
    frame = decode_pmd_frame(data)
    if frame.measurement_type != TYPE_ACC:
        raise DecodeError(f"PMD frame: measurement type {frame.measurement_type}, expected ACC ({TYPE_ACC})")
    if not math.isfinite(factor) or factor == 0:
        raise DecodeError(f"PMD ACC: factor {factor} is not a usable multiplier")
    if frame.compressed:
        if frame.frame_type not in (0, 1):
            raise DecodeError(f"PMD ACC: compressed frame type {frame.frame_type} is not supported")
        raw = decode_delta_samples(frame.payload, ACC_CHANNELS, _ACC_REFERENCE_BITS)
        scale = factor * 1000 if frame.frame_type == 0 else factor
    else:
        width = _ACC_RAW_WIDTH.get(frame.frame_type)
        if width is None:
            raise DecodeError(f"PMD ACC: raw frame type {frame.frame_type} is not supported")
        sample_size = width * ACC_CHANNELS
        if len(frame.payload) % sample_size:
            raise DecodeError(f"PMD ACC: {len(frame.payload)} sample bytes, expected a multiple of {sample_size}")
        payload = frame.payload
        raw = [
            [
                int.from_bytes(payload[offset + c * width : offset + (c + 1) * width], "little", signed=True)
                for c in range(ACC_CHANNELS)
            ]
            for offset in range(0, len(payload), sample_size)
        ]
        scale = 1.0
    samples = tuple((x * scale, y * scale, z * scale) for x, y, z in raw)
    return AccFrame(frame.timestamp_ns, samples)


def encode_acc_frame(
    timestamp_ns: int, samples: Sequence[Sequence[int]], *, compressed: bool = False, frame_type: int = 1
) -> bytes:
    """An ACC data notification with integer samples: raw (frame type 0/1/2, mG) or delta compressed (type 1, in
    units of the factor the start response announced)."""
    if not 0 <= timestamp_ns < 1 << 64:
        raise ValueError(f"PMD timestamp {timestamp_ns} ns is outside the u64 range")
    if compressed:
        header = _HEADER.pack(TYPE_ACC, timestamp_ns, COMPRESSED_BIT | frame_type)
        return header + encode_delta_samples(samples, _ACC_REFERENCE_BITS)
    width = _ACC_RAW_WIDTH[frame_type]
    body = b"".join(int(v).to_bytes(width, "little", signed=True) for sample in samples for v in sample)
    return _HEADER.pack(TYPE_ACC, timestamp_ns, frame_type) + body


def decode_ecg_frame(data: BytesLike) -> EcgFrame:
    """Decode an ECG data notification (raw frame type 0, int24 µV); DecodeError for another type or layout."""
    frame = decode_pmd_frame(data)
    if frame.measurement_type != TYPE_ECG:
        raise DecodeError(f"PMD frame: measurement type {frame.measurement_type}, expected ECG ({TYPE_ECG})")
    if frame.compressed or frame.frame_type != 0:
        kind = "compressed" if frame.compressed else "raw"
        raise DecodeError(f"PMD ECG: {kind} frame type {frame.frame_type} is not supported (H10 sends raw type 0)")
    payload = frame.payload
    if len(payload) % ECG_SAMPLE_BYTES:
        raise DecodeError(f"PMD ECG: {len(payload)} sample bytes, expected a multiple of {ECG_SAMPLE_BYTES}")
    samples = tuple(
        int.from_bytes(payload[offset : offset + ECG_SAMPLE_BYTES], "little", signed=True)
        for offset in range(0, len(payload), ECG_SAMPLE_BYTES)
    )
    return EcgFrame(frame.timestamp_ns, samples)


def encode_ecg_frame(timestamp_ns: int, samples_uv: Sequence[int]) -> bytes:
    """An ECG data notification (raw frame type 0) with int24 µV samples; the last sample is at ``timestamp_ns``."""
    if not 0 <= timestamp_ns < 1 << 64:
        raise ValueError(f"PMD timestamp {timestamp_ns} ns is outside the u64 range")
    if not samples_uv:
        raise ValueError("PMD ECG frame needs at least one sample")
    limit = 1 << (8 * ECG_SAMPLE_BYTES - 1)
    body = bytearray()
    for value in samples_uv:
        if not -limit <= int(value) < limit:
            raise ValueError(f"PMD ECG sample {value} µV is outside the int24 range")
        body += int(value).to_bytes(ECG_SAMPLE_BYTES, "little", signed=True)
    return _HEADER.pack(TYPE_ECG, timestamp_ns, 0) + bytes(body)


def pmd_samples_in(data: BytesLike) -> int:
    """Samples in one valid ACC or ECG data notification; DecodeError for anything else."""
    frame = decode_pmd_frame(data)
    if frame.measurement_type == TYPE_ECG:
        return len(decode_ecg_frame(data).samples_uv)
    return len(decode_acc_frame(data).samples)

"""FIT binary framing: chained file headers, record headers and compressed timestamps (pure, on bytes).

Garmin's FIT SDK decodes the messages; this walk runs first because it is cheap (one step per record, no field
decoding) and gives what the SDK does not: a precise one-line reason for truncated or damaged files, and the
timestamps of compressed-timestamp records (FIT protocol §4.1.2), which the Python SDK refuses to decode.
`normalize_compressed` turns those records into normal data records so the SDK can decode them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ingest.activity import FileDecodeError

TIMESTAMP_FIELD = 253
_SIGNATURE = b".FIT"
_COMPRESSED = 0x80
_DEFINITION = 0x40
_DEVELOPER = 0x20
_INVALID_TIMESTAMP = 0xFFFFFFFF


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


@dataclass(frozen=True)
class _Definition:
    size: int
    timestamp_format: str | None
    timestamp_offset: int


@dataclass
class Framing:
    """What the walk found: segment boundaries, data-record count and compressed-timestamp records."""

    segments: list[tuple[int, int]] = field(default_factory=list)
    """(start, end) byte offsets of each chained FIT segment, end = header + data (CRC excluded)."""
    data_records: int = 0
    compressed: dict[int, int] = field(default_factory=dict)
    """Data-record ordinal → FIT timestamp (s since 1989-12-31) of each compressed-timestamp record."""
    compressed_at: list[tuple[int, int]] = field(default_factory=list)
    """(byte offset, local message type) of each compressed-timestamp record header."""


def _segment_header(data: bytes, start: int, index: int) -> tuple[int, int]:
    where = "the file" if index == 0 else f"chained segment {index + 1} at byte {start}"
    remaining = len(data) - start
    size = data[start]
    if size not in (12, 14) or remaining < size or data[start + 8 : start + 12] != _SIGNATURE:
        if index == 0:
            raise FileDecodeError("not a FIT file (no FIT header with the '.FIT' signature)")
        raise FileDecodeError(f"damaged FIT header in {where} (no '.FIT' signature)")
    (data_size,) = struct.unpack_from("<I", data, start + 4)
    end = start + size + data_size
    if end + 2 > len(data):
        raise FileDecodeError(
            f"truncated: {where} declares {data_size} data bytes ({end + 2 - start} bytes with header and CRC) "
            f"but the file ends at byte {len(data)}"
        )
    return size, end


def _definition(data: bytes, pos: int, end: int, header: int) -> tuple[_Definition, int]:
    if pos + 6 > end:
        raise FileDecodeError(f"damaged record at byte {pos}: definition runs past the end of the data")
    big_endian = data[pos + 2] == 1
    n_fields = data[pos + 5]
    p = pos + 6
    size = 0
    ts_format, ts_offset = None, 0
    for _ in range(n_fields):
        if p + 3 > end:
            raise FileDecodeError(f"damaged record at byte {pos}: definition runs past the end of the data")
        number, field_size = data[p], data[p + 1]
        if number == TIMESTAMP_FIELD and field_size == 4:
            ts_format, ts_offset = (">I" if big_endian else "<I"), size
        size += field_size
        p += 3
    if header & _DEVELOPER:
        if p + 1 > end:
            raise FileDecodeError(f"damaged record at byte {pos}: definition runs past the end of the data")
        n_dev = data[p]
        p += 1
        if p + 3 * n_dev > end:
            raise FileDecodeError(f"damaged record at byte {pos}: definition runs past the end of the data")
        size += sum(data[p + 3 * i + 1] for i in range(n_dev))
        p += 3 * n_dev
    return _Definition(size, ts_format, ts_offset), p


def scan(data: bytes) -> Framing:
    """Walk every chained segment and record header; raise `FileDecodeError` with the reason if damaged."""
    if not data:
        raise FileDecodeError("empty file")
    framing = Framing()
    last_ts: int | None = None
    start = 0
    while start < len(data):
        header_size, end = _segment_header(data, start, len(framing.segments))
        framing.segments.append((start, end))
        definitions: dict[int, _Definition] = {}
        pos = start + header_size
        while pos < end:
            header = data[pos]
            if header & _COMPRESSED:
                local = (header >> 5) & 0x03
                if local not in definitions:
                    raise FileDecodeError(f"damaged record at byte {pos}: undefined local message type {local}")
                if last_ts is None:
                    raise FileDecodeError(f"compressed timestamp at byte {pos} precedes every full timestamp")
                offset = header & 0x1F
                ts = (last_ts & ~0x1F) + offset + (0x20 if offset < (last_ts & 0x1F) else 0)
                last_ts = ts
                framing.compressed[framing.data_records] = ts
                framing.compressed_at.append((pos, local))
                framing.data_records += 1
                pos += 1 + definitions[local].size
            elif header & _DEFINITION:
                definitions[header & 0x0F], pos = _definition(data, pos, end, header)
            else:
                definition = definitions.get(header & 0x0F)
                if definition is None:
                    raise FileDecodeError(f"damaged record at byte {pos}: undefined local message type {header & 0x0F}")
                if definition.timestamp_format and pos + 1 + definition.size <= end:
                    (value,) = struct.unpack_from(
                        definition.timestamp_format, data, pos + 1 + definition.timestamp_offset
                    )
                    if value != _INVALID_TIMESTAMP:
                        last_ts = value
                framing.data_records += 1
                pos += 1 + definition.size
        if pos != end:
            raise FileDecodeError(f"damaged record near byte {pos}: the last record runs past its segment's end")
        start = end + 2
    return framing


def crc16(data: bytes, start: int, end: int) -> int:
    """FIT's CRC-16 (polynomial 0x8005 reflected, initial 0) of `data[start:end]`, a byte table at a time."""
    crc, table = 0, _CRC_TABLE
    for byte in data[start:end]:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def crc_ok(data: bytes, framing: Framing) -> bool:
    """Whether every segment's stored CRC matches its header and data (as Garmin's SDK checks it)."""
    return all(crc16(data, start, end) == data[end] | (data[end + 1] << 8) for start, end in framing.segments)


def normalize_compressed(data: bytes, framing: Framing) -> bytes:
    """The file with each compressed-timestamp record header replaced by the normal header of the same local type.

    The bodies are unchanged, so the SDK decodes the same messages; their timestamps come from
    `framing.compressed`. Segment CRCs no longer match: check `crc_ok` on the original.
    """
    out = bytearray(data)
    for pos, local in framing.compressed_at:
        out[pos] = local
    return bytes(out)

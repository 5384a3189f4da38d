"""A minimal FIT file writer for tests: definitions, normal and compressed-timestamp data records, CRCs.

Uses Garmin's `CrcCalculator` (not the importer's CRC) so the importer's framing is checked independently.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from garmin_fit_sdk import CrcCalculator

ENUM, UINT8, UINT16, UINT32, UINT32Z = 0x00, 0x02, 0x84, 0x86, 0x8C
_FORMATS = {ENUM: "B", UINT8: "B", UINT16: "H", UINT32: "I", UINT32Z: "I"}
FIT_EPOCH_S = 631_065_600

FILE_ID, SESSION, RECORD, HRV = 0, 18, 20, 78
FILE_ID_FIELDS = [(0, 1, ENUM), (1, 2, UINT16), (2, 2, UINT16), (3, 4, UINT32Z), (4, 4, UINT32)]
"""type, manufacturer, product, serial_number, time_created."""
SESSION_FIELDS = [(253, 4, UINT32), (2, 4, UINT32), (7, 4, UINT32), (8, 4, UINT32), (5, 1, ENUM), (6, 1, ENUM)]
"""timestamp, start_time, total_elapsed_time (ms), total_timer_time (ms), sport, sub_sport."""


class FitWriter:
    """Builds one FIT segment; fields are (number, size, base type) as in a definition message."""

    def __init__(self) -> None:
        self.body = bytearray()
        self.fields: dict[int, Sequence[tuple[int, int, int]]] = {}

    def define(self, local: int, global_num: int, fields: Sequence[tuple[int, int, int]]) -> FitWriter:
        self.body += bytes([0x40 | local, 0, 0]) + struct.pack("<HB", global_num, len(fields))
        self.body += b"".join(bytes(f) for f in fields)
        self.fields[local] = fields
        return self

    def _payload(self, local: int, values: Sequence[int | Sequence[int]]) -> bytes:
        out = b""
        for (_, size, base), value in zip(self.fields[local], values, strict=True):
            fmt = _FORMATS[base]
            count = size // struct.calcsize(fmt)
            items = value if isinstance(value, list | tuple) else [value]
            out += struct.pack(f"<{count}{fmt}", *items)
        return out

    def data(self, local: int, *values: int | Sequence[int]) -> FitWriter:
        self.body += bytes([local]) + self._payload(local, values)
        return self

    def compressed(self, local: int, time_offset: int, *values: int | Sequence[int]) -> FitWriter:
        """A compressed-timestamp record: local type 0-3, the 5 low bits of its timestamp in the header."""
        self.body += bytes([0x80 | (local << 5) | (time_offset & 0x1F)]) + self._payload(local, values)
        return self

    def build(self) -> bytes:
        header = struct.pack("<BBHI4s", 14, 0x20, 2100, len(self.body), b".FIT")
        header += struct.pack("<H", CrcCalculator.calculate_crc(header, 0, 12))
        crc = CrcCalculator.calculate_crc(header + self.body, 0, len(header) + len(self.body))
        return header + bytes(self.body) + struct.pack("<H", crc)


def activity_start(writer: FitWriter, created: int, *, file_type: int = 4, serial: int = 1234) -> FitWriter:
    """file_id of a Garmin (manufacturer 1) fenix 5 (product 2697) file created at FIT time `created`."""
    return writer.define(0, FILE_ID, FILE_ID_FIELDS).data(0, file_type, 1, 2697, serial, created)


def session(writer: FitWriter, start: int, seconds: int, sport: int = 1, local: int = 3) -> FitWriter:
    """A session message (sport 1 = running) covering `seconds` from FIT time `start`."""
    writer.define(local, SESSION, SESSION_FIELDS)
    return writer.data(local, start + seconds, start, seconds * 1000, seconds * 1000, sport, 0)

"""Cycling Power service (0x1818) Measurement (0x2A63) payloads, and cadence/speed from revolution deltas.

Layout: ``flags`` u16, instantaneous power **sint16** W, then the optional fields the flags announce, in this order:

===  ==========================================================================================
bit  field
===  ==========================================================================================
0    pedal power balance u8, 1/2 %; bit 1 set = the value is the **left** pedal's share
2    accumulated torque u16, 1/32 N·m; bit 3 = 0 wheel based, 1 crank based
4    cumulative wheel revolutions u32 + last wheel event time u16 in **1/2048 s**
5    cumulative crank revolutions u16 + last crank event time u16 in 1/1024 s
6    maximum force magnitude sint16 N + minimum force magnitude sint16 N
7    maximum torque magnitude sint16 + minimum torque magnitude sint16, 1/32 N·m
8    extreme angles: two u12 in 3 bytes, maximum angle in the low 12 bits, minimum in the high 12 bits
9    top dead spot angle u16, degrees
10   bottom dead spot angle u16, degrees
11   accumulated energy u16, kJ
12   offset compensation indicator (no field)
===  ==========================================================================================

Decoder policy: trailing bytes are an error; reserved flag bits 13-15 are ignored. Counters and event times wrap
(u16 crank revolutions and event times, u32 wheel revolutions); :class:`RevolutionRate` turns successive values into
cadence or speed across the wrap.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import BytesLike, sig_uuid

CYCLING_POWER_SERVICE_UUID = sig_uuid(0x1818)
CYCLING_POWER_MEASUREMENT_UUID = sig_uuid(0x2A63)
CYCLING_POWER_FEATURE_UUID = sig_uuid(0x2A65)

FLAG_PEDAL_BALANCE = 1 << 0
FLAG_BALANCE_LEFT_REFERENCE = 1 << 1
FLAG_ACCUMULATED_TORQUE = 1 << 2
FLAG_TORQUE_CRANK_BASED = 1 << 3
FLAG_WHEEL_REVOLUTIONS = 1 << 4
FLAG_CRANK_REVOLUTIONS = 1 << 5
FLAG_EXTREME_FORCES = 1 << 6
FLAG_EXTREME_TORQUES = 1 << 7
FLAG_EXTREME_ANGLES = 1 << 8
FLAG_TOP_DEAD_SPOT = 1 << 9
FLAG_BOTTOM_DEAD_SPOT = 1 << 10
FLAG_ACCUMULATED_ENERGY = 1 << 11
FLAG_OFFSET_COMPENSATION = 1 << 12

WHEEL_EVENT_TICKS_PER_S = 2048
CRANK_EVENT_TICKS_PER_S = 1024
TORQUE_UNITS_PER_NM = 32

# (flag, struct format, field names) in specification order. The extreme angles are the one special case: both
# angles are packed into a single 3-byte value ("3s").
_OPTIONAL_FIELDS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (FLAG_PEDAL_BALANCE, "B", ("pedal_balance_raw",)),
    (FLAG_ACCUMULATED_TORQUE, "H", ("accumulated_torque_raw",)),
    (FLAG_WHEEL_REVOLUTIONS, "IH", ("wheel_revolutions", "last_wheel_event_ticks")),
    (FLAG_CRANK_REVOLUTIONS, "HH", ("crank_revolutions", "last_crank_event_ticks")),
    (FLAG_EXTREME_FORCES, "hh", ("max_force_n", "min_force_n")),
    (FLAG_EXTREME_TORQUES, "hh", ("max_torque_raw", "min_torque_raw")),
    (FLAG_EXTREME_ANGLES, "3s", ("max_angle_deg", "min_angle_deg")),
    (FLAG_TOP_DEAD_SPOT, "H", ("top_dead_spot_deg",)),
    (FLAG_BOTTOM_DEAD_SPOT, "H", ("bottom_dead_spot_deg",)),
    (FLAG_ACCUMULATED_ENERGY, "H", ("accumulated_energy_kj",)),
)


@dataclass(frozen=True)
class CyclingPowerMeasurement:
    """One decoded CP Measurement; optional fields are None when absent. Raw units are kept where scaled."""

    power_w: int
    offset_compensation: bool = False
    pedal_balance_raw: int | None = None
    pedal_balance_left_reference: bool = False
    accumulated_torque_raw: int | None = None
    torque_crank_based: bool = False
    wheel_revolutions: int | None = None
    last_wheel_event_ticks: int | None = None
    crank_revolutions: int | None = None
    last_crank_event_ticks: int | None = None
    max_force_n: int | None = None
    min_force_n: int | None = None
    max_torque_raw: int | None = None
    min_torque_raw: int | None = None
    max_angle_deg: int | None = None
    min_angle_deg: int | None = None
    top_dead_spot_deg: int | None = None
    bottom_dead_spot_deg: int | None = None
    accumulated_energy_kj: int | None = None

    @property
    def pedal_balance_pct(self) -> float | None:
        """Pedal power balance in % (the raw field is in 1/2 %)."""
        return None if self.pedal_balance_raw is None else self.pedal_balance_raw / 2

    @property
    def pedal_balance_left_pct(self) -> float | None:
        """The left pedal's share in %, only when the sensor says the value refers to the left pedal."""
        return self.pedal_balance_pct if self.pedal_balance_left_reference else None

    @property
    def accumulated_torque_nm(self) -> float | None:
        return None if self.accumulated_torque_raw is None else self.accumulated_torque_raw / TORQUE_UNITS_PER_NM


def decode_cycling_power_measurement(data: BytesLike) -> CyclingPowerMeasurement:
    """Decode a 0x2A63 payload; raise DecodeError for anything the specification does not allow."""
    payload = bytes(data)
    size = len(payload)
    if size < 4:
        raise DecodeError(f"0x2A63: {size} bytes, expected at least 4 (u16 flags, sint16 power)")
    flags, power = struct.unpack_from("<Hh", payload, 0)
    fmt = "<" + "".join(code for flag, code, _names in _OPTIONAL_FIELDS if flags & flag)
    expected = 4 + struct.calcsize(fmt)
    if size != expected:
        raise DecodeError(f"0x2A63: {size} bytes, expected exactly {expected} for flags 0x{flags:04x}")
    values = iter(struct.unpack_from(fmt, payload, 4))
    fields: dict[str, object] = {}
    for flag, _code, names in _OPTIONAL_FIELDS:
        if flags & flag:
            if flag == FLAG_EXTREME_ANGLES:
                packed = int.from_bytes(next(values), "little")
                fields.update(zip(names, (packed & 0xFFF, packed >> 12)))
            else:
                fields.update((name, next(values)) for name in names)
    if flags & FLAG_PEDAL_BALANCE:
        fields["pedal_balance_left_reference"] = bool(flags & FLAG_BALANCE_LEFT_REFERENCE)
    if flags & FLAG_ACCUMULATED_TORQUE:
        fields["torque_crank_based"] = bool(flags & FLAG_TORQUE_CRANK_BASED)
    return CyclingPowerMeasurement(
        power_w=power,
        offset_compensation=bool(flags & FLAG_OFFSET_COMPENSATION),
        **fields,  # type: ignore[arg-type]
    )


def encode_cycling_power_measurement(measurement: CyclingPowerMeasurement) -> bytes:
    """Encode a 0x2A63 payload from a measurement (inverse of the decoder); ValueError when out of range."""
    m = measurement
    flags = FLAG_OFFSET_COMPENSATION if m.offset_compensation else 0
    fmt, values = "<", []
    for flag, code, names in _OPTIONAL_FIELDS:
        first = getattr(m, names[0])
        if first is None:  # the first field of a group decides whether the group is sent; the others default to 0
            continue
        rest = [getattr(m, name) or 0 for name in names[1:]]
        if flag == FLAG_EXTREME_ANGLES:
            values.append(((first & 0xFFF) | (rest[0] & 0xFFF) << 12).to_bytes(3, "little"))
        else:
            values.extend((first, *rest))
        flags |= flag
        fmt += code
    if m.pedal_balance_raw is not None and m.pedal_balance_left_reference:
        flags |= FLAG_BALANCE_LEFT_REFERENCE
    if m.accumulated_torque_raw is not None and m.torque_crank_based:
        flags |= FLAG_TORQUE_CRANK_BASED
    try:
        return struct.pack("<Hh", flags, m.power_w) + struct.pack(fmt, *values)
    except struct.error as exc:
        raise ValueError(f"0x2A63: a field is out of range: {exc}") from None


class RevolutionRate:
    """Rate from cumulative revolution counters and event times, across 16/32-bit wrap (a stateful helper).

    ``update`` takes the counter and last-event time of one notification and returns revolutions per second
    × ``scale`` (60 for rpm, the wheel circumference in m for m/s), the previous rate when nothing new happened,
    ``0.0`` after ``stale_after`` notifications without a new event, and None before the second event.
    """

    def __init__(self, ticks_per_s: int, revolution_bits: int, *, scale: float = 60.0, stale_after: int = 2) -> None:
        self.ticks_per_s = ticks_per_s
        self.revolution_modulus = 1 << revolution_bits
        self.scale = scale
        self.stale_after = stale_after
        self._previous: tuple[int, int] | None = None
        self._rate: float | None = None
        self._unchanged = 0

    @classmethod
    def crank_cadence(cls) -> RevolutionRate:
        """Cadence in rpm from CP/CSC crank data (u16 revolutions, 1/1024 s)."""
        return cls(CRANK_EVENT_TICKS_PER_S, 16, scale=60.0)

    @classmethod
    def cps_wheel_speed(cls, circumference_m: float = 2.105) -> RevolutionRate:
        """Speed in m/s from CP wheel data (u32 revolutions, 1/2048 s)."""
        return cls(WHEEL_EVENT_TICKS_PER_S, 32, scale=circumference_m)

    def update(self, revolutions: int, event_ticks: int) -> float | None:
        previous, self._previous = self._previous, (revolutions, event_ticks)
        if previous is None:
            return None
        revs = (revolutions - previous[0]) % self.revolution_modulus
        ticks = (event_ticks - previous[1]) % 0x10000
        if revs == 0 or ticks == 0:
            self._unchanged += 1
            if self._unchanged >= self.stale_after:
                self._rate = 0.0
            return self._rate
        self._unchanged = 0
        self._rate = revs * self.ticks_per_s / ticks * self.scale
        return self._rate

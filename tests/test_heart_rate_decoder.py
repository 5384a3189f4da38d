"""Heart Rate Service payloads: spec byte vectors, malformed input, Bumble's encoder as an oracle, properties."""

from __future__ import annotations

import pytest
from bumble.profiles.heart_rate_service import HeartRateService
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import (
    HEART_RATE_MEASUREMENT_UUID,
    HeartRateMeasurement,
    decode_battery_level,
    decode_body_sensor_location,
    decode_heart_rate_measurement,
    encode_heart_rate_measurement,
    max_rr_per_notification,
)

BumbleMeasurement = HeartRateService.HeartRateMeasurement

NINE_RR = "".join(f"{ticks:04x}"[2:] + f"{ticks:04x}"[:2] for ticks in range(1000, 1009))

VALID_VECTORS = [
    pytest.param(
        "1e 3d 01 00 ef 03 f9 03",
        HeartRateMeasurement(61, True, True, 1, (1007, 1017)),
        id="worked-vector-contact-ee-two-rr",
    ),
    pytest.param("00 48", HeartRateMeasurement(72, False, None, None, ()), id="uint8-contact-unsupported-bits-00"),
    pytest.param("02 48", HeartRateMeasurement(72, False, None, None, ()), id="contact-unsupported-bits-01"),
    pytest.param("04 48", HeartRateMeasurement(72, True, False, None, ()), id="contact-supported-not-detected"),
    pytest.param("06 48", HeartRateMeasurement(72, True, True, None, ()), id="contact-detected"),
    pytest.param("01 2c 01", HeartRateMeasurement(300, False, None, None, ()), id="uint16-heart-rate"),
    pytest.param("01 48 00", HeartRateMeasurement(72, False, None, None, ()), id="uint16-small-heart-rate"),
    pytest.param("08 50 e8 03", HeartRateMeasurement(80, False, None, 1000, ()), id="energy-expended"),
    pytest.param("09 50 00 ff ff", HeartRateMeasurement(80, False, None, 0xFFFF, ()), id="uint16-hr-saturated-ee"),
    pytest.param("10 3c " + NINE_RR, HeartRateMeasurement(60, False, None, None, tuple(range(1000, 1009))), id="9-rr"),
    pytest.param("10 48", HeartRateMeasurement(72, False, None, None, ()), id="rr-flag-without-rr-bytes"),
    pytest.param("e6 48", HeartRateMeasurement(72, True, True, None, ()), id="reserved-bits-ignored"),
    pytest.param("00 00", HeartRateMeasurement(0, False, None, None, ()), id="zero-bpm"),
    pytest.param("10 3c ff ff", HeartRateMeasurement(60, False, None, None, (0xFFFF,)), id="max-rr"),
    pytest.param("10 3c 00 00", HeartRateMeasurement(60, False, None, None, (), rr_zero=1), id="rr-zero-skipped"),
    pytest.param(
        "10 3c ef 03 00 00 f9 03",
        HeartRateMeasurement(60, False, None, None, (1007, 1017), rr_zero=1),
        id="zero-between-two-rr-skipped-bpm-and-others-kept",
    ),
    pytest.param("10 3c 01 00", HeartRateMeasurement(60, False, None, None, (1,)), id="one-tick-rr-kept"),
    pytest.param(
        "18 3c 05 00 00 00 00 00", HeartRateMeasurement(60, False, None, 5, (), rr_zero=2), id="two-zeros-after-ee"
    ),
]

MALFORMED_VECTORS = [
    pytest.param("", "empty", id="empty"),
    pytest.param("00", "expected at least 2 for a uint8", id="flags-only-uint8"),
    pytest.param("01", "expected at least 3 for a uint16", id="flags-only-uint16"),
    pytest.param("01 3c", "expected at least 3 for a uint16", id="truncated-uint16-hr"),
    pytest.param("08 3c", "energy expended", id="missing-ee"),
    pytest.param("08 3c 01", "energy expended", id="truncated-ee"),
    pytest.param("09 3c 00 01", "energy expended", id="truncated-ee-after-uint16"),
    pytest.param("10 3c ef", "multiple of 2", id="odd-rr-byte"),
    pytest.param("10 3c ef 03 f9", "multiple of 2", id="odd-trailing-rr-byte"),
    pytest.param("00 3c 00", "without the RR flag", id="trailing-without-rr-flag"),
]


@pytest.mark.parametrize(("hex_payload", "expected"), VALID_VECTORS)
def test_decodes_spec_vectors(hex_payload: str, expected: HeartRateMeasurement) -> None:
    assert decode_heart_rate_measurement(bytes.fromhex(hex_payload)) == expected


def test_worked_vector_rr_in_milliseconds() -> None:
    measurement = decode_heart_rate_measurement(bytes.fromhex("1e3d0100ef03f903"))
    assert measurement.rr_ms == (1007 * 1000 / 1024, 1017 * 1000 / 1024)
    assert measurement.rr_ms[0] == pytest.approx(983.4, abs=0.05)
    assert measurement.rr_ms[1] == pytest.approx(993.2, abs=0.05)


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_accepts_any_bytes_like(wrap: type) -> None:
    payload = bytes.fromhex("1e3d0100ef03f903")
    assert decode_heart_rate_measurement(wrap(payload)).rr_ticks == (1007, 1017)


@pytest.mark.parametrize(("hex_payload", "message_part"), MALFORMED_VECTORS)
def test_malformed_payloads_raise_decode_error(hex_payload: str, message_part: str) -> None:
    with pytest.raises(DecodeError, match=message_part) as raised:
        decode_heart_rate_measurement(bytes.fromhex(hex_payload))
    message = str(raised.value)
    assert message.startswith("0x2A37: ")
    assert "\n" not in message


def test_nine_rr_fill_a_default_payload_exactly() -> None:
    payload = encode_heart_rate_measurement(60, tuple(range(1000, 1009)), contact=None)
    assert len(payload) == 20
    assert max_rr_per_notification(60, with_energy=False) == 9
    assert max_rr_per_notification(60, with_energy=True) == 8
    assert max_rr_per_notification(300, with_energy=True) == 7
    with pytest.raises(ValueError, match="exceeds the 20-byte limit"):
        encode_heart_rate_measurement(60, tuple(range(1000, 1010)), contact=None)


@pytest.mark.parametrize(
    ("kwargs", "message_part"),
    [
        ({"bpm": -1}, "heart rate"),
        ({"bpm": 65536}, "heart rate"),
        ({"bpm": 60, "energy_kj": 70000}, "energy expended"),
        ({"bpm": 60, "rr_ticks": (0,)}, "RR interval #1"),
        ({"bpm": 60, "rr_ticks": (1000, 65536)}, "RR interval #2"),
    ],
)
def test_encoder_rejects_out_of_range_fields(kwargs: dict, message_part: str) -> None:
    with pytest.raises(ValueError, match=message_part):
        encode_heart_rate_measurement(**kwargs)


def test_encoder_picks_field_widths_and_contact_bits() -> None:
    assert encode_heart_rate_measurement(255, contact=None) == bytes.fromhex("00ff")
    assert encode_heart_rate_measurement(256, contact=None) == bytes.fromhex("010001")
    assert encode_heart_rate_measurement(61, (1007, 1017), energy_kj=1, contact=True) == bytes.fromhex(
        "1e3d0100ef03f903"
    )
    assert encode_heart_rate_measurement(61, contact=False)[0] == 0x04


@pytest.mark.parametrize(
    ("heart_rate", "contact", "energy", "rr_ticks"),
    [
        (61, True, 1, (1007, 1017)),
        (72, None, None, ()),
        (72, False, None, ()),
        (300, True, 65535, (512, 2048, 65535)),
        (180, None, 12, tuple(range(300, 308))),
        (45, True, None, tuple(range(1200, 1209))),
        (70, None, None, None),
    ],
)
def test_bumble_encoder_is_an_oracle(
    heart_rate: int, contact: bool | None, energy: int | None, rr_ticks: tuple[int, ...] | None
) -> None:
    rr_seconds = None if rr_ticks is None else [ticks / 1024 for ticks in rr_ticks]
    oracle = BumbleMeasurement(heart_rate, contact, energy, rr_seconds)
    payload = bytes(oracle)
    ours = decode_heart_rate_measurement(payload)
    assert ours.bpm == heart_rate
    assert ours.contact_supported == (contact is not None)
    assert ours.contact_detected == contact
    assert ours.energy_kj == energy
    assert ours.rr_ticks == (rr_ticks or ())
    # And Bumble's parser reads our encoding the same way.
    parsed = BumbleMeasurement.from_bytes(encode_heart_rate_measurement(heart_rate, rr_ticks or (), energy, contact))
    assert parsed.heart_rate == heart_rate
    assert parsed.sensor_contact_detected == contact
    assert parsed.energy_expended == energy
    assert tuple(round(seconds * 1024) for seconds in parsed.rr_intervals or ()) == (rr_ticks or ())


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"\x00", "other"),
        (b"\x01", "chest"),
        (b"\x02", "wrist"),
        (b"\x03", "finger"),
        (b"\x04", "hand"),
        (b"\x05", "ear lobe"),
        (b"\x06", "foot"),
        (b"\x07", "reserved(7)"),
        (b"\xff", "reserved(255)"),
    ],
)
def test_body_sensor_location(payload: bytes, expected: str) -> None:
    assert decode_body_sensor_location(payload) == expected


@pytest.mark.parametrize("payload", [b"", b"\x01\x00"])
def test_body_sensor_location_wrong_length(payload: bytes) -> None:
    with pytest.raises(DecodeError, match=r"^0x2A38: \d+ bytes, expected exactly 1$"):
        decode_body_sensor_location(payload)


@pytest.mark.parametrize(("payload", "expected"), [(b"\x00", 0), (b"\x5a", 90), (b"\x64", 100)])
def test_battery_level(payload: bytes, expected: int) -> None:
    assert decode_battery_level(bytearray(payload)) == expected


@pytest.mark.parametrize(("payload", "message_part"), [(b"", "0 bytes"), (b"\x64\x00", "2 bytes"), (b"\x65", "101 %")])
def test_battery_level_malformed(payload: bytes, message_part: str) -> None:
    with pytest.raises(DecodeError, match=f"^0x2A19: .*{message_part}"):
        decode_battery_level(payload)


def test_uuid_constants_are_bleak_style() -> None:
    assert HEART_RATE_MEASUREMENT_UUID == "00002a37-0000-1000-8000-00805f9b34fb"


@settings(max_examples=2500, deadline=None)
@given(st.binary(max_size=40))
def test_random_bytes_raise_only_decode_error(payload: bytes) -> None:
    try:
        measurement = decode_heart_rate_measurement(payload)
    except DecodeError:
        return
    assert 0 <= measurement.bpm <= 0xFFFF
    assert all(1 <= ticks <= 0xFFFF for ticks in measurement.rr_ticks)


@st.composite
def measurements(draw: st.DrawFn) -> tuple[int, tuple[int, ...], int | None, bool | None]:
    bpm = draw(st.integers(0, 0xFFFF))
    energy = draw(st.none() | st.integers(0, 0xFFFF))
    contact = draw(st.none() | st.booleans())
    room = max_rr_per_notification(bpm, energy is not None)
    rr_ticks = draw(st.lists(st.integers(1, 0xFFFF), max_size=room))
    return bpm, tuple(rr_ticks), energy, contact


@settings(max_examples=2000, deadline=None)
@given(measurements())
def test_encode_decode_round_trip(measurement: tuple[int, tuple[int, ...], int | None, bool | None]) -> None:
    bpm, rr_ticks, energy, contact = measurement
    payload = encode_heart_rate_measurement(bpm, rr_ticks, energy, contact)
    assert len(payload) <= 20
    decoded = decode_heart_rate_measurement(payload)
    assert decoded == HeartRateMeasurement(bpm, contact is not None, contact, energy, rr_ticks)


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 0xFF), st.lists(st.integers(0, 0xFFFF) | st.just(0), max_size=9))
def test_zero_rr_intervals_are_counted_and_skipped_the_rest_kept_in_order(bpm: int, rr_ticks: list[int]) -> None:
    payload = bytes([0x10, bpm]) + b"".join(ticks.to_bytes(2, "little") for ticks in rr_ticks)
    measurement = decode_heart_rate_measurement(payload)
    assert measurement.bpm == bpm
    assert measurement.rr_ticks == tuple(ticks for ticks in rr_ticks if ticks)
    assert measurement.rr_zero == rr_ticks.count(0)

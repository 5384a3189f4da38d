"""Spec byte vectors for every sensor profile's decoder, encoder round trips, and a fuzz: random bytes only ever
raise DecodeError."""

from __future__ import annotations

import contextlib
import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.ble.cycling_power import (
    CyclingPowerMeasurement,
    RevolutionRate,
    decode_cycling_power_measurement,
    encode_cycling_power_measurement,
)
from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import decode_battery_level, decode_body_sensor_location, decode_heart_rate_measurement
from ingest.ble.muscle_load import (
    decode_pod_info,
    decode_stride_frame,
    encode_pod_info,
    encode_stride_frame,
    sequence_gap,
)
from ingest.ble.polar_pmd import (
    PMD_EPOCH_UNIX_NS,
    decode_acc_frame,
    decode_ecg_frame,
    decode_pmd_command,
    decode_pmd_control_response,
    decode_pmd_features,
    decode_pmd_frame,
    decode_pmd_settings,
    encode_acc_frame,
    encode_pmd_start,
    encode_pmd_stop,
    pmd_samples_in,
)
from ingest.ble.rsc import (
    decode_rsc_feature,
    decode_rsc_measurement,
    decode_sensor_location,
    encode_rsc_measurement,
)

# --- Running Speed and Cadence ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_payload", "speed", "cadence", "running", "stride", "distance"),
    [
        ("0000035a", 3.0, 90, False, None, None),  # walking, no optional fields
        ("04800366", 3.5, 102, True, None, None),  # running bit only
        ("0100016432 00", 1.0, 100, False, 0.5, None),  # walking with stride length
        ("0780 03aa 7d00 10270000", 3.5, 170, True, 1.25, 1000.0),  # running, stride, total distance
        ("02 0000 00 ffffffff", 0.0, 0, False, None, 429496729.5),  # total distance at the u32 limit
        ("f8ff ffff", 0xFFFF / 256, 255, False, None, None),  # reserved flag bits ignored
    ],
)
def test_rsc_measurement_vectors(hex_payload, speed, cadence, running, stride, distance):
    m = decode_rsc_measurement(bytes.fromhex(hex_payload))
    assert (m.speed_mps, m.cadence_spm, m.running, m.stride_length_m, m.total_distance_m) == (
        speed,
        cadence,
        running,
        stride,
        distance,
    )


@pytest.mark.parametrize(
    "hex_payload",
    ["", "00", "000003", "0100035a", "0200035a010203", "0000035a00", "0300035a01"],
)
def test_rsc_measurement_rejects_wrong_lengths(hex_payload):
    with pytest.raises(DecodeError, match="0x2A53"):
        decode_rsc_measurement(bytes.fromhex(hex_payload))


def test_rsc_round_trip_feature_and_location():
    payload = encode_rsc_measurement(4.1, 176, running=True, stride_length_m=1.39, total_distance_m=5012.3)
    m = decode_rsc_measurement(payload)
    assert (round(m.speed_mps, 2), m.cadence_spm, m.running, m.stride_length_m, m.total_distance_m) == (
        4.1,
        176,
        True,
        1.39,
        5012.3,
    )
    feature = decode_rsc_feature(bytes.fromhex("0700"))
    assert (feature.stride_length, feature.total_distance, feature.walk_run_status, feature.calibration) == (
        True,
        True,
        True,
        False,
    )
    assert decode_sensor_location(b"\x02") == "in shoe"
    assert decode_sensor_location(b"\x63") == "reserved(99)"
    with pytest.raises(DecodeError):
        decode_rsc_feature(b"\x07")


# --- Cycling Power --------------------------------------------------------------------------------------------------


def test_cycling_power_instantaneous_power_is_signed():
    assert decode_cycling_power_measurement(bytes.fromhex("00006400")).power_w == 100
    assert decode_cycling_power_measurement(bytes.fromhex("00009cff")).power_w == -100
    assert decode_cycling_power_measurement(bytes.fromhex("00000080")).power_w == -32768


def test_pedal_balance_in_half_percent_with_the_left_reference_bit():
    left = decode_cycling_power_measurement(bytes.fromhex("0300c80065"))  # bits 0 and 1: balance, left reference
    assert (left.power_w, left.pedal_balance_pct, left.pedal_balance_left_pct) == (200, 50.5, 50.5)
    unknown = decode_cycling_power_measurement(bytes.fromhex("0100c8005a"))  # bit 1 clear: reference unknown
    assert (unknown.pedal_balance_pct, unknown.pedal_balance_left_pct) == (45.0, None)


def test_crank_and_wheel_revolution_fields_and_their_time_units():
    crank = decode_cycling_power_measurement(bytes.fromhex("2000fa000a000004"))
    assert (crank.power_w, crank.crank_revolutions, crank.last_crank_event_ticks) == (250, 10, 1024)
    wheel = decode_cycling_power_measurement(bytes.fromhex("1000fa00e80300000008"))
    assert (wheel.wheel_revolutions, wheel.last_wheel_event_ticks) == (1000, 2048)  # 2048 ticks = 1 s (1/2048)


def test_every_optional_field_in_specification_order():
    payload = bytes.fromhex(
        "ff1f"  # flags 0x1FFF: every field, crank-based torque, left reference, offset compensation
        "2c01"  # 300 W
        "64"  # balance 50 %
        "4001"  # torque 320/32 = 10 N·m
        "10270000" "0010"  # wheel revolutions 10000, event 4096/2048 s
        "3200" "0008"  # crank revolutions 50, event 2048/1024 s
        "f401" "0cfe"  # max force 500 N, min force -500 N
        "4006" "c0f9"  # max torque 1600/32, min torque -1600/32
        "785634"  # extreme angles: max 0x678, min 0x345
        "5a00" "0e01"  # dead spots 90°, 270°
        "0a00"  # 10 kJ
    )  # fmt: skip
    m = decode_cycling_power_measurement(payload)
    assert m.offset_compensation and m.torque_crank_based and m.pedal_balance_left_reference
    assert (m.power_w, m.pedal_balance_left_pct, m.accumulated_torque_nm) == (300, 50.0, 10.0)
    assert (m.wheel_revolutions, m.last_wheel_event_ticks, m.crank_revolutions, m.last_crank_event_ticks) == (
        10000,
        4096,
        50,
        2048,
    )
    assert (m.max_force_n, m.min_force_n, m.max_torque_raw, m.min_torque_raw) == (500, -500, 1600, -1600)
    assert (m.max_angle_deg, m.min_angle_deg, m.top_dead_spot_deg, m.bottom_dead_spot_deg) == (0x678, 0x345, 90, 270)
    assert m.accumulated_energy_kj == 10
    assert encode_cycling_power_measurement(m) == payload


@pytest.mark.parametrize("hex_payload", ["", "000064", "01006400", "2000fa000a0000", "00006400ff"])
def test_cycling_power_rejects_wrong_lengths(hex_payload):
    with pytest.raises(DecodeError, match="0x2A63"):
        decode_cycling_power_measurement(bytes.fromhex(hex_payload))


def test_cadence_from_crank_deltas_across_the_16_bit_rollover_then_zero_when_stale():
    cadence = RevolutionRate.crank_cadence()
    assert cadence.update(65535, 65000) is None
    assert cadence.update(1, 1000) == pytest.approx(2 * 60 / 1.5)  # 2 revolutions in 1536/1024 s
    assert cadence.update(1, 1000) == pytest.approx(80.0)  # one notification without a new event keeps it
    assert cadence.update(1, 1000) == 0.0  # the second one reports 0


def test_wheel_speed_from_32_bit_revolutions_and_2048_ticks_per_second():
    speed = RevolutionRate.cps_wheel_speed(circumference_m=2.0)
    speed.update(0xFFFFFFFF, 0xF800)
    assert speed.update(3, 0x0800) == pytest.approx(4 * 2.0 / 2.0)  # 4 revolutions in 4096/2048 s


def test_cycling_power_encoder_rejects_out_of_range():
    with pytest.raises(ValueError):
        encode_cycling_power_measurement(CyclingPowerMeasurement(power_w=40000))


# --- Polar PMD --------------------------------------------------------------------------------------------------


def test_pmd_control_point_features_commands_and_responses():
    assert decode_pmd_features(bytes.fromhex("0f0500")) == {0, 2}  # ECG and ACC
    assert encode_pmd_start(0, {0: 130, 1: 14}) == bytes.fromhex("02000001820001010e00")  # H10 ECG start
    assert encode_pmd_start(2, {0: 50, 1: 16, 2: 8}) == bytes.fromhex("0202000132000101100002010800")
    assert encode_pmd_stop(2) == bytes.fromhex("0302")
    assert decode_pmd_command(bytes.fromhex("0302")) == (3, 2, b"")
    ok = decode_pmd_control_response(bytes.fromhex("f0020200000501 0000803f"))
    assert (ok.opcode, ok.measurement_type, ok.ok, ok.more) == (2, 2, True, False)
    assert decode_pmd_settings(ok.parameters) == {5: (1.0,)}
    refused = decode_pmd_control_response(bytes.fromhex("f0020203"))
    assert (refused.ok, refused.status_name, refused.parameters) == (False, "not supported", b"")
    assert decode_pmd_control_response(bytes.fromhex("f0010200010001320002")).more
    settings = decode_pmd_settings(bytes.fromhex("000219003200 01011000 020302000400 0800"))
    assert settings == {0: (25, 50), 1: (16,), 2: (2, 4, 8)}
    for bad in ("", "f002", "0f020200", "e0020200"):
        with pytest.raises(DecodeError):
            decode_pmd_control_response(bytes.fromhex(bad))
    for bad in ("09", "0002", "00023200"):
        with pytest.raises(DecodeError):
            decode_pmd_settings(bytes.fromhex(bad))


def _header(frame_type: int, timestamp_ns: int = 599_608_994_000_000_000) -> bytes:
    return bytes([0x02]) + struct.pack("<Q", timestamp_ns) + bytes([frame_type])


@pytest.mark.parametrize(
    ("frame_type", "body", "expected"),
    [
        (0x00, "f6 14 64 05 fb 9c", [(-10, 20, 100), (5, -5, -100)]),  # int8 samples
        (0x01, "f6ff 1400 e803 0500 fbff de03", [(-10, 20, 1000), (5, -5, 990)]),  # int16 samples (H10)
        (0x02, "f6ffff 140000 e80300", [(-10, 20, 1000)]),  # int24 samples
    ],
)
def test_pmd_raw_acc_frames(frame_type, body, expected):
    frame = decode_acc_frame(_header(frame_type) + bytes.fromhex(body))
    assert frame.samples == tuple(expected)
    assert frame.timestamp_ns == 599_608_994_000_000_000  # time of the LAST sample, ns since 2000-01-01
    assert decode_pmd_frame(_header(frame_type) + bytes.fromhex(body)).timestamp_unix_ns == (
        599_608_994_000_000_000 + PMD_EPOCH_UNIX_NS
    )


def test_pmd_delta_compressed_frame_with_factor():
    # Reference sample (100, -200, 1000) as int16, then one block: 4-bit deltas, 2 samples, packed LSB first:
    # (1, -1, 2) and (-3, 0, 7) → nibbles 1 F 2 D 0 7 → 0x70D2F1 → bytes f1 d2 70.
    body = bytes.fromhex("6400 38ff e803 0402 f1d270")
    frame = decode_acc_frame(_header(0x81) + body)
    assert frame.samples == ((100, -200, 1000), (101, -201, 1002), (98, -201, 1009))
    halved = decode_acc_frame(_header(0x81) + body, factor=0.5)
    assert halved.samples[2] == (49.0, -100.5, 504.5)
    in_g = decode_acc_frame(_header(0x80) + body, factor=0.001)  # compressed type 0 is in G: × factor × 1000
    assert in_g.samples[0] == pytest.approx((100.0, -200.0, 1000.0))


def test_pmd_encoder_round_trips_raw_and_delta_frames():
    samples = [[i * 7 - 300, 1000 - i * i, (-1) ** i * 40] for i in range(37)]
    for compressed in (False, True):
        payload = encode_acc_frame(123_456_789, samples, compressed=compressed)
        assert decode_acc_frame(payload).samples == tuple(tuple(s) for s in samples)


@pytest.mark.parametrize(
    "payload",
    [
        _header(0x01)[:9],  # header cut short
        _header(0x01),  # no samples
        _header(0x01) + b"\x01\x02\x03",  # not a whole sample
        _header(0x05) + b"\x00" * 6,  # unknown raw frame type
        _header(0x81) + bytes.fromhex("64003800"),  # truncated reference sample
        _header(0x81) + bytes.fromhex("6400 38ff e803 04"),  # truncated block header
        _header(0x81) + bytes.fromhex("6400 38ff e803 0402 f1d2"),  # truncated block
        _header(0x81) + bytes.fromhex("6400 38ff e803 0002"),  # zero bit width
        bytes([0x00]) + _header(0x01)[1:] + b"\x00" * 6,  # ECG type, not ACC
    ],
)
def test_pmd_malformed_frames(payload):
    with pytest.raises(DecodeError):
        decode_acc_frame(payload)


# --- Muscle-load pod ------------------------------------------------------------------------------------------------


def test_muscle_load_stride_frame_vector():
    frame = decode_stride_frame(bytes.fromhex("0107 2a00 02 01 e8030000 f000 5e01 ee02"))
    assert (frame.sequence, frame.side, frame.muscle, frame.sensor_ms) == (42, "right", "gastrocnemius medialis", 1000)
    assert (frame.gct_ms, frame.emg_rms_pct_mvc, frame.impact_g, frame.toe_off_sensor_ms) == (240, 35.0, 7.5, 1240)
    partial = decode_stride_frame(bytes.fromhex("0101 ffff 01 63 ffffffff f000 0000 0000"))
    assert (partial.side, partial.muscle, partial.gct_ms, partial.emg_rms_pct_mvc, partial.impact_g) == (
        "left",
        "reserved(99)",
        240,
        None,
        None,
    )
    payload = encode_stride_frame(
        70000, "left", 2**32 + 5, muscle_code=3, gct_ms=251, emg_rms_pct_mvc=41.3, impact_g=9.87
    )
    again = decode_stride_frame(payload)
    assert (again.sequence, again.sensor_ms, again.muscle, again.emg_rms_pct_mvc, again.impact_g) == (
        70000 % 65536,
        5,
        "soleus",
        41.3,
        9.87,
    )
    info = decode_pod_info(encode_pod_info("right", 5, 88))
    assert (info.side, info.muscle_code, info.strides_per_min) == ("right", 5, 88)


@pytest.mark.parametrize(
    "hex_payload",
    [
        "0107 2a00 02 01 e8030000 f000 5e01",  # 14 bytes
        "0107 2a00 02 01 e8030000 f000 5e01 ee02 00",  # 17 bytes
        "0207 2a00 02 01 e8030000 f000 5e01 ee02",  # version 2
        "010f 2a00 02 01 e8030000 f000 5e01 ee02",  # reserved flag bit 3
        "0107 2a00 00 01 e8030000 f000 5e01 ee02",  # side 0
        "0107 2a00 03 01 e8030000 f000 5e01 ee02",  # side 3
    ],
)
def test_muscle_load_malformed_frames(hex_payload):
    with pytest.raises(DecodeError, match="stride frame"):
        decode_stride_frame(bytes.fromhex(hex_payload))


def test_sequence_gaps_across_the_wrap():
    assert sequence_gap(41, 42) == 0
    assert sequence_gap(41, 45) == 3
    assert sequence_gap(65535, 0) == 0
    assert sequence_gap(65534, 2) == 3
    assert sequence_gap(7, 7) == 0  # a repeat is not a loss
    assert sequence_gap(100, 90) == 0  # a step back is a restart or reordering, not a loss


# --- Fuzz: random bytes never raise anything but DecodeError ------------------------------------------------------

DECODERS = [
    decode_heart_rate_measurement,
    decode_body_sensor_location,
    decode_battery_level,
    decode_rsc_measurement,
    decode_rsc_feature,
    decode_sensor_location,
    decode_cycling_power_measurement,
    decode_pmd_features,
    decode_pmd_settings,
    decode_pmd_control_response,
    decode_pmd_command,
    decode_pmd_frame,
    decode_acc_frame,
    decode_ecg_frame,
    pmd_samples_in,
    decode_stride_frame,
    decode_pod_info,
]
SEEDS = [
    bytes.fromhex("1e3d0100ef03f903"),
    bytes.fromhex("078003aa7d0010270000"),
    bytes.fromhex("ff1f2c01644001102700000010320000 08f4010cfe4006c0f97856345a000e010a00".replace(" ", "")),
    _header(0x81) + bytes.fromhex("640038ffe8030402f1d270"),
    _header(0x01) + bytes.fromhex("f6ff1400e8030500fbffde03"),
    bytes([0x00]) + _header(0x00)[1:] + bytes.fromhex("ffffff000000010000e80300"),  # ECG
    bytes.fromhex("f00202000005010000803f"),
    bytes.fromhex("01072a000201e8030000f0005e01ee02"),
]


FAN_OUT = 10
"""Payloads made from each drawn item: Hypothesis draws seeds and scripts, Python's PRNG expands them cheaply."""


def _mutations(seed: bytes, script: int) -> list[bytes]:
    """Valid vectors with bytes changed, then truncated, extended or kept."""
    rng = random.Random(script)
    out = []
    for _ in range(FAN_OUT):
        data = bytearray(seed)
        for _ in range(rng.randrange(4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        mode = rng.randrange(3)
        if mode == 0:
            data = data[: rng.randrange(len(data) + 1)]
        elif mode == 1:
            data += rng.randbytes(rng.randrange(1, 9))
        out.append(bytes(data))
    return out


def _noise(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.choice((rng.randrange(24), rng.randrange(300)))) for _ in range(FAN_OUT)]


PAYLOADS = st.one_of(
    st.binary(max_size=24).map(lambda payload: [payload + bytes(range(extra)) for extra in range(FAN_OUT)]),
    st.builds(_noise, st.integers(0, 2**32)),
    st.builds(_mutations, st.sampled_from(SEEDS), st.integers(0, 2**32)),
)
"""Pure noise, or valid vectors truncated, extended or with bytes changed (reaches the deep paths)."""


def _only_decode_errors(groups: list[list[bytes]]) -> None:
    assert sum(map(len, groups)) == BATCH * FAN_OUT
    for payload in (payload for group in groups for payload in group):
        for decoder in DECODERS:
            with contextlib.suppress(DecodeError):
                decoder(payload)
        with contextlib.suppress(DecodeError):
            decode_acc_frame(payload, 0.5)


BATCH = 10
"""Drawn items per Hypothesis example; a case is one payload run through every decoder."""


def _fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@_fuzz(2_000 // (BATCH * FAN_OUT))
@given(st.lists(PAYLOADS, min_size=BATCH, max_size=BATCH))
def test_fuzz_decoders_raise_only_decode_error(payloads):
    _only_decode_errors(payloads)


@pytest.mark.slow
@_fuzz(100_000 // (BATCH * FAN_OUT))
@given(st.lists(PAYLOADS, min_size=BATCH, max_size=BATCH))
def test_fuzz_decoders_raise_only_decode_error_100k(payloads):
    _only_decode_errors(payloads)

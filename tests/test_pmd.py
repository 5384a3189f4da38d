"""Polar PMD: ECG frames, ≥2-bit delta blocks and multi-value settings as bytes; the H10-like virtual sensor over
bleak (advertisement, services, start requests checked against its offer with Polar's status codes, frames)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from bleak import BleakClient, BleakScanner
from hypothesis import given, settings
from hypothesis import strategies as st

import ingest.virtual.bumble.client as bumble_client
from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID, decode_heart_rate_measurement
from ingest.ble.polar_pmd import (
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    PMD_EPOCH_UNIX_NS,
    PMD_SERVICE_UUID,
    decode_acc_frame,
    decode_delta_samples,
    decode_ecg_frame,
    decode_pmd_control_response,
    decode_pmd_features,
    decode_pmd_frame,
    decode_pmd_settings,
    encode_acc_frame,
    encode_delta_samples,
    encode_ecg_frame,
    encode_pmd_settings,
    encode_pmd_start,
    encode_pmd_stop,
    pmd_samples_in,
)
from ingest.virtual.bumble.air import VirtualAir
from ingest.virtual.pmd_sensor import VirtualPmdSensor, check_start

TS = 599_608_994_000_000_000
H10_NAME = "Polar H10 0A1B2C3D"
H10_ADDRESS = "C0:00:00:05:00:21"


def _header(measurement_type: int, frame_type: int, timestamp_ns: int = TS) -> bytes:
    return bytes([measurement_type]) + struct.pack("<Q", timestamp_ns) + bytes([frame_type])


# --- Bytes --------------------------------------------------------------------------------------------------------


def test_ecg_frame_vector_int24_microvolts_and_last_sample_time():
    payload = _header(0x00, 0x00) + bytes.fromhex("ffffff 000000 010000 e80300 18fcff ffff7f 000080")
    frame = decode_ecg_frame(payload)
    assert frame.samples_uv == (-1, 0, 1, 1000, -1000, 2**23 - 1, -(2**23))
    assert frame.timestamp_ns == TS and decode_pmd_frame(payload).timestamp_unix_ns == TS + PMD_EPOCH_UNIX_NS
    assert encode_ecg_frame(TS, frame.samples_uv) == payload
    assert pmd_samples_in(payload) == 7


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (_header(0x00, 0x00)[:9], "10-byte header"),
        (_header(0x00, 0x00) + b"\x01\x02", "multiple of 3"),
        (_header(0x00, 0x80) + b"\x00" * 6, "compressed frame type 0"),
        (_header(0x00, 0x01) + b"\x00" * 6, "raw frame type 1"),
        (_header(0x02, 0x01) + b"\x00" * 6, "expected ECG"),
    ],
)
def test_malformed_ecg_frames_raise_decode_error(payload, message):
    with pytest.raises(DecodeError, match=message):
        decode_ecg_frame(payload)


def test_ecg_encoder_rejects_what_int24_cannot_hold():
    for bad in ([2**23], [-(2**23) - 1], []):
        with pytest.raises(ValueError):
            encode_ecg_frame(TS, bad)


def test_slow_ramp_is_sent_in_2_bit_blocks_as_real_sensors_do():
    # 1000, 999, 998 on x: deltas (-1, 0, 0) twice → 2-bit fields 11 00 00 | 11 00 00, LSB first → 0x0C3 → c3 00.
    body = encode_delta_samples([[1000, 0, 0], [999, 0, 0], [998, 0, 0]])
    assert body == bytes.fromhex("e803 0000 0000 02 02 c300")
    assert decode_delta_samples(body, 3, 16) == [[1000, 0, 0], [999, 0, 0], [998, 0, 0]]
    steady = encode_delta_samples([[5, 5, 5]] * 3)  # zero deltas too take 2 bits
    assert steady[6:8] == bytes([2, 2])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(*[st.integers(-32768, 32767)] * 3), min_size=1, max_size=40))
def test_delta_blocks_round_trip_and_are_never_1_bit(samples):
    body = encode_delta_samples([list(s) for s in samples])
    assert decode_delta_samples(body, 3, 16) == [list(s) for s in samples]
    offset = 6
    while offset < len(body):
        width, count = body[offset], body[offset + 1]
        assert width >= 2
        offset += 2 + (width * count * 3 + 7) // 8


def test_raw_acc_frames_are_unscaled_compressed_ones_take_the_factor():
    raw = encode_acc_frame(TS, [[-10, 20, 1000]])
    assert decode_acc_frame(raw, factor=0.5).samples == ((-10, 20, 1000),)  # Polar's SDK: no factor on raw frames
    packed = encode_acc_frame(TS, [[-10, 20, 1000]], compressed=True)
    assert decode_acc_frame(packed, factor=0.5).samples == ((-5.0, 10.0, 500.0),)


def test_get_settings_answer_lists_every_offered_value():
    h10_acc = {0: (25, 50, 100, 200), 1: (16,), 2: (2, 4, 8)}
    answer = encode_pmd_settings(h10_acc)
    assert answer == bytes.fromhex("0004 1900 3200 6400 c800 0101 1000 0203 0200 0400 0800")
    assert decode_pmd_settings(answer) == h10_acc


@pytest.mark.parametrize(
    ("request_hex", "status"),
    [
        ("000132000101100002010800", 0),  # 50 Hz, 16 bit, 8 G
        ("0001c8000101100002010200", 8),  # 200 Hz, 2 G: the rate is checked first
        ("000132000101100002010200", 9),  # 2 G
        ("000132000101080002010800", 7),  # 8-bit resolution
        ("0001320001011000", 0),  # the range left out: the only one offered
        ("00013200010110000201080004010300", 5),  # channels: not a setting of this offer
        ("0002320032000101100002010800", 5),  # two values for one setting
        ("00013200010110000201", 5),  # truncated TLV
    ],
)
def test_start_requests_are_checked_against_the_offer(request_hex, status):
    offer = {0: (50,), 1: (16,), 2: (8,)}
    code, chosen = check_start(offer, bytes.fromhex(request_hex))
    assert code == status
    assert (chosen == {0: 50, 1: 16, 2: 8}) == (status == 0)
    assert check_start({0: (25, 50), 1: (16,)}, bytes.fromhex("01011000"))[0] == 5  # two rates offered, none chosen


# --- The H10-like sensor over bleak ---------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def air() -> AsyncIterator[VirtualAir]:
    async with VirtualAir() as virtual_air:
        yield virtual_air


class ControlPoint:
    """Writes PMD commands and returns the decoded indication that answers each."""

    def __init__(self, client: BleakClient) -> None:
        self.client = client
        self.responses: asyncio.Queue[bytes] = asyncio.Queue()

    async def open(self) -> None:
        await self.client.start_notify(PMD_CONTROL_POINT_UUID, lambda _c, data: self.responses.put_nowait(bytes(data)))

    async def send(self, command: bytes):
        await self.client.write_gatt_char(PMD_CONTROL_POINT_UUID, command, response=True)
        async with asyncio.timeout(2.0):
            return decode_pmd_control_response(await self.responses.get())


@pytest.mark.asyncio
async def test_h10_like_sensor_advertises_heart_rate_and_offers_hr_pmd_battery(air: VirtualAir) -> None:
    h10 = VirtualPmdSensor(air, H10_NAME, H10_ADDRESS)
    await h10.start()
    async with BleakScanner(service_uuids=[HEART_RATE_SERVICE_UUID], **air.scanner_kwargs()) as scanner:
        async with asyncio.timeout(2.0):
            async for found, found_adv in scanner.advertisement_data():
                if found.address == H10_ADDRESS:
                    device, adv = found, found_adv
                    break
    assert adv.local_name == H10_NAME and adv.service_uuids == [HEART_RATE_SERVICE_UUID]
    async with BleakClient(device, **air.client_kwargs()) as client:
        services = {service.uuid for service in client.services}
        assert {HEART_RATE_SERVICE_UUID, PMD_SERVICE_UUID, "0000180f-0000-1000-8000-00805f9b34fb"} <= services
        assert decode_pmd_features(await client.read_gatt_char(PMD_CONTROL_POINT_UUID)) == {0, 2}  # ECG, ACC
        assert await client.read_gatt_char("2a38") == bytearray(b"\x01")  # chest
        control = ControlPoint(client)
        await control.open()
        acc = await control.send(bytes([0x01, 0x02]))
        assert decode_pmd_settings(acc.parameters) == {0: (25, 50, 100, 200), 1: (16,), 2: (2, 4, 8)}
        ecg = await control.send(bytes([0x01, 0x00]))
        assert decode_pmd_settings(ecg.parameters) == {0: (130,), 1: (14,)}
        beats: list[bytes] = []
        await client.start_notify(HEART_RATE_MEASUREMENT_UUID, lambda _c, data: beats.append(bytes(data)))
        assert await h10.send_heart_rate(62, [968.75, 976.5625]) == 2
        async with asyncio.timeout(2.0):
            while not beats:
                await asyncio.sleep(0.01)
    measurement = decode_heart_rate_measurement(beats[0])
    assert beats[0][0] == 0x16 and measurement.energy_kj is None  # contact detected + RR, no energy, as an H10
    assert (measurement.bpm, measurement.rr_ticks) == (62, (992, 1000))


@pytest.mark.asyncio
async def test_out_of_range_settings_get_polar_status_codes_and_no_frames(air: VirtualAir) -> None:
    """The issue's case: a sensor offering 50 Hz and ±8 G refuses 200 Hz (8) and ±2 G (9) and streams nothing."""
    sensor = VirtualPmdSensor(air, "Polar Sense 1", "C0:00:00:05:00:22", acc={0: (50,), 1: (16,), 2: (8,)}, ecg=None)
    await sensor.start()
    async with BleakClient(sensor.address, **air.client_kwargs()) as client:
        control = ControlPoint(client)
        await control.open()
        frames: list[bytes] = []
        await client.start_notify(PMD_DATA_UUID, lambda _c, data: frames.append(bytes(data)))
        assert (await control.send(encode_pmd_start(2, {0: 200, 1: 16, 2: 2}))).status == 8
        assert (await control.send(encode_pmd_start(2, {0: 50, 1: 16, 2: 2}))).status == 9
        assert (await control.send(encode_pmd_start(0, {0: 130, 1: 14}))).status == 3  # no ECG offered
        assert (await control.send(bytes([0x05, 0x02]))).status == 1  # get status: not an op code it knows
        assert not sensor.streaming and not await sensor.send_frame(TS, [[0, 0, 1000]])
        started = await control.send(encode_pmd_start(2, {0: 50, 1: 16, 2: 8}))
        assert started.ok and decode_pmd_settings(started.parameters) == {5: (1.0,)}
        assert (await control.send(encode_pmd_start(2, {0: 50, 1: 16, 2: 8}))).status == 6
        assert await sensor.send_frame(TS, [[0, -9000, 1000]])
        async with asyncio.timeout(2.0):
            while not frames:
                await asyncio.sleep(0.01)
        assert decode_acc_frame(frames[0]).samples == ((0, -8000, 1000),)  # saturated at the started ±8 G
        assert (await control.send(encode_pmd_stop(2))).ok and not sensor.streaming
    assert sensor.statuses == [8, 9, 3, 1, 0, 6, 0]


@pytest.mark.asyncio
async def test_ecg_needs_an_att_mtu_of_232(air: VirtualAir, monkeypatch: pytest.MonkeyPatch) -> None:
    h10 = VirtualPmdSensor(air, H10_NAME, H10_ADDRESS)
    await h10.start()
    monkeypatch.setattr(bumble_client, "REQUESTED_MTU", 231)  # a central that negotiates one byte too little
    async with BleakClient(h10.address, **air.client_kwargs()) as client:
        control = ControlPoint(client)
        await control.open()
        assert (await control.send(encode_pmd_start(0, {0: 130, 1: 14}))).status == 10
    monkeypatch.setattr(bumble_client, "REQUESTED_MTU", 232)
    async with BleakClient(h10.address, **air.client_kwargs()) as client:
        control = ControlPoint(client)
        await control.open()
        assert (await control.send(encode_pmd_start(0, {0: 130, 1: 14}))).ok and h10.ecg_streaming
    assert not h10.ecg_streaming  # every stream stops with the link

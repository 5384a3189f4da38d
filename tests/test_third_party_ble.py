"""Third-party bleak code, unchanged, against the virtual wearables through `ingest.virtual.anybleak`.

pycycling 0.4.1, bleakheart 0.2.0 and polar-python 1.1.1 (the `dev` extra) build their own `BleakClient`s and
`BleakScanner`s; inside `virtual_bleak(air)` those reach the virtual strap, power meter, footpod and H10-like PMD
sensor. Each client must connect and receive, and decode to exactly what the virtual device sent. Where a library
has a bug of its own, the test names it and checks the bytes against the specification with our decoders instead.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest
import pytest_asyncio
from bleak import BleakClient, BleakScanner
from shared_data import skip_or_fail

from ingest.ble.cycling_power import decode_cycling_power_measurement
from ingest.ble.heart_rate import decode_heart_rate_measurement
from ingest.ble.polar_pmd import PMD_EPOCH_UNIX_NS, decode_acc_frame, encode_acc_frame
from ingest.ble.rsc import RSC_MEASUREMENT_UUID, decode_rsc_measurement
from ingest.virtual.anybleak import BACKEND_ID, virtual_bleak
from ingest.virtual.bumble.air import VirtualAir
from ingest.virtual.ecg_waveform import ECG_SAMPLE_RATE_HZ, ecg_uv
from ingest.virtual.footpod import VirtualFootpod
from ingest.virtual.hr_strap import VirtualHeartRateStrap
from ingest.virtual.physiology import make_squad, session_hr
from ingest.virtual.pmd_sensor import VirtualPmdSensor
from ingest.virtual.power_meter import VirtualPowerMeter
from monitor.ecg import ecg_rr_ms, rr_agreement_ms

try:
    import bleakheart
    import polar_python
    from polar_python.constants import PmdMeasurementType
    from polar_python.parsers.compression import parse_delta_frames_all
    from pycycling.battery_service import BatteryService
    from pycycling.cycling_power_service import CyclingPowerService, SensorLocation
    from pycycling.heart_rate_service import HeartRateService
except ImportError as missing:
    skip_or_fail(
        f"{missing.name} is not installed: pip install -e '.[dev]'",
        ci_reason=f"{missing.name} missing: the dev extra must be installed under CI",
        module_level=True,
    )

TS = 700_000_000_000_000_000
STRAP, POWER, FOOTPOD, H10, SENSE = (
    ("HRM-T01", "C0:00:00:01:00:41"),
    ("KICKR T01", "C0:00:00:06:00:41"),
    ("FP-T01", "C0:00:00:02:00:41"),
    ("Polar H10 7E57A1B2", "C0:00:00:05:00:41"),
    ("Polar Sense 7E57", "C0:00:00:05:00:42"),
)


@pytest_asyncio.fixture
async def air() -> AsyncIterator[VirtualAir]:
    async with VirtualAir() as virtual_air:
        yield virtual_air


async def until(condition: Callable[[], bool], timeout_s: float = 3.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


async def started(peer, *args, **kwargs):
    device = peer(*args, **kwargs)
    await device.start()
    return device


def ramp_acc(n: int = 12) -> list[list[int]]:
    """Slow ramps (one mG per sample, down and up) and a still axis: the case 1-bit delta blocks got wrong."""
    return [[1000 - i, -500 + i, 16] for i in range(n)]


# --- pycycling ------------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_pycycling_heart_rate_from_the_strap(air: VirtualAir) -> None:
    strap = await started(VirtualHeartRateStrap, air, *STRAP, max_payload=20)
    got = []
    with virtual_bleak(air):
        client = BleakClient(STRAP[1])
    assert client.backend_id == BACKEND_ID
    async with client:
        service = HeartRateService(client)
        service.set_hr_measurement_handler(got.append)
        await service.enable_hr_measurement_notifications()
        await strap.send(61, [983.3984375, 993.1640625])
        await strap.send(64, [937.5], contact=False)
        await until(lambda: len(got) == 2)
    first, second = got
    assert (first.bpm, first.rr_interval, first.energy_expended, first.sensor_contact) == (61, [1007, 1017], 1, True)
    assert (second.bpm, second.rr_interval, second.energy_expended) == (64, [960], 2)
    # pycycling bug: contact = flags & 0x06, so "contact supported, none detected" (flags bit 2 only) reads as contact.
    assert second.sensor_contact is True
    assert strap.last_sent == bytes.fromhex("1c 40 0200 c003")  # flags: RR, energy, contact supported, not detected
    assert decode_heart_rate_measurement(strap.last_sent).contact_detected is False


@pytest.mark.asyncio
async def test_pycycling_cycling_power_from_the_power_meter(air: VirtualAir) -> None:
    meter = await started(VirtualPowerMeter, air, *POWER)
    got, sent = [], []
    with virtual_bleak(air):
        device = await BleakScanner.find_device_by_name(POWER[0], timeout=3.0)
        assert device is not None
        client = BleakClient(device)
    async with client:
        service = CyclingPowerService(client)
        assert await service.get_sensor_location() == SensorLocation.left_crank
        feature = await service.get_cycling_power_feature()
        assert feature.pedal_power_balance_supported and feature.crank_rev_supported and feature.wheel_rev_supported
        service.set_cycling_power_measurement_handler(got.append)
        await service.enable_cycling_power_measurement_notifications()
        for power_w in (250, -20):
            await meter.send(power_w, 90.0, 9.0, 51.5, 1.0)
            sent.append(decode_cycling_power_measurement(meter.last_sent))
        await until(lambda: len(got) == 2)
    assert got[0].instantaneous_power == 250 and got[0].pedal_power_balance == 103  # raw 0.5 % units: 51.5 %
    assert (got[1].cumulative_crank_revs, got[1].last_crank_event_time) == (
        sent[1].crank_revolutions,
        sent[1].last_crank_event_ticks,
    )
    assert got[1].cumulative_wheel_revs == sent[1].wheel_revolutions
    # pycycling bug: instantaneous power is read as unsigned, the specification makes it sint16 (back-pedalling).
    assert got[1].instantaneous_power == 65536 - 20 and sent[1].power_w == -20


@pytest.mark.asyncio
async def test_footpod_battery_through_pycycling_and_rsc_through_plain_bleak(air: VirtualAir) -> None:
    footpod = await started(VirtualFootpod, air, *FOOTPOD)
    got = []
    with virtual_bleak(air):
        devices = await BleakScanner.discover(timeout=1.0)
        client = BleakClient(next(d for d in devices if d.name == FOOTPOD[0]))
    async with client:
        assert await BatteryService(client).get_battery_level() == 80
        await client.start_notify(RSC_MEASUREMENT_UUID, lambda _c, data: got.append(bytes(data)))
        await footpod.send(3.5, 172, 1.22, 1.0)
        await until(lambda: len(got) == 1)
    measurement = decode_rsc_measurement(got[0])
    assert (measurement.speed_mps, measurement.cadence_spm, measurement.running) == (3.5, 172, True)
    assert measurement.total_distance_m == 3.5


# --- polar-python -----------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_polar_python_features_settings_acc_ecg_and_hr_from_the_h10(air: VirtualAir) -> None:
    h10 = await started(VirtualPmdSensor, air, *H10)
    acc, ecg, hr = [], [], []
    with virtual_bleak(air):
        device = await BleakScanner.find_device_by_name(H10[0], timeout=3.0)
        polar = polar_python.PolarDevice(device)
    async with polar:
        assert await polar.get_available_features() == [PmdMeasurementType.ECG, PmdMeasurementType.ACC]
        offered = await polar.request_stream_settings(PmdMeasurementType.ACC)
        assert {s.type.name: s.values for s in offered.settings} == {
            "SAMPLE_RATE": [25, 50, 100, 200],
            "RESOLUTION": [16],
            "RANGE": [2, 4, 8],
        }
        # polar-python does not look at the start status: the sensor refuses 52 Hz (8) and nothing streams.
        await polar.start_acc_stream(acc.append, sample_rate=52, resolution=16, range=8)
        assert h10.statuses[-1] == 8 and not h10.streaming
        await polar.start_acc_stream(acc.append, sample_rate=100, resolution=16, range=4)
        await polar.start_ecg_stream(ecg.append, sample_rate=130, resolution=14)
        await polar.start_hr_stream(hr.append)
        assert h10.acc_sample_rate_hz == 100 and h10.ecg_streaming
        ecg_sent = [round(v) for v in ecg_uv(np.arange(73) / 130, np.array([0.25]), np.random.default_rng(1))]
        await h10.send_frame(TS, ramp_acc())
        await h10.send_ecg_frame(TS + 1, ecg_sent)
        await h10.send_heart_rate(72, [833.984375, 816.40625])
        await until(lambda: acc and ecg and hr)
    assert acc[0].data == [tuple(s) for s in ramp_acc()] and acc[0].timestamp == TS + PMD_EPOCH_UNIX_NS
    assert ecg[0].data == ecg_sent and ecg[0].timestamp == TS + 1 + PMD_EPOCH_UNIX_NS
    assert max(ecg_sent) > 1000  # an R wave in the frame
    assert (hr[0].heartrate, hr[0].rr_intervals) == (72, [833.984375, 816.40625])


@pytest.mark.asyncio
async def test_polar_python_compressed_acc_slow_ramps_decode_exactly(air: VirtualAir) -> None:
    sense = await started(VirtualPmdSensor, air, *SENSE, compressed=True, ecg=None)
    got = []
    with virtual_bleak(air):
        polar = polar_python.PolarDevice(SENSE[1])
    async with polar:
        await polar.start_acc_stream(got.append, sample_rate=50, resolution=16, range=8)
        assert await sense.send_frame(TS, ramp_acc(30))
        await until(lambda: bool(got))
    assert got[0].data == [tuple(s) for s in ramp_acc(30)]
    # The same ramp in 1-bit blocks (which no real sensor sends) is what polar-python and Polar's SDK misread:
    # they do not sign-extend 1-bit deltas, so 1000, 999, 998 reads 1000, 1001, 1002.
    one_bit = bytes.fromhex("e803 0000 0000 01 02 09")  # x deltas −1, −1 (bits 1), y and z 0
    assert [s[0] for s in parse_delta_frames_all(one_bit, 3, 16, "signed_int")] == [1000, 1001, 1002]
    assert encode_acc_frame(TS, [[1000, 0, 0], [999, 0, 0], [998, 0, 0]], compressed=True)[16] == 2  # we send 2 bits


# --- bleakheart -------------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_bleakheart_pmd_statuses_acc_ecg_and_hr_from_the_h10(air: VirtualAir) -> None:
    h10 = await started(VirtualPmdSensor, air, *H10)
    frames, beats = [], []
    with virtual_bleak(air):
        client = BleakClient(H10[1])
    async with client:
        pmd = bleakheart.PolarMeasurementData(client, callback=frames.append)
        assert await pmd.available_measurements() == ["ECG", "ACC"]
        settings = await pmd.available_settings("ACC")
        assert (settings["SAMPLE_RATE"], settings["RANGE"]) == ([25, 50, 100, 200], [2, 4, 8])
        assert (await pmd.start_streaming("ACC", SAMPLE_RATE=400))[:2] == (8, "INVALID SAMPLE RATE")
        assert (await pmd.start_streaming("ACC", RANGE=16))[:2] == (9, "INVALID RANGE")
        assert (await pmd.start_streaming("ACC", RESOLUTION=12))[:2] == (7, "INVALID RESOLUTION")
        assert (await pmd.start_streaming("ACC"))[0] == 0  # bleakheart's default: 200 Hz, 16 bit, ±2 G
        assert (await pmd.start_streaming("ACC"))[:2] == (6, "ALREADY IN STATE")
        assert (await pmd.start_streaming("ECG"))[0] == 0
        heart = bleakheart.HeartRate(client, callback=beats.append, unpack=False)
        await heart.start_notify()
        ecg_sent = [(-1) ** i * (i * 97 % 1900) for i in range(73)]
        await h10.send_frame(TS, [[0, 1999, -2500], *ramp_acc()])
        await h10.send_ecg_frame(TS, ecg_sent)
        await h10.send_heart_rate(58, [1034.1796875])
        await until(lambda: len(frames) == 2 and beats)
    by_kind = {kind: payload for kind, _, payload in frames}
    assert by_kind["ACC"] == [(0, 1999, -2000), *map(tuple, ramp_acc())]  # saturated at the started ±2 G
    assert by_kind["ECG"] == ecg_sent
    kind, _, (bpm, rr), energy = beats[0]
    assert (kind, bpm, rr, energy) == ("HR", 58, [1034], None)  # bleakheart rounds RR to whole ms (1059 ticks)


@pytest.mark.asyncio
async def test_bleakheart_strap_energy_and_compressed_acc_as_raw_frames(air: VirtualAir) -> None:
    strap = await started(VirtualHeartRateStrap, air, *STRAP)
    sense = await started(VirtualPmdSensor, air, *SENSE, compressed=True, ecg=None)
    beats, frames = [], []
    with virtual_bleak(air):
        strap_client, sense_client = BleakClient(STRAP[1]), BleakClient(SENSE[1])
    async with strap_client, sense_client:
        await bleakheart.HeartRate(strap_client, callback=beats.append, unpack=False).start_notify()
        pmd = bleakheart.PolarMeasurementData(sense_client, callback=frames.append)
        assert (await pmd.start_streaming("ACC", SAMPLE_RATE=50, RANGE=8))[0] == 0
        await strap.send(61, [983.3984375])
        await sense.send_frame(TS, ramp_acc())
        await until(lambda: beats and frames)
    # bleakheart bug: it stores Energy Expended under 'nrg' and reads 'ee', so the energy is always None.
    assert beats[0][2] == (61, [983]) and beats[0][3] is None
    assert decode_heart_rate_measurement(strap.last_sent).energy_kj == 1  # the strap sent 1 kJ
    # bleakheart decodes only raw ACC (frame type 1); a compressed frame comes back as bytes: check them by the spec.
    kind, _, payload = frames[0]
    assert kind == "ACC" and payload[9] == 0x81
    assert decode_acc_frame(bytes(payload)).samples == tuple(map(tuple, ramp_acc()))


# --- ECG against the strap, and whole programs -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rr_from_polar_python_ecg_agrees_with_the_straps_rr_from_pycycling(air: VirtualAir) -> None:
    """Acceptance: on the same simulated beats, ECG-derived RR within 2 ms (median |difference|) of the strap's."""
    rng = np.random.default_rng(21)
    _, rr_ms = session_hr(make_squad(1, 28, rng)[0], np.full(80, 0.7), rng)
    beats_s = np.cumsum(rr_ms) / 1000.0
    strap = await started(VirtualHeartRateStrap, air, *STRAP, max_payload=20)
    h10 = await started(VirtualPmdSensor, air, *H10)
    ecg, strap_ticks = [], []
    with virtual_bleak(air):
        strap_client, polar = BleakClient(STRAP[1]), polar_python.PolarDevice(H10[1])
    async with strap_client, polar:
        heart = HeartRateService(strap_client)
        heart.set_hr_measurement_handler(lambda m: strap_ticks.extend(m.rr_interval))
        await heart.enable_hr_measurement_notifications()
        await polar.start_ecg_stream(ecg.append, sample_rate=130, resolution=14)
        n = 79 * 130 // 73 * 73
        t_s = np.arange(n) / ECG_SAMPLE_RATE_HZ
        samples = np.rint(ecg_uv(t_s, beats_s, rng)).astype(int).tolist()
        for second in range(79):  # faster than real time: every value carries its own sensor time
            await strap.send(150, rr_ms[np.floor(beats_s).astype(int) == second].tolist())
            for start in range(0, n, 73):
                if int(t_s[start]) == second:
                    await h10.send_ecg_frame(TS + round(t_s[start + 72] * 1e9), samples[start : start + 73])
        await until(lambda: len(ecg) == n // 73 and len(strap_ticks) == strap.rr_delivered, 5.0)
    assert [v for frame in ecg for v in frame.data] == samples
    assert all(abs(b.timestamp - a.timestamp - 73e9 / 130) <= 1 for a, b in itertools.pairwise(ecg))  # 73 samples
    ecg_rr = ecg_rr_ms(np.array(samples, dtype=float), ECG_SAMPLE_RATE_HZ)
    agreement = rr_agreement_ms(np.array(strap_ticks) * 1000 / 1024, ecg_rr)
    assert agreement.pairs >= 120 and agreement.median_abs_diff_ms <= 2.0  # acceptance
    assert agreement.median_abs_diff_ms < 0.5  # measured ≈ 0.25 ms: the strap's own 1/1024-s rounding


def test_polar_pythons_own_cli_streams_from_the_virtual_squad_unchanged():
    """`python -m ingest.virtual.anybleak -m polar_python …`: a whole third-party program, not one line changed."""
    command = [sys.executable, "-m", "ingest.virtual.anybleak", "-m", "polar_python", "stream"]
    command += ["--name-contains", "Polar ACC", "--timeout", "1.5", "--duration", "2", "--json"]
    command += ["--stream", "hr", "--stream", "ecg:sample_rate=130,resolution=14"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert '"event": "connected"' in lines[1] and '"name": "Polar ACC 01"' in lines[1]
    assert any(line.startswith('{"type": "ECG"') for line in lines)
    assert any(line.startswith('{"type": "HR"') for line in lines)

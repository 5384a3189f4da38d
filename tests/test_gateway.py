"""The gateway against a virtual squad: chaos on every link and the store, yet every sample stored exactly once."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from ingest.gateway.clock_sync import SensorClockMapper, Unwrapper
from ingest.gateway.config import ConfigError, DeviceSpec, SquadConfig, parse_config
from ingest.gateway.gateway import Gateway
from ingest.gateway.spool import Spool
from ingest.store.sqlite import SQLiteStore
from ingest.virtual.chaos_air import ChaosAir
from ingest.virtual.hr_strap import VirtualHeartRateStrap
from ingest.virtual.run import RECOVERY_BUDGET_S, VirtualRunConfig, run_virtual_ingest, virtual_settings

ALL_CHAOS = ("link-loss", "half-open", "out-of-range", "store-outage", "malformed")

EXAMPLE = """
[gateway]
id = "pitch-1"
adapter_slots = 5
watchdog_periods = 4
spool = "spool.sqlite"

[[device]]
athlete = "A01"
profile = "heart_rate"
address = "c0:00:00:00:01:01"

[[device]]
athlete = "A01"
profile = "muscle_load"
name = "MLP-01*"
side = "left"
label = "A01 left pod"
"""


def test_squad_config_parses_and_matches_by_address_or_glob():
    config = parse_config(EXAMPLE)
    assert config.gateway.id == "pitch-1" and config.gateway.adapter_slots == 5
    strap, pod = config.devices
    assert strap.matches("C0:00:00:00:01:01", None) and not strap.matches("C0:00:00:00:01:02", None)
    assert pod.matches("C0:00:00:03:00:01", "MLP-01L") and not pod.matches("C0:00:00:03:00:01", "MLP-02L")
    assert pod.key == "A01 left pod" and pod.side == "left"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('profile = "heart_rate"', "profile 'ecg'"),
        ('athlete = "A01"', "pseudonymous"),
        ('side = "left"', "needs side"),
        ('address = "c0:00:00:00:01:01"', "exactly one of address or name"),
        ("adapter_slots = 5", "adapter_slots"),
    ],
)
def test_squad_config_errors_name_the_entry(change, message):
    broken = {
        'profile = "heart_rate"': 'profile = "ecg"',
        'athlete = "A01"': 'athlete = "Jane Doe <jane@example.org>"',
        'side = "left"': "",
        'address = "c0:00:00:00:01:01"': 'address = "c0:00:00:00:01:01"\nname = "x"',
        "adapter_slots = 5": "adapter_slots = 0",
    }[change]
    with pytest.raises(ConfigError, match=message):
        parse_config(EXAMPLE.replace(change, broken, 1))


def test_left_and_right_pod_clocks_line_up_on_the_host_clock():
    """Two pods with their own offsets and ±80 ppm drift, seen through random latency, map to the same moments."""
    rng = np.random.default_rng(3)
    mappers = {"left": SensorClockMapper(), "right": SensorClockMapper()}
    clocks = {"left": (5e6, 80e-6), "right": (1.23e8, -80e-6)}
    host0 = 1.7e12
    errors = []
    for step in range(1200):  # 20 minutes of strides at 1 Hz per side
        true_ms = step * 1000.0
        for side, (offset, drift) in clocks.items():
            sensor = offset + true_ms * (1 + drift)
            mappers[side].observe(sensor, host0 + true_ms + rng.exponential(15.0) + 3.0)
        if step > 60:
            left = mappers["left"].to_host(clocks["left"][0] + true_ms * (1 + clocks["left"][1]))
            right = mappers["right"].to_host(clocks["right"][0] + true_ms * (1 + clocks["right"][1]))
            errors.append(abs(left - right))
            assert abs(left - (host0 + true_ms)) < 15.0
    assert np.percentile(errors, 99) < 10.0
    assert abs(mappers["left"].drift_ppm - 80) < 40 and abs(mappers["right"].drift_ppm + 80) < 40


def test_wrapping_sensor_clock_is_unwrapped():
    unwrap = Unwrapper(1 << 32)
    assert [unwrap(v) for v in (2**32 - 10, 2**32 - 1, 5, 20)] == [2**32 - 10, 2**32 - 1, 2**32 + 5, 2**32 + 20]


def test_short_chaos_run_stores_every_delivered_sample_exactly_once(tmp_path):
    store = SQLiteStore(tmp_path / "store.sqlite")
    config = VirtualRunConfig(
        athletes=4, duration_s=20.0, spool_path=tmp_path / "spool.sqlite", chaos=ALL_CHAOS, seed=3
    )
    report = asyncio.run(run_virtual_ingest(config, store))
    sensors = [(a.athlete, label, s) for a in report.athletes for label, s in a.sensors.items()]
    assert len(sensors) == 16
    for athlete, label, sensor in sensors:
        assert sensor.delivered > 0, (athlete, label)
        assert sensor.stored == sensor.delivered, (athlete, label, sensor)
        assert sensor.malformed_rejected == sensor.malformed_delivered, (athlete, label, sensor)
        assert sensor.recovered, (athlete, label, sensor)
        if sensor.recovery_s_max is not None:
            assert sensor.recovery_s_max <= RECOVERY_BUDGET_S
    kinds = {fault for _, _, sensor in sensors for fault in sensor.faults}
    assert {"link-loss", "half-open", "out-of-range"} <= kinds
    assert sum(sensor.malformed_rejected for _, _, sensor in sensors) >= 16
    half_open = [sensor for _, _, sensor in sensors if "half-open" in sensor.faults]
    assert all(sensor.watchdog_trips >= 1 and sensor.reconnects >= 1 for sensor in half_open)
    assert report.ok and report.gateway.drained and report.spool_left_points == 0
    assert report.gateway.store_outages == 1 and report.store_outages[0].duration_s >= 4.9
    assert report.recovery_s_max == max(s.recovery_s_max or 0.0 for _, _, s in sensors)
    assert_virtual_json_document(report.to_json(), report.gateway.telemetry)
    assert store.count("gateway") >= 10
    states = store.read("device_state", "sim-01", ["state"])
    assert {"searching", "connected", "stopped"} <= set(states.columns["state"].tolist())


def assert_virtual_json_document(document: dict, telemetry: dict) -> None:
    """The `ingest --virtual --json` document: its keys, in order, as scripts read them."""
    assert list(document) == [
        "ok", "recovery_s_max", "chaos_events", "store_outages", "gateway", "athletes",
        "athletes_n", "duration_s", "chaos", "store", "spool_left_points", "elapsed_s",
    ]  # fmt: skip
    assert list(document["gateway"]) == [*telemetry, "drained", "store_write_latency", "store_outages"]
    assert all(list(event) == ["kind", "at_s", "target", "duration_s"] for event in document["chaos_events"])
    assert all(list(outage) == ["at_s", "duration_s"] for outage in document["store_outages"])
    for athlete in document["athletes"]:
        assert list(athlete) == ["athlete", "sensors"]
        for sensor in athlete["sensors"].values():
            assert list(sensor) == [
                "device", "delivered", "stored", "malformed_rejected", "malformed_delivered", "sequence_gaps",
                "reconnects", "watchdog_trips", "recovery_s_max", "recovered", "faults",
            ]  # fmt: skip
    json.dumps(document)


def test_adapter_slot_limit_caps_concurrent_connections(tmp_path):
    async def scenario() -> tuple[int, list[str]]:
        air = ChaosAir(advertising_interval_ms=50.0)
        await air.start()
        straps = [VirtualHeartRateStrap(air, f"strap {i}", f"C0:00:00:09:00:{i + 1:02X}") for i in range(3)]
        for strap in straps:
            await strap.start()
        settings = virtual_settings(3, 1.0)
        settings = type(settings)(**{**settings.__dict__, "adapter_slots": 2})
        specs = tuple(DeviceSpec(f"A0{i}", "heart_rate", address=strap.address) for i, strap in enumerate(straps))
        store = SQLiteStore(tmp_path / "store.sqlite")
        gateway = Gateway(
            SquadConfig(settings, specs),
            store,
            Spool(tmp_path / "spool.sqlite"),
            client_kwargs=air.client_kwargs(),
            scanner_kwargs=air.scanner_kwargs(),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        peak = 0
        for _ in range(30):
            await asyncio.sleep(0.1)
            peak = max(peak, gateway.connected())
        states = [str(session.state) for session in gateway.sessions]
        stop.set()
        await task
        await air.close()
        return peak, states

    peak, states = asyncio.run(scenario())
    assert peak == 2
    assert sorted(states) == ["connected", "connected", "searching"]


def test_power_meter_and_compressed_pmd_stream_through_the_gateway(tmp_path):
    """Cycling power (signed power, left balance, cadence from crank deltas) and delta-compressed ACC with a factor."""
    from ingest.virtual.pmd_sensor import VirtualPmdSensor
    from ingest.virtual.power_meter import VirtualPowerMeter

    async def scenario() -> SQLiteStore:
        air = ChaosAir(advertising_interval_ms=50.0)
        await air.start()
        meter = VirtualPowerMeter(air, "KICKR 1", "C0:00:00:06:00:01")
        acc = VirtualPmdSensor(air, "Polar Sense 9", "C0:00:00:05:00:09", compressed=True, factor=0.5)
        for peer in (meter, acc):
            await peer.start()
        specs = (
            DeviceSpec("R01", "cycling_power", address=meter.address),
            DeviceSpec("R01", "pmd_acc", name="Polar Sense*"),
        )
        store = SQLiteStore(tmp_path / "store.sqlite")
        gateway = Gateway(
            SquadConfig(virtual_settings(2, 1.0), specs),
            store,
            Spool(tmp_path / "spool.sqlite"),
            client_kwargs=air.client_kwargs(),
            scanner_kwargs=air.scanner_kwargs(),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        await meter.wait_subscribed(5.0)
        for _ in range(100):
            if acc.streaming:
                break
            await asyncio.sleep(0.05)
        assert acc.streaming and acc.commands[0][:2] == b"\x02\x02"  # start ACC
        sensor_ns = 800_000_000_000_000_000
        for step in range(12):
            await meter.send(-20 if step == 5 else 250, 90.0, 9.0, 51.5, 0.25)
            samples = [[i * 4, 1000 - 2 * i, -(i**2)] for i in range(10)]
            await acc.send_frame(sensor_ns + step * 200_000_000, samples)
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.3)
        stop.set()
        await task
        await air.close()
        return store

    store = asyncio.run(scenario())
    power = store.read("power", "R01", ["power_w", "pedal_balance_left_pct", "cadence_rpm"])
    assert len(power) == 12 and -20 in power.columns["power_w"].tolist()
    assert set(power.columns["pedal_balance_left_pct"].tolist()) == {51.5}
    cadence = power.columns["cadence_rpm"][~np.isnan(power.columns["cadence_rpm"])]
    assert len(cadence) >= 6 and np.all((cadence == 0) | ((cadence > 60) & (cadence < 130)))
    acc = store.read("acc", "R01", ["x_mg", "y_mg", "z_mg"])
    assert len(acc) == 120
    assert acc.columns["y_mg"][:10].tolist() == [1000.0 - 2 * i for i in range(10)]  # factor 0.5 round trip
    assert np.all(np.diff(acc.time_ms) > 0)

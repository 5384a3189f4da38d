"""bleak over the in-process Bumble backend, against virtual heart-rate straps."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import bleak_retry_connector
import pytest
import pytest_asyncio
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError, BleakGATTProtocolError
from bumble.core import UUID, AdvertisingData

from ingest.ble.errors import DecodeError
from ingest.ble.heart_rate import (
    BATTERY_LEVEL_UUID,
    HEART_RATE_CONTROL_POINT_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    decode_battery_level,
    decode_body_sensor_location,
    decode_heart_rate_measurement,
)
from ingest.virtual.bumble.air import VirtualAir
from ingest.virtual.hr_strap import VirtualHeartRateStrap

STRAP_NAME = "Polar H10 A1B2C3D4"
STRAP_ADDRESS = "C0:00:00:00:00:11"
ABSENT_ADDRESS = "C0:00:00:00:00:99"


@pytest_asyncio.fixture
async def air() -> AsyncIterator[VirtualAir]:
    async with VirtualAir() as virtual_air:
        yield virtual_air


@pytest_asyncio.fixture
async def strap(air: VirtualAir) -> VirtualHeartRateStrap:
    virtual_strap = VirtualHeartRateStrap(air, STRAP_NAME, STRAP_ADDRESS, location=1, battery_pct=87, max_payload=20)
    await virtual_strap.start()
    return virtual_strap


async def find_strap(air: VirtualAir, name: str = STRAP_NAME) -> BLEDevice:
    device = await BleakScanner.find_device_by_name(name, timeout=2.0, **air.scanner_kwargs())
    assert device is not None, f"{name} not found"
    return device


class Collector:
    """Collects notifications and signals when a count is reached."""

    def __init__(self) -> None:
        self.payloads: list[bytearray] = []
        self._changed = asyncio.Event()

    def __call__(self, characteristic: BleakGATTCharacteristic, data: bytearray) -> None:
        self.payloads.append(data)
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = 2.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.payloads) < count:
                self._changed.clear()
                await self._changed.wait()

    def rr_ticks(self) -> list[int]:
        return [ticks for payload in self.payloads for ticks in decode_heart_rate_measurement(payload).rr_ticks]


@pytest.mark.asyncio
async def test_scanner_finds_strap_with_name_rssi_and_heart_rate_uuid(
    air: VirtualAir, strap: VirtualHeartRateStrap
) -> None:
    device = await find_strap(air)
    assert device.address == STRAP_ADDRESS
    assert not (isinstance(device.details, dict) and "path" in device.details)

    async with BleakScanner(service_uuids=[HEART_RATE_SERVICE_UUID], **air.scanner_kwargs()) as scanner:
        async with asyncio.timeout(2.0):
            async for found, found_adv in scanner.advertisement_data():
                if found.address == STRAP_ADDRESS:
                    adv = found_adv
                    break
    assert adv.local_name == STRAP_NAME
    assert HEART_RATE_SERVICE_UUID in adv.service_uuids
    assert isinstance(adv.rssi, int) and -127 < adv.rssi < 0
    assert adv.tx_power == 0
    assert STRAP_ADDRESS in scanner.discovered_devices_and_advertisement_data


@pytest.mark.asyncio
async def test_scanner_reports_manufacturer_and_service_data_and_filters_by_uuid(
    air: VirtualAir, strap: VirtualHeartRateStrap
) -> None:
    beacon = await air.new_peripheral_device("beacon", "C0:00:00:00:00:B1")
    advertising = AdvertisingData(
        [
            (AdvertisingData.Type.COMPLETE_LOCAL_NAME, b"beacon"),
            (AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, bytes(UUID.from_16_bits(0x181C))),
            (AdvertisingData.Type.SERVICE_DATA_16_BIT_UUID, bytes(UUID.from_16_bits(0x181C)) + b"\x07"),
            (AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA, b"\x6b\x00\x01\x02"),
            (AdvertisingData.Type.TX_POWER_LEVEL, b"\xf8"),
        ]
    )
    await beacon.start_advertising(advertising_data=bytes(advertising), advertising_interval_min=20.0)
    user_data_uuid = "0000181c-0000-1000-8000-00805f9b34fb"
    seen: list[str] = []
    async with BleakScanner(lambda d, a: seen.append(d.address), [user_data_uuid], **air.scanner_kwargs()) as scanner:
        async with asyncio.timeout(2.0):
            async for _, found_adv in scanner.advertisement_data():
                adv = found_adv
                break
    assert adv.manufacturer_data == {0x006B: b"\x01\x02"}
    assert adv.service_data == {user_data_uuid: b"\x07"}
    assert adv.tx_power == -8
    assert seen and set(seen) == {"C0:00:00:00:00:B1"}


@pytest.mark.asyncio
async def test_client_reads_location_battery_and_negotiates_mtu(air: VirtualAir, strap: VirtualHeartRateStrap) -> None:
    async with BleakClient(await find_strap(air), **air.client_kwargs()) as client:
        assert client.is_connected
        assert client.name == STRAP_NAME
        assert client.mtu_size == 517
        assert decode_body_sensor_location(await client.read_gatt_char("2a38")) == "chest"
        assert decode_battery_level(await client.read_gatt_char(BATTERY_LEVEL_UUID)) == 87
        measurement = client.services.get_characteristic(HEART_RATE_MEASUREMENT_UUID)
        assert measurement is not None and measurement.properties == ["notify"]
        (cccd,) = measurement.descriptors
        assert cccd.uuid == "00002902-0000-1000-8000-00805f9b34fb"
        assert await client.read_gatt_descriptor(cccd) == bytearray(b"\x00\x00")
        await client.start_notify(measurement, Collector())
        assert await client.read_gatt_descriptor(cccd.handle) == bytearray(b"\x01\x00")

        battery = Collector()
        await client.start_notify(BATTERY_LEVEL_UUID, battery)
        await strap.set_battery_level(50)
        await battery.wait_for(1)
        assert decode_battery_level(battery.payloads[0]) == 50
        assert decode_battery_level(await client.read_gatt_char(BATTERY_LEVEL_UUID, use_cached=True)) == 50
    assert not client.is_connected


@pytest.mark.asyncio
async def test_every_notification_arrives_with_rr_split_across_notifications(
    air: VirtualAir, strap: VirtualHeartRateStrap
) -> None:
    rng = random.Random(7)
    collector = Collector()
    async with BleakClient(await find_strap(air), **air.client_kwargs()) as client:
        assert await strap.send(60, [1000.0]) == 0  # nobody subscribed yet
        await client.start_notify(HEART_RATE_MEASUREMENT_UUID, collector)
        await strap.wait_subscribed(1.0)
        sent_rr = 0
        for beat in range(40):
            rr_ms = [rng.uniform(400.0, 1500.0) for _ in range(rng.randrange(0, 21))]
            delivered = await strap.send(rng.choice([58, 61, 300]), rr_ms, contact=beat % 5 != 0)
            assert delivered == len(rr_ms)
            sent_rr += len(rr_ms)
        await collector.wait_for(strap.notifications_delivered)
        await client.stop_notify(HEART_RATE_MEASUREMENT_UUID)
        assert await strap.send(60, [1000.0]) == 0

    assert len(collector.payloads) == strap.notifications_delivered == strap.hr_delivered
    assert strap.notifications_delivered > 40  # long RR lists were split
    assert all(isinstance(payload, bytearray) and len(payload) <= 20 for payload in collector.payloads)
    assert strap.rr_delivered == sent_rr
    received_ms = [ticks * 1000 / 1024 for ticks in collector.rr_ticks()]
    assert received_ms == strap.delivered_rr_ms
    contact = [decode_heart_rate_measurement(payload).contact_detected for payload in collector.payloads]
    assert False in contact and True in contact


@pytest.mark.asyncio
async def test_full_mtu_strap_and_malformed_payloads_reach_the_client(air: VirtualAir) -> None:
    strap = VirtualHeartRateStrap(air, "Wahoo TICKR 01", "C0:00:00:00:00:12")
    await strap.start()
    collector = Collector()
    async with BleakClient(await find_strap(air, "Wahoo TICKR 01"), **air.client_kwargs()) as client:
        await client.start_notify(HEART_RATE_MEASUREMENT_UUID, collector)
        await strap.wait_subscribed(1.0)
        assert await strap.send(70, [857.0] * 60) == 60
        assert await strap.send_raw(b"\x01\x3c")
        await collector.wait_for(2)
    assert strap.notifications_delivered == 2  # 60 RR fit one notification at MTU 517
    assert decode_heart_rate_measurement(collector.payloads[0]).rr_ticks == (878,) * 60
    with pytest.raises(DecodeError):
        decode_heart_rate_measurement(collector.payloads[1])


@pytest.mark.asyncio
async def test_control_point_resets_energy_and_rejects_other_opcodes(
    air: VirtualAir, strap: VirtualHeartRateStrap
) -> None:
    collector = Collector()
    async with BleakClient(await find_strap(air), **air.client_kwargs()) as client:
        await client.start_notify(HEART_RATE_MEASUREMENT_UUID, collector)
        for _ in range(3):
            await strap.send(65)
        assert strap.energy_kj == 3
        await client.write_gatt_char(HEART_RATE_CONTROL_POINT_UUID, b"\x01", response=True)
        assert strap.energy_kj == 0
        await strap.send(65)
        await collector.wait_for(4)
        assert decode_heart_rate_measurement(collector.payloads[-1]).energy_kj == 1
        with pytest.raises(BleakGATTProtocolError) as raised:
            await client.write_gatt_char(HEART_RATE_CONTROL_POINT_UUID, b"\x02", response=True)
        assert raised.value.code == 0x80
        assert client.is_connected


@pytest.mark.asyncio
async def test_peripheral_disconnect_calls_disconnected_callback_and_strap_readvertises(
    air: VirtualAir, strap: VirtualHeartRateStrap
) -> None:
    dropped = asyncio.Event()
    device = await find_strap(air)
    client = BleakClient(device, disconnected_callback=lambda _: dropped.set(), **air.client_kwargs())
    await client.connect()
    await strap.connections[0].disconnect(0x13)
    await asyncio.wait_for(dropped.wait(), 1.0)
    assert not client.is_connected

    await client.connect()  # auto_restart put the strap back on the air
    assert client.is_connected
    dropped.clear()
    await client.disconnect()
    await asyncio.sleep(0.01)
    assert not dropped.is_set()  # a requested disconnect is not reported as a drop


@pytest.mark.asyncio
async def test_connect_to_absent_device_times_out_then_next_connect_works(
    air: VirtualAir, strap: VirtualHeartRateStrap
) -> None:
    started = time.perf_counter()
    with pytest.raises(BleakError) as raised:
        async with BleakClient(ABSENT_ADDRESS, timeout=0.3, **air.client_kwargs()):
            pass
    elapsed = time.perf_counter() - started
    assert isinstance(raised.value, asyncio.TimeoutError)
    assert 0.25 <= elapsed < 0.8
    async with BleakClient(STRAP_ADDRESS, timeout=2.0, **air.client_kwargs()) as client:
        assert decode_battery_level(await client.read_gatt_char(BATTERY_LEVEL_UUID)) == 87


@pytest.mark.asyncio
async def test_establish_connection_connects(
    air: VirtualAir, strap: VirtualHeartRateStrap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bleak_retry_connector, "BLEAK_TIMEOUT", 1.0)
    client = await bleak_retry_connector.establish_connection(
        BleakClient, await find_strap(air), STRAP_NAME, lambda _: None, max_attempts=2, **air.client_kwargs()
    )
    try:
        assert client.is_connected
        assert decode_body_sensor_location(await client.read_gatt_char("2a38")) == "chest"
    finally:
        await client.disconnect()


@pytest.mark.asyncio
async def test_establish_connection_retries_after_a_timeout(air: VirtualAir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bleak_retry_connector, "BLEAK_TIMEOUT", 0.3)
    late_strap = VirtualHeartRateStrap(air, "late strap", "C0:00:00:00:00:13")
    attempts: list[float] = []

    class StrapAppearsAfterFirstAttempt(BleakClient):
        async def connect(self, **kwargs: object) -> None:
            attempts.append(time.perf_counter())
            try:
                await super().connect(**kwargs)
            finally:
                if len(attempts) == 1:
                    await late_strap.start()

    device = BLEDevice(late_strap.address, late_strap.name, None)
    client = await bleak_retry_connector.establish_connection(
        StrapAppearsAfterFirstAttempt, device, late_strap.name, max_attempts=2, **air.client_kwargs()
    )
    try:
        assert client.is_connected
        assert len(attempts) == 2
    finally:
        await client.disconnect()


@pytest.mark.asyncio
async def test_six_straps_stream_concurrently_without_losing_rr(air: VirtualAir) -> None:
    straps = [VirtualHeartRateStrap(air, f"strap {index}", f"C0:00:00:00:01:{index:02X}") for index in range(6)]
    await asyncio.gather(*(strap.start() for strap in straps))
    collectors = [Collector() for _ in straps]
    clients = [BleakClient(strap.address, timeout=3.0, **air.client_kwargs()) for strap in straps]
    await asyncio.gather(*(client.connect() for client in clients))
    try:
        await asyncio.gather(
            *(
                client.start_notify(HEART_RATE_MEASUREMENT_UUID, c)
                for client, c in zip(clients, collectors, strict=True)
            )
        )
        await asyncio.gather(*(strap.wait_subscribed(1.0) for strap in straps))

        async def stream(strap: VirtualHeartRateStrap, seed: int) -> list[int]:
            rng = random.Random(seed)
            sent: list[int] = []
            for _ in range(60):
                rr_ms = [rng.uniform(300.0, 2000.0) for _ in range(rng.randrange(1, 4))]
                assert await strap.send(rng.randrange(40, 200), rr_ms) == len(rr_ms)
                sent.extend(round(value * 1024 / 1000) for value in rr_ms)
                await asyncio.sleep(0)
            return sent

        sent_ticks = await asyncio.gather(*(stream(strap, seed) for seed, strap in enumerate(straps)))
        for strap, collector, expected in zip(straps, collectors, sent_ticks, strict=True):
            await collector.wait_for(strap.notifications_delivered)
            assert collector.rr_ticks() == expected
            assert [ticks * 1000 / 1024 for ticks in expected] == strap.delivered_rr_ms
    finally:
        await asyncio.gather(*(client.disconnect() for client in clients))


@pytest.mark.asyncio
async def test_stopped_strap_drops_its_link_and_stays_silent_until_restarted(
    air: VirtualAir, strap: VirtualHeartRateStrap
) -> None:
    dropped = asyncio.Event()
    client = BleakClient(STRAP_ADDRESS, disconnected_callback=lambda _: dropped.set(), **air.client_kwargs())
    await client.connect()
    await strap.stop()
    await asyncio.wait_for(dropped.wait(), 1.0)
    with pytest.raises(asyncio.TimeoutError):
        await client.connect(timeout=0.2)
    await strap.start()
    await client.connect(timeout=2.0)
    assert client.is_connected
    await client.disconnect()


@pytest.mark.asyncio
async def test_cancelled_connect_leaves_the_central_usable(air: VirtualAir, strap: VirtualHeartRateStrap) -> None:
    pending = asyncio.create_task(BleakClient(ABSENT_ADDRESS, timeout=5.0, **air.client_kwargs()).connect())
    await asyncio.sleep(0.05)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    assert air.controller_of(await air.central()).pending_le_connection is None
    async with BleakClient(STRAP_ADDRESS, timeout=1.0, **air.client_kwargs()) as client:
        assert client.is_connected

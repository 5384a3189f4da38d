"""`ingest.virtual.anybleak`: plain `BleakClient`/`BleakScanner` (and bleak-retry-connector) reach the virtual air
inside the block and only there; blocks nest; the launcher's usage errors."""

from __future__ import annotations

import asyncio

import bleak
import bleak_retry_connector
import pytest
from bleak import BleakClient, BleakScanner

from ingest.ble.heart_rate import decode_battery_level
from ingest.virtual.anybleak import BACKEND_ID, LoopAirs, main, virtual_bleak
from ingest.virtual.bumble.air import VirtualAir
from ingest.virtual.bumble.client import BumbleClient
from ingest.virtual.hr_strap import VirtualHeartRateStrap

PLATFORM = (bleak.get_platform_client_backend_type, bleak.get_platform_scanner_backend_type)


def test_the_platform_backends_come_back_after_the_block_even_on_error():
    air = VirtualAir()
    with pytest.raises(RuntimeError, match="inside"), virtual_bleak(air):
        assert BleakClient("C0:00:00:00:00:01").backend_id == BACKEND_ID
        raise RuntimeError("inside")
    assert (bleak.get_platform_client_backend_type, bleak.get_platform_scanner_backend_type) == PLATFORM


def test_blocks_nest_and_an_explicit_backend_wins():
    outer, inner = VirtualAir(), VirtualAir()
    with virtual_bleak(outer):
        with virtual_bleak(inner):
            assert BleakClient("C0:00:00:00:00:01")._backend._air is inner
        client = BleakClient("C0:00:00:00:00:01")
        assert client._backend._air is outer
        explicit = BleakClient("C0:00:00:00:00:01", backend=BumbleClient, air=inner)
        assert explicit.backend_id == "BumbleClient" and explicit._backend._air is inner
    assert bleak.get_platform_client_backend_type is PLATFORM[0]


@pytest.mark.asyncio
async def test_scanner_classmethods_and_bleak_retry_connector_reach_the_virtual_strap(monkeypatch) -> None:
    monkeypatch.setattr(bleak_retry_connector, "BLEAK_TIMEOUT", 5.0)
    async with VirtualAir() as air:
        strap = VirtualHeartRateStrap(air, "HRM-AB1", "C0:00:00:01:00:51", battery_pct=64)
        await strap.start()
        with virtual_bleak(air):
            devices = await BleakScanner.discover(timeout=1.0)
            device = next(d for d in devices if d.name == "HRM-AB1")
            client = await bleak_retry_connector.establish_connection(BleakClient, device, "HRM-AB1")
        try:
            assert client.backend_id == BACKEND_ID
            assert decode_battery_level(await client.read_gatt_char("2a19")) == 64
        finally:
            await client.disconnect()


def test_the_launcher_needs_a_running_loop_and_a_program():
    with pytest.raises(RuntimeError, match="running event loop"):
        LoopAirs(1, 7)()
    airs = LoopAirs(1, 7)

    async def twice() -> tuple[VirtualAir, VirtualAir]:
        return airs(), airs()

    first, again = asyncio.run(twice())
    assert first is again and asyncio.run(twice())[0] is not first  # one air per event loop
    for argv in ([], ["--athletes", "0", "-m", "x"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2

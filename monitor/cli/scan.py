"""`recovery-monitor scan`: nearby sensors with recognised profiles, RSSI and battery (or a virtual squad's)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from monitor.cli.common import CliError

if TYPE_CHECKING:
    from rich.console import Console

    from ingest.gateway.config import SquadConfig

BATTERY_TIMEOUT_S = 5.0


def add_parser(commands: argparse._SubParsersAction) -> None:
    scan = commands.add_parser(
        "scan",
        help="list nearby BLE sensors with recognised profiles, RSSI and battery",
        description="Scans for advertisements, keeps the devices with a profile the gateway understands (heart "
        "rate, running speed and cadence, cycling power, Polar PMD, muscle-load pods), connects to each briefly "
        "to read its battery level, and shows which squad entry it matches with --config.",
    )
    scan.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds to scan (default 5)")
    scan.add_argument("--virtual", action="store_true", help="scan a virtual squad instead of the host's Bluetooth")
    scan.add_argument("--athletes", type=int, default=2, metavar="N", help="virtual squad size (default 2)")
    scan.add_argument("--config", metavar="FILE", help="squad TOML: show the athlete each sensor belongs to")
    scan.add_argument("--no-battery", action="store_true", help="do not connect to read battery levels")
    scan.add_argument("--json", action="store_true", help="print JSON instead of a table")
    scan.set_defaults(run=run)


async def scan_devices(
    timeout_s: float, scanner_kwargs: dict[str, Any], client_kwargs: dict[str, Any], battery: bool
) -> list[dict[str, Any]]:
    """Recognised sensors as dicts (address, name, rssi, profiles, battery_pct), strongest first."""
    from bleak import BleakScanner

    from ingest.gateway.profiles import recognise

    found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **scanner_kwargs)
    rows = []
    for device, adv in found.values():
        profiles = recognise(adv.service_uuids, adv.local_name or device.name)
        if profiles:
            rows.append(
                {
                    "address": device.address,
                    "name": adv.local_name or device.name,
                    "rssi_dbm": adv.rssi,
                    "profiles": [profile.name for profile in profiles],
                    "battery_pct": None,
                    "_device": device,
                }
            )
    if battery:
        limit = asyncio.Semaphore(3)
        await asyncio.gather(*(_read_battery(row, client_kwargs, limit) for row in rows))
    for row in rows:
        del row["_device"]
    return sorted(rows, key=lambda row: (-(row["rssi_dbm"] or -999), row["address"]))


async def _read_battery(row: dict[str, Any], client_kwargs: dict[str, Any], limit: asyncio.Semaphore) -> None:
    from bleak import BleakClient

    from ingest.ble.errors import DecodeError
    from ingest.ble.heart_rate import BATTERY_LEVEL_UUID, decode_battery_level

    async with limit:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(BATTERY_TIMEOUT_S + 1):
                async with BleakClient(row["_device"], timeout=BATTERY_TIMEOUT_S, **client_kwargs) as client:
                    if client.services.get_characteristic(BATTERY_LEVEL_UUID) is not None:
                        with contextlib.suppress(DecodeError):
                            row["battery_pct"] = decode_battery_level(await client.read_gatt_char(BATTERY_LEVEL_UUID))


def annotate(rows: list[dict[str, Any]], config: SquadConfig | None) -> None:
    """Add the matching squad entry (athlete, side) to each row."""
    for row in rows:
        row["athlete"] = row["side"] = None
        if config is None:
            continue
        for spec in config.devices:
            if spec.matches(row["address"], row["name"]) and spec.profile in row["profiles"]:
                row["athlete"], row["side"] = spec.athlete, spec.side
                break


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from bleak.exc import BleakError
    from rich.console import Console

    from ingest.gateway.config import load_config
    from ingest.virtual.chaos_air import ChaosAir
    from ingest.virtual.squad import VirtualSquad

    if args.timeout <= 0:
        raise CliError(f"--timeout must be positive (got {args.timeout})")
    config = load_config(args.config) if args.config else None

    async def main() -> list[dict[str, Any]]:
        if not args.virtual:
            try:
                return await scan_devices(args.timeout, {}, {}, not args.no_battery)
            except (BleakError, OSError) as exc:
                raise CliError(
                    f"host Bluetooth unavailable ({exc or type(exc).__name__}); is bluetoothd running? "
                    "--virtual scans a simulated squad"
                ) from exc
        air = ChaosAir(advertising_interval_ms=50.0)
        await air.start()
        squad = VirtualSquad(air, args.athletes, np.random.default_rng(1), with_acc=True)
        try:
            await squad.start()
            return await scan_devices(args.timeout, air.scanner_kwargs(), air.client_kwargs(), not args.no_battery)
        finally:
            await squad.stop()
            await air.close()

    rows = asyncio.run(main())
    annotate(rows, config)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print_table(rows, Console())
    return 0


SCAN_COLUMNS = ("address", "name", "profiles", "RSSI dBm", "battery %", "athlete", "side")


def print_table(rows: list[dict[str, Any]], console: Console) -> None:
    """The sensors as a table, or a list when it does not fit (monitor.cli.tables)."""
    from rich.markup import escape

    from monitor.cli import tables

    cells = [
        [
            row["address"],
            escape(row["name"] or "—"),
            ", ".join(row["profiles"]),
            "—" if row["rssi_dbm"] is None else str(row["rssi_dbm"]),
            "—" if row["battery_pct"] is None else str(row["battery_pct"]),
            escape(row["athlete"] or "—"),
            row["side"] or "—",
        ]
        for row in rows
    ]
    title = f"{len(rows)} sensors with a recognised profile"
    tables.print_table(title, SCAN_COLUMNS, cells, console=console, right=("RSSI dBm", "battery %"))

"""`recovery-monitor ingest`: run the BLE gateway on the host's Bluetooth (`--config`) or on a virtual squad."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_dir

from monitor.cli.common import CliError, add_store_option

if TYPE_CHECKING:
    from rich.console import Console

    from ingest.gateway.gateway import Gateway
    from ingest.store.base import Store
    from ingest.virtual.run_report import VirtualRunReport

CHAOS_KINDS = ("link-loss", "half-open", "out-of-range", "store-outage", "malformed")  # ingest.virtual.chaos's (tested)
GATEWAY_STORE_RETRIES = 1
GATEWAY_STORE_MAX_TOTAL_S = 3.0
GATEWAY_STORE_TIMEOUT_S = 5.0


def add_parser(commands: argparse._SubParsersAction) -> None:
    ingest = commands.add_parser(
        "ingest",
        help="run the BLE gateway: every configured sensor of the squad into the store, reconnecting, losing nothing",
        description="Connects every sensor of the squad config, decodes and timestamps its notifications, spools "
        "them durably and writes them to the store; reconnects lost sensors. With --virtual it runs against a "
        "simulated squad (strap, footpod, left/right muscle-load pods per athlete) on an in-process Bluetooth LE "
        "stack, in real time, optionally with injected faults, and reports delivered vs stored per sensor.",
    )
    source = ingest.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", metavar="FILE", help="squad TOML (devices → athletes); uses the host's Bluetooth")
    source.add_argument("--virtual", action="store_true", help="run against a virtual squad instead of hardware")
    ingest.add_argument("--athletes", type=int, default=4, metavar="N", help="virtual squad size (default 4)")
    ingest.add_argument(
        "--duration", type=float, metavar="S", help="stop after S seconds (virtual default 30; hardware: until Ctrl-C)"
    )
    ingest.add_argument("--chaos", metavar="LIST", help=f"virtual faults, comma-separated: {','.join(CHAOS_KINDS)}")
    ingest.add_argument("--with-acc", action="store_true", help="virtual athletes also wear a Polar-like ACC sensor")
    ingest.add_argument("--seed", type=int, default=7, metavar="S", help="virtual squad and chaos seed (default 7)")
    ingest.add_argument("--spool", metavar="PATH", help="spool file (default: config, else the user data directory)")
    add_store_option(ingest)
    ingest.add_argument("--json", action="store_true", help="print one JSON document at the end")
    ingest.set_defaults(run=run)


def _open_gateway_store(url: str | None) -> Store:
    """The spool retries forever; the store itself should fail fast so the gateway notices outages quickly."""
    from ingest.store import RetryBudget, open_store

    budget = RetryBudget(
        timeout_s=GATEWAY_STORE_TIMEOUT_S, max_retries=GATEWAY_STORE_RETRIES, max_total_s=GATEWAY_STORE_MAX_TOTAL_S
    )
    return open_store(url, retry=budget)


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def run(args: argparse.Namespace) -> int:
    if args.virtual:
        return _run_virtual(args)
    return _run_hardware(args)


def _run_virtual(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ingest.virtual.chaos import parse_chaos
    from ingest.virtual.run import VirtualRunConfig, run_virtual_ingest
    from monitor.cli.ingest_live import DeviceBoard, live_console

    chaos = parse_chaos(args.chaos)
    if not 1 <= args.athletes <= 99:
        raise CliError(f"--athletes must be 1-99 (got {args.athletes})")
    duration = 30.0 if args.duration is None else args.duration
    if duration <= 0:
        raise CliError(f"--duration must be positive (got {duration})")
    store = _open_gateway_store(args.store)
    console = live_console()

    async def main() -> VirtualRunReport:
        stop = asyncio.Event()
        _install_signals(stop)
        observer = None if console is None else partial(DeviceBoard().show, console=console)
        with tempfile.TemporaryDirectory(prefix="recovery-monitor-spool-") as scratch:
            spool = Path(args.spool) if args.spool else Path(scratch) / "spool.sqlite"
            config = VirtualRunConfig(
                athletes=args.athletes,
                duration_s=duration,
                spool_path=spool,
                chaos=chaos,
                seed=args.seed,
                with_acc=args.with_acc,
            )
            return await run_virtual_ingest(config, store, stop=stop, observer=observer)

    try:
        report = asyncio.run(main())
    finally:
        store.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        _print_virtual(report, Console())
    return 0 if report.ok else 1


def _run_hardware(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ingest.gateway.config import load_config
    from ingest.gateway.gateway import BluetoothUnavailable, Gateway
    from ingest.gateway.spool import Spool
    from monitor.cli.ingest_live import DeviceBoard, live_console

    config = load_config(args.config)
    settings = config.gateway
    spool_path = Path(args.spool or settings.spool or Path(user_data_dir("recovery-monitor")) / "gateway-spool.sqlite")
    store = _open_gateway_store(args.store)
    spool = Spool(
        spool_path.expanduser(),
        max_bytes=int(settings.spool_max_mb * 1e6),
        synchronous=settings.spool_fsync,  # type: ignore[arg-type]
    )

    async def main() -> Gateway:
        stop = asyncio.Event()
        _install_signals(stop)
        gateway = Gateway(config, store, spool)
        if args.duration is not None:
            asyncio.get_running_loop().call_later(args.duration, stop.set)
        console = live_console()
        view = None if console is None else asyncio.create_task(DeviceBoard().show(gateway, console))
        try:
            await gateway.run(stop)
        except BluetoothUnavailable as exc:
            raise CliError(
                f"host Bluetooth unavailable ({exc}); is bluetoothd running? --virtual runs a simulated squad"
            ) from exc
        finally:
            if view is not None:
                view.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await view
        return gateway

    try:
        gateway = asyncio.run(main())
    finally:
        spool.close()
        store.close()
    report = {
        "store": store.url,
        "spool": str(spool_path),
        "drained": gateway.drained,
        "gateway": gateway.snapshots[-1].fields if gateway.snapshots else {},
        "devices": [
            {
                "athlete": s.spec.athlete,
                "device": s.spec.key,
                "profile": s.spec.profile,
                "side": s.spec.side,
                "state": str(s.state),
                "notifications": s.recorder.stats.notifications,
                "samples": s.recorder.stats.samples,
                "malformed": s.recorder.stats.malformed,
                "sequence_gaps": s.recorder.stats.sequence_gaps,
                "rr_zero_skipped": s.recorder.stats.rr_zero_skipped,
                "reconnects": s.stats.reconnects,
                "battery_pct": s.stats.battery_pct,
            }
            for s in gateway.sessions
        ],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_hardware(report, Console())
    return 0


VIRTUAL_COLUMNS = ("athlete", "sensor", "delivered", "stored", "malformed", "seq gaps", "reconnects", "recovery s")
HARDWARE_COLUMNS = (
    "athlete", "sensor", "profile", "side", "state", "notifications", "samples", "malformed", "seq gaps", "reconnects",
    "battery %",
)  # fmt: skip


def _dash(value: object) -> str:
    return "—" if value is None else str(value)


def _print_virtual(report: VirtualRunReport, console: Console) -> None:
    from rich.markup import escape

    from monitor.cli import tables

    rows = []
    for athlete in report.athletes:
        for label, sensor in athlete.sensors.items():
            rows.append(
                [
                    escape(athlete.athlete),
                    escape(label),
                    str(sensor.delivered),
                    str(sensor.stored),
                    str(sensor.malformed_rejected),
                    _dash(sensor.sequence_gaps),
                    str(sensor.reconnects),
                    "—" if sensor.recovery_s_max is None else f"{sensor.recovery_s_max:.2f}",
                ]
            )
    title = f"Virtual squad, {report.duration_s:g} s, chaos: {', '.join(report.chaos) or 'none'}"
    tables.print_table(title, VIRTUAL_COLUMNS, rows, console=console, right=VIRTUAL_COLUMNS[2:])
    verdict = "[green]every sample stored exactly once[/]" if report.ok else "[red]MISMATCH[/]"
    tables.note(console, f"{verdict}; slowest recovery {report.recovery_s_max:.2f} s; store {report.store}")


def _print_hardware(report: dict[str, Any], console: Console) -> None:
    from rich.markup import escape

    from monitor.cli import tables

    rows = [
        [
            escape(d["athlete"]),
            escape(d["device"]),
            d["profile"],
            _dash(d["side"]),
            d["state"],
            *(str(d[k]) for k in ("notifications", "samples", "malformed", "sequence_gaps", "reconnects")),
            _dash(d["battery_pct"]),
        ]
        for d in report["devices"]
    ]
    tables.print_table("Gateway sensors", HARDWARE_COLUMNS, rows, console=console, right=HARDWARE_COLUMNS[5:])
    drained = "spool drained to the store" if report["drained"] else "[red]spool NOT drained[/] (kept for next run)"
    tables.note(console, f"gateway stopped; {drained}; {len(rows)} sensors; spool {report['spool']}")

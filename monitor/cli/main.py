"""`recovery-monitor` command line: the one place that wires ingest, store, analysis and outputs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ingest.ble.errors import DecodeError

from ingest.store.errors import StoreError

EXIT_USAGE = 2


class CliError(Exception):
    """A problem with the user's input, reported as one line with exit code 2."""


def _add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///PATH or influxdb+http(s)://HOST:PORT/DB (default: $RECOVERY_STORE, else the embedded file)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recovery-monitor",
        description="Recovery monitor for athletes: wearables in, explainable readiness flags out.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="simulate a squad whose heart-rate straps stream over virtual Bluetooth LE, then flag readiness",
        description="Simulates D days of history for N athletes; their recent morning readings and one live session "
        "stream through virtual heart-rate straps (a Bumble BLE stack in-process) into the store, and the "
        "readiness analysis flags suppressed HRV.",
    )
    demo.add_argument("--athletes", type=int, default=6, metavar="N", help="squad size (default 6)")
    demo.add_argument("--days", type=int, default=42, metavar="D", help="days of history (default 42)")
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default 7)")
    _add_store_option(demo)
    demo.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    return parser


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from monitor.cli.demo import demo_command

        return demo_command(args)
    raise CliError(f"unknown command {args.command!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `recovery-monitor` console script and `python -m monitor`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return _run(args)
    except (CliError, StoreError, DecodeError, ValueError) as exc:
        print(f"recovery-monitor: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("recovery-monitor: interrupted", file=sys.stderr)
        return 130

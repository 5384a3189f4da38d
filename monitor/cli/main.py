"""`recovery-monitor` command line: the one place that wires ingest, store, analysis and outputs."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from importlib import metadata

from monitor.cli.common import CliError

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command whose reader left (`… | head`)

COMMAND_MODULES = (
    "demo", "scan", "ingest_cmd", "import_files", "athlete", "rpe", "rest", "visit", "analyze", "response", "hrv",
    "dashboards", "report", "serve",
)  # fmt: skip
"""Modules of `monitor.cli`, each with `add_parser(subparsers)` and `run(args) -> int`, in help order.

They import only argparse and light helpers at the top: what a command needs is imported when it runs, so that
`--help` and every command start at once (tests/test_cli_startup.py, bench/cli.py)."""


def user_errors() -> tuple[type[Exception], ...]:
    """The errors reported as one line (exit code 2), imported only once one was raised."""
    from ingest.ble.errors import DecodeError
    from ingest.store.errors import StoreError

    return (CliError, StoreError, DecodeError, ValueError, OSError)


def installed_version() -> str:
    """The version of the installed `recovery-monitor` distribution (package metadata)."""
    try:
        return metadata.version("recovery-monitor")
    except metadata.PackageNotFoundError:
        return "unknown (not installed; run pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recovery-monitor",
        description="Recovery monitor for athletes: wearables in, explainable readiness flags out.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    parser.add_argument("--version", action="version", version=f"recovery-monitor {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"monitor.cli.{name}")
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `recovery-monitor` console script and `python -m monitor`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader of a pipe has all it wanted: not an error, and nothing more to print
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        if not isinstance(exc, user_errors()):
            raise
        if args.verbose:
            logging.getLogger("recovery-monitor").exception("failed")
        print(f"recovery-monitor: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("recovery-monitor: interrupted", file=sys.stderr)
        return 130


def _stdout_to_devnull() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor behind stdout (a test's capture): nothing to flush there
        pass

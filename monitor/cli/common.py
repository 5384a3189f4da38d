"""Pieces shared by the command modules of `monitor.cli`."""

from __future__ import annotations

import argparse


class CliError(Exception):
    """A problem with the user's input, reported as one line with exit code 2."""


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """The `--store URL` option shared by every command that touches the store."""
    parser.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///PATH or influxdb+http(s)://HOST:PORT/DB (default: $RECOVERY_STORE, else the embedded file)",
    )

"""Pieces shared by the command modules of `monitor.cli`."""

from __future__ import annotations

import argparse
import datetime as dt
import re

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class CliError(Exception):
    """A problem with the user's input, reported as one line with exit code 2."""


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """The `--store URL` option shared by every command that touches the store."""
    parser.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///PATH or influxdb+http(s)://HOST:PORT/DB (default: $RECOVERY_STORE, else the embedded file)",
    )


def parse_day(option: str, text: str, today: dt.date | None = None) -> dt.date:
    """A `YYYY-MM-DD` option value; with ``today``, a day after it (UTC) is refused as in the future."""
    try:
        day = dt.date.fromisoformat(text.strip()) if _DATE.match(text.strip()) else None
    except ValueError:
        day = None
    if day is None:
        raise CliError(f"{option} {text!r}: expected a date as YYYY-MM-DD")
    if today is not None and day > today:
        raise CliError(f"{option} {day.isoformat()} is in the future (today is {today.isoformat()} UTC)")
    return day

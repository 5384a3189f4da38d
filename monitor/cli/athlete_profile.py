"""`recovery-monitor athlete set`: the heart-rate profile training loads are computed with."""

from __future__ import annotations

import argparse


def add_parsers(actions: argparse._SubParsersAction) -> None:
    """Adds `set` to the `athlete` command's actions."""

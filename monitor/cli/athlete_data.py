"""`recovery-monitor athlete list|export|delete`: an athlete's rights over their data."""

from __future__ import annotations

import argparse


def add_parsers(actions: argparse._SubParsersAction) -> None:
    """Adds `list`, `export` and `delete` to the `athlete` command's actions."""

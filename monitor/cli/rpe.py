"""`recovery-monitor rpe`: session RPE after the fact, attached to the synced session of that day."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Adds the `rpe` command."""

"""`recovery-monitor athlete`: an athlete's profile (HRmax, HRrest, sex) and their rights over their data."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:
    from monitor.cli import athlete_data, athlete_link, athlete_profile

    parser = commands.add_parser(
        "athlete",
        help="an athlete's profile (HRmax, HRrest, sex), data (list, export, delete) and check-in link",
        description="Sets the heart-rate profile that training loads are computed with, lists the athletes in the "
        "store, exports every point of one athlete (CSV plus a JSON manifest), deletes an athlete's data and makes "
        "an athlete's personal check-in link.",
    )
    actions = parser.add_subparsers(dest="athlete_command", required=True, metavar="ACTION")
    athlete_profile.add_parsers(actions)
    athlete_data.add_parsers(actions)
    athlete_link.add_parsers(actions)

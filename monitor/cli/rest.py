"""`recovery-monitor rest`: mark a day as a rest day (or withdraw the mark) for an athlete whose load comes from logs.

For a log-based (sRPE) athlete a day without a logged session is unknown, not rest (docs/analytics.md §2): the
load statistics leave it out and say how many days were known. This command writes a `rest_day` point (source
`cli`, `rest` true, 00:00 UTC of the day) so the day counts as a real rest day; `--withdraw` writes `rest` false
over the same point. The athlete check-in writes the same measurement with source `checkin`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

from monitor.cli.common import CliError, add_store_option, parse_day

SOURCE = "cli"
"""Source tag of the marks this command writes."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Adds the `rest` command."""
    parser = commands.add_parser(
        "rest",
        help="mark a day as a rest day, so a log-based athlete's day without a session counts as rest, not unknown",
        description="Writes a rest_day point (source cli) for the athlete and UTC day. For an athlete whose load "
        "comes from session logs (sRPE) a day without a log is unknown unless marked rest or a morning reading "
        "shows the device was used; unknown days are left out of the load statistics. Re-running changes "
        "nothing; --withdraw takes this command's mark back. The next analyze recomputes from that day.",
    )
    parser.add_argument("--athlete", required=True, metavar="ID", help="pseudonymous athlete ID with data, e.g. A01")
    parser.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the rest day (UTC), not after today")
    parser.add_argument("--withdraw", action="store_true", help="take back a rest mark this command wrote")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_store_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ingest.analysis_due import mark_due
    from ingest.model import REST_DAY, SESSION
    from ingest.store import open_store
    from ingest.timeline import DAY_MS, day_start_ms

    athlete = args.athlete.strip()
    if not athlete:
        raise CliError("--athlete: the athlete ID must not be empty")
    day = parse_day("--date", args.date, dt.datetime.now(dt.UTC).date())
    day_ms = day_start_ms(day)
    store = open_store(args.store)
    try:
        if athlete not in store.list_athletes():
            raise CliError(f"--athlete {athlete!r}: no data for this athlete in the store; check the ID")
        sessions = store.count(SESSION.name, athlete, day_ms, day_ms + DAY_MS)
        store.write(
            [REST_DAY.batch({"athlete": athlete, "source": SOURCE}, [day_ms], {"rest": np.array([not args.withdraw])})]
        )
        mark_due(store, {athlete: day_ms})  # the next `analyze` recomputes the days this mark changes
    finally:
        store.close()
    report = {"athlete": athlete, "date": day.isoformat(), "rest": not args.withdraw, "source": SOURCE,
              "sessions_that_day": sessions}  # fmt: skip
    if args.json:
        print(json.dumps(report))
    else:
        what = "marked as a rest day" if report["rest"] else "rest mark withdrawn"
        note = f" (the day also holds {sessions} session{'s' if sessions != 1 else ''}, which still count)"
        print(f"{athlete} {day.isoformat()}: {what}{note if sessions and report['rest'] else ''}")
    return 0

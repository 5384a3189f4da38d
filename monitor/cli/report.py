"""`recovery-monitor report`: one athlete's self-contained HTML report, without Grafana."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.cli.common import CliError, add_store_option, parse_day

if TYPE_CHECKING:
    from dashboards.report_visits import VisitResult
    from ingest.store.base import Store


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="write one athlete's report as a self-contained HTML file (the athlete detail plots, no Grafana)",
        description="Reads one athlete's indicators, sessions and flags from the store and writes a single HTML "
        "file with inline SVG plots: no scripts, no network access needed to open it. By default the report ends "
        "on the athlete's last day with data and covers their data, at most 365 days. Visits of the period are "
        "listed with the response after them at each level; a response not yet stored is computed and stored first "
        "(as `recovery-monitor response` does).",
    )
    parser.add_argument("--athlete", required=True, metavar="ID", help="pseudonymous athlete ID, e.g. A01")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="the HTML file to write")
    end = parser.add_mutually_exclusive_group()
    end.add_argument(
        "--as-of", metavar="YYYY-MM-DD", help="the report's last day, as it was then (default: the last day with data)"
    )
    end.add_argument("--to", metavar="YYYY-MM-DD", help="the same as --as-of")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="the report's first day")
    start.add_argument("--days", type=int, metavar="N", help="days covered, ending on the last day")
    parser.add_argument(
        "--thresholds",
        metavar="FILE",
        help="the clinic's TOML thresholds (IDN watch window, quiet hours, after-care advice)",
    )
    add_store_option(parser)
    parser.set_defaults(run=run)


def _day(option: str, text: str | None) -> dt.date | None:
    return None if text is None else parse_day(option, text)


def visits_with_responses(store: Store, athlete: str, start_ms: int, end_ms: int, last: dt.date) -> list[VisitResult]:
    """The period's visits after computing and storing the response of each visit whose day 8 has passed by
    ``last`` (`monitor.response_job.response_for`, the same points `recovery-monitor response` writes)."""
    from dashboards.report_visits import load_visits
    from monitor.response_job import response_for

    response_for(store, athlete=athlete, as_of=last)
    return load_visits(store, athlete, start_ms, end_ms)


def run(args: argparse.Namespace) -> int:
    from dashboards.report import build_report, load_report_data, report_window, running_aftercare
    from ingest.store import open_store
    from ingest.timeline import DAY_MS, day_start_ms
    from monitor.hr_profile import profile_lines
    from monitor.lifecycle import quiet_ms
    from monitor.session_loads import profile_in_use
    from monitor.thresholds import load_thresholds

    if args.days is not None and args.days < 1:
        raise CliError(f"--days must be ≥ 1 (got {args.days})")
    end = _day("--as-of", args.as_of) or _day("--to", args.to)
    start = _day("--from", args.start)
    idn = load_thresholds(args.thresholds).idn
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    store = open_store(args.store)
    try:
        if args.athlete not in store.list_athletes():
            raise CliError(f"--athlete {args.athlete!r}: no data for this athlete in {store.url}")
        first, last, first_data = report_window(store, args.athlete, today, end=end, start=start, days=args.days)
        data = load_report_data(
            store,
            args.athlete,
            last,
            (last - first).days + 1,
            first_data=first_data,
            idn_watch_days=idn.watch_window_days,
        )
        moment_ms = min(int(now.timestamp() * 1000), day_start_ms(last) + DAY_MS - 1)  # as of the report's last day
        data.aftercare = running_aftercare(store, args.athlete, moment_ms, quiet_ms(idn.quiet_hours))
        data.quiet_hours = idn.quiet_hours
        data.aftercare_advice = idn.aftercare_advice
        if args.athlete in store.list_athletes("hr"):
            data.profile = profile_lines(profile_in_use(store, args.athlete))
        if any(v.missing_response for v in data.visits):  # store the response, as `recovery-monitor response` does
            data.visits = visits_with_responses(store, args.athlete, data.start_ms, data.end_ms, last)
    finally:
        store.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(build_report(data, now), encoding="utf-8")
    missing = data.missing_days
    if missing:
        from dashboards.report import analyze_command

        print(
            f"recovery-monitor: report: {len(missing)} days without analysis; run `{analyze_command(data)}` "
            "to compute them",
            file=sys.stderr,
        )
    print(args.out)
    return 0

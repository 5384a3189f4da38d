"""`recovery-monitor report`: one athlete's self-contained HTML report, without Grafana."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from monitor.cli.common import CliError, add_store_option


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="write one athlete's report as a self-contained HTML file (the athlete detail plots, no Grafana)",
        description="Reads one athlete's indicators, sessions and flags from the store and writes a single HTML "
        "file with inline SVG plots: no scripts, no network access needed to open it.",
    )
    parser.add_argument("--athlete", required=True, metavar="ID", help="pseudonymous athlete ID, e.g. A01")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="the HTML file to write")
    parser.add_argument("--days", type=int, default=90, metavar="N", help="days covered, ending today (default 90)")
    add_store_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dashboards.report import build_report, load_report_data
    from ingest.store import open_store

    if args.days < 1:
        raise CliError(f"--days must be ≥ 1 (got {args.days})")
    store = open_store(args.store)
    try:
        if args.athlete not in store.list_athletes():
            raise CliError(f"--athlete {args.athlete!r}: no data for this athlete in {store.url}")
        data = load_report_data(store, args.athlete, dt.datetime.now(dt.UTC).date(), args.days)
    finally:
        store.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(build_report(data), encoding="utf-8")
    print(args.out)
    return 0

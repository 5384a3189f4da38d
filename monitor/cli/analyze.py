"""`recovery-monitor analyze`: load, recovery and asymmetry indicators, flags and the IDN recommendation."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from rich.console import Console
from rich.table import Table

from ingest.store import open_store
from monitor.analyze import AnalysisResult, analyze
from monitor.cli.common import CliError, add_store_option
from monitor.thresholds import load_thresholds


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "analyze",
        help="compute load, HRV, resting-HR and asymmetry indicators, flags and the preventive-visit recommendation",
        description="Reads sessions and morning readings from the store, computes each athlete's daily indicators "
        "(ACWR, monotony, strain, CTL/ATL/TSB, ln rMSSD vs normal range, resting HR, symmetry indices), raises "
        "explainable flags, recommends a preventive Integrative Dry Needling visit when the rule says so, and "
        "writes `daily` and `flag` points back. Rules and thresholds: docs/analytics.md.",
    )
    parser.add_argument("--athlete", metavar="ID", action="append", help="only this athlete (repeatable)")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="the day to evaluate (default: today, UTC)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    add_store_option(parser)
    parser.add_argument("--thresholds", metavar="FILE", help="TOML file overriding the default thresholds")
    parser.add_argument(
        "--days",
        type=int,
        default=1,
        metavar="N",
        help="write `daily` and `flag` points for the N days ending on --as-of (default 1; more to backfill)",
    )
    parser.set_defaults(run=run)


def parse_as_of(text: str | None, today: dt.date) -> dt.date:
    """The evaluated day: ``text`` as an ISO date, not after ``today``; default ``today``."""
    if text is None:
        return today
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise CliError(f"--as-of {text!r}: expected a date as YYYY-MM-DD") from None
    if day > today:
        raise CliError(f"--as-of {day.isoformat()} is in the future (today is {today.isoformat()} UTC)")
    return day


def run(args: argparse.Namespace) -> int:
    as_of = parse_as_of(args.as_of, dt.datetime.now(dt.UTC).date())
    thresholds = load_thresholds(args.thresholds)
    if not 1 <= args.days <= thresholds.analysis.lookback_days:
        raise CliError(f"--days must be between 1 and {thresholds.analysis.lookback_days} (got {args.days})")
    store = open_store(args.store)
    try:
        athletes = None
        if args.athlete:
            known = set(store.list_athletes())
            missing = [a for a in args.athlete if a not in known]
            if missing:
                raise CliError(f"--athlete {missing[0]}: no data for this athlete in {store.url}")
            athletes = list(dict.fromkeys(args.athlete))
        result = analyze(store, as_of, athletes=athletes, thresholds=thresholds, write_days=args.days)
    finally:
        store.close()
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print_table(result, Console())
    return 0


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def print_table(result: AnalysisResult, console: Console) -> None:
    table = Table(title=f"Recovery monitor on {result.as_of.isoformat()}")
    columns = ("athlete", "ACWR", "mono / strain", "CTL / ATL / TSB", "ln rMSSD 7d", "RHR 7d", "SI GCT/muscle/pedal")
    for column in columns:  # fold rather than truncate: IDs and signal names must stay readable
        table.add_column(column, justify="left" if column == "athlete" else "right", overflow="fold")
    table.add_column("flags", overflow="fold", min_width=14)
    table.add_column("IDN visit", overflow="fold")
    for report in result.athletes:
        i = report.indicators
        lower = i.get("ln_rmssd_lower_bound")
        hrv = _fmt(i.get("ln_rmssd_7d")) + ("" if lower is None else f" (≥ {lower:.2f})")
        si = " / ".join(_fmt(i.get(f"{m}_symmetry_index_pct"), 1) for m in ("gct", "muscle", "pedal"))
        flags = "\n".join(
            f"[{'red' if f.severity == 'act' else 'yellow'}]{f.signal}[/] ({f.severity}) since {f.since.isoformat()}"
            for f in report.flags
        )
        table.add_row(
            report.athlete,
            _fmt(i.get("acwr")),
            f"{_fmt(i.get('monotony'))} / {_fmt(i.get('strain'), 0)}",
            " / ".join(_fmt(i.get(k), 0) for k in ("ctl", "atl", "tsb")),
            hrv,
            _fmt(i.get("rhr_7d"), 1),
            si,
            flags or "none",
            "[bold red]yes[/]" if report.recommend_idn_visit else "no",
        )
    console.print(table)
    timings = ", ".join(f"{k.removesuffix('_s')} {v:.2f} s" for k, v in result.timings_s.items())
    console.print(f"{len(result.athletes)} athletes; {result.points_written} points written ({timings}).")
    console.print("— = insufficient data (building baseline). ACWR describes load change; it is not an injury risk.")

"""`recovery-monitor analyze`: load, recovery, wellness and asymmetry indicators, flags and the IDN recommendation."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import TYPE_CHECKING

from monitor.cli.common import CliError, add_store_option, parse_day

if TYPE_CHECKING:
    from rich.console import Console

    from ingest.store.base import Store
    from monitor.analyze import AnalysisResult
    from monitor.history import CatchUpPlan
    from monitor.outputs import AthleteReport
    from monitor.thresholds import Thresholds


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
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    output.add_argument("--csv", action="store_true", help="print CSV: a header line, then one line per athlete")
    add_store_option(parser)
    parser.add_argument("--thresholds", metavar="FILE", help="TOML file overriding the default thresholds")
    parser.add_argument(
        "--days",
        type=int,
        default=1,
        metavar="N",
        help="also recompute the N days ending on --as-of, even days analysed before (default 1)",
    )
    parser.add_argument(
        "--no-catch-up",
        dest="catch_up",
        action="store_false",
        help="do not fill in the days since each athlete's last analysed day (by default every day from there, "
        "or from the athlete's first day with data, up to --as-of gets its `daily` and `flag` points)",
    )
    parser.set_defaults(run=run)


def parse_as_of(text: str | None, today: dt.date) -> dt.date:
    """The evaluated day: ``text`` as an ISO date, not after ``today``; default ``today``."""
    return today if text is None else parse_day("--as-of", text, today)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from ingest.store import open_store
    from monitor.cli import tables
    from monitor.cli.tables import write_csv
    from monitor.history import finish_update, plan_update
    from monitor.hr_profile import profile_lines
    from monitor.session_loads import profile_in_use
    from monitor.thresholds import load_thresholds

    today = dt.datetime.now(dt.UTC).date()
    as_of = parse_as_of(args.as_of, today)
    thresholds = load_thresholds(args.thresholds)
    if args.days < 1:
        raise CliError(f"--days must be ≥ 1 (got {args.days})")
    store = open_store(args.store)
    try:
        athletes = None
        if args.athlete:
            known = set(store.list_athletes())
            missing = [a for a in args.athlete if a not in known]
            if missing:
                raise CliError(f"--athlete {missing[0]}: no data for this athlete in {store.url}")
            athletes = list(dict.fromkeys(args.athlete))
        current = as_of == today
        update = plan_update(store, as_of, athletes=athletes, days=args.days, catch_up=args.catch_up, current=current)
        result = _catch_up_with_progress(store, update.plan, thresholds)
        finish_update(store, update, current)
        with_hr = set(store.list_athletes("hr"))
        used = update.loads.profiles  # computed by the session-load update when as_of is today
        profiles = {
            a.athlete: used.get(a.athlete) or profile_in_use(store, a.athlete)
            for a in result.athletes
            if a.athlete in with_hr
        }
    finally:
        store.close()
    if args.json:
        document = result.to_json()
        for entry in document["athletes"]:
            if entry["athlete"] in profiles:
                entry["hr_profile"] = profiles[entry["athlete"]].to_json()
        print(json.dumps(document, indent=2, ensure_ascii=False))
    elif args.csv:
        write_csv(*csv_rows(result))
    else:
        console = Console()
        print_table(result, console)
        if result.backfilled_days:
            first = as_of - dt.timedelta(days=result.backfilled_days)
            tables.note(console, f"History brought up to date: {result.backfilled_days + 1} days from {first}.")
        for athlete, profile in profiles.items():
            if profile.hr_max.status != "set" or profile.hr_rest.status != "set":
                tables.note(console, f"{athlete}: TRIMP computed with " + "; ".join(profile_lines(profile)) + ".")
    return 0


def _catch_up_with_progress(store: Store, plan: CatchUpPlan, thresholds: Thresholds) -> AnalysisResult:
    """``catch_up`` with a progress bar on a terminal's stderr when days before --as-of are due."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from monitor.history import catch_up

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    shown = console.is_terminal and plan.backfill_days > 0
    with Progress(*columns, console=console, transient=True, disable=not shown) as bar:
        task = bar.add_task(f"analysing {len(plan.starts)} athletes, days", total=plan.backfill_days + 1)
        return catch_up(
            store,
            plan,
            thresholds=thresholds,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


TABLE_COLUMNS = (
    "athlete", "ACWR", "mono / strain", "CTL / ATL / TSB", "ln rMSSD 7d", "RHR 7d", "Hooper 7d",
    "SI GCT/muscle/pedal", "flags", "IDN visit",
)  # fmt: skip
CSV_INDICATORS = (
    "acwr", "monotony", "strain", "ctl", "atl", "tsb", "ln_rmssd_7d", "ln_rmssd_lower_bound", "rhr_7d",
    "hooper_index_7d", "gct_symmetry_index_pct", "muscle_symmetry_index_pct", "pedal_symmetry_index_pct",
)  # fmt: skip


def _flag_lines(report: AthleteReport, markup: bool) -> str:
    lines = []
    for f in report.flags:
        signal = f"[{'red' if f.severity == 'act' else 'yellow'}]{f.signal}[/]" if markup else f.signal
        lines.append(f"{signal} ({f.severity}) since {f.since.isoformat()}")
    return "\n".join(lines) or "none"


def table_rows(result: AnalysisResult) -> list[list[str]]:
    """One row of display strings per athlete, in `TABLE_COLUMNS` order."""
    rows = []
    for report in result.athletes:
        i = report.indicators
        lower = i.get("ln_rmssd_lower_bound")
        hrv = _fmt(i.get("ln_rmssd_7d")) + ("" if lower is None else f" (≥ {lower:.2f})")
        si = " / ".join(_fmt(i.get(f"{m}_symmetry_index_pct"), 1) for m in ("gct", "muscle", "pedal"))
        rows.append(
            [
                report.athlete,
                _fmt(i.get("acwr")),
                f"{_fmt(i.get('monotony'))} / {_fmt(i.get('strain'), 0)}",
                " / ".join(_fmt(i.get(k), 0) for k in ("ctl", "atl", "tsb")),
                hrv,
                _fmt(i.get("rhr_7d"), 1),
                _fmt(i.get("hooper_index_7d"), 1),
                si,
                _flag_lines(report, markup=True),
                _idn_cell(report, markup=True),
            ]
        )
    return rows


def csv_rows(result: AnalysisResult) -> tuple[list[str], list[list[str]]]:
    """Columns and rows of `--csv`: one indicator per column as the JSON has it (empty = insufficient data)."""
    columns = ["athlete", *CSV_INDICATORS, "flags", "recommend_idn_visit", "idn_regions"]
    rows = []
    for report in result.athletes:
        values = [report.indicators.get(name) for name in CSV_INDICATORS]
        numbers = ["" if v is None else str(v) for v in values]
        flags = "" if not report.flags else _flag_lines(report, markup=False)
        visit = "yes" if report.recommend_idn_visit else "no"
        rows.append([report.athlete, *numbers, flags, visit, ",".join(report.idn_regions)])
    return columns, rows


def _idn_cell(report: AthleteReport, markup: bool) -> str:
    """`no`, or `yes` with the candidate regions of the recommendation."""
    if not report.recommend_idn_visit:
        return "no"
    yes = "[bold red]yes[/]" if markup else "yes"
    return f"{yes}: {', '.join(report.idn_regions)}" if report.idn_regions else yes


def print_table(result: AnalysisResult, console: Console) -> None:
    """The athletes as a table, or a list when the table does not fit (monitor.cli.tables)."""
    from monitor.cli import tables

    right = TABLE_COLUMNS[1:8]
    title = f"Recovery monitor on {result.as_of.isoformat()}"
    tables.print_table(title, TABLE_COLUMNS, table_rows(result), console=console, right=right)
    timings = ", ".join(f"{k.removesuffix('_s')} {v:.2f} s" for k, v in result.timings_s.items())
    n = len(result.athletes)
    tables.note(console, f"{n} athlete{'s' * (n != 1)}; {result.points_written} points written ({timings}).")
    legend = "— = insufficient data (building baseline). ACWR describes load change; it is not an injury risk."
    tables.note(console, legend)

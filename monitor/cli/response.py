"""`recovery-monitor response`: how each visit was followed, per IDN level (descriptive, no causal claim)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from monitor.cli.common import add_store_option, parse_day

TABLE_COLUMNS = ("visit", "athlete", "at (UTC)", "regions", "local", "segmental", "systemic")
LEVEL_NAMES = ("local", "segmental", "systemic")
DESCRIPTIVE = "Descriptive only: there is no control group, and athletes also change their training after a visit."


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "response",
        help="the measured response after each visit: local, segmental and systemic (descriptive)",
        description="Compares the 7 days before each visit with days 2–8 after it (the first 24 h skipped) at the "
        "three IDN levels: local (muscle-load SI of the treated muscles), segmental (GCT and pedal balance SI) and "
        "systemic (ln rMSSD, resting HR), each in the athlete's own baseline SDs with a 95 % interval and a verdict. "
        "Visits whose day 8 has passed are stored as `visit_response` points. Descriptive only: there is no control "
        "group, and athletes also change their training after a visit (docs/response.md).",
    )
    parser.add_argument("--athlete", metavar="ID", help="only this athlete's visits")
    parser.add_argument("--visit", metavar="VISIT_ID", help="only this visit")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="the data up to this day (default: today, UTC)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    add_store_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ingest.store import open_store
    from monitor.response_job import response_for

    today = dt.datetime.now(dt.UTC).date()
    as_of = today if args.as_of is None else parse_day("--as-of", args.as_of, today)
    store = open_store(args.store)
    try:
        document = response_for(store, athlete=args.athlete, visit_id=args.visit, as_of=as_of)
    finally:
        store.close()
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print_table(document)
    return 0


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2f}"


def level_cell(level: dict[str, Any]) -> str:
    """A level's verdict with its improvement in SD units and 95 % interval (positive = better)."""
    verdict = level["verdict"]
    if level["improvement_sd"] is None:
        return verdict
    low, high = level["ci95_sd"]
    colour = {"improved": "green", "worse": "red"}.get(verdict)
    shown = f"[{colour}]{verdict}[/]" if colour else verdict
    return f"{shown}\n{_signed(level['improvement_sd'])} SD [{_signed(low)}, {_signed(high)}]"


def table_rows(document: dict[str, Any]) -> list[list[str]]:
    """One row of display strings per visit, in `TABLE_COLUMNS` order."""
    rows = []
    for visit in document["visits"]:
        cells = [level_cell(visit["levels"][name]) for name in LEVEL_NAMES]
        if not visit["complete"]:
            cells = [f"pending: day 8 is {visit['after_window_ends']}"] * 3
        at = visit["at"].replace("T", " ").removesuffix("Z")[:16]
        rows.append([visit["visit_id"], visit["athlete"], at, ", ".join(visit["regions"]), *cells])
    return rows


def summary_lines(document: dict[str, Any]) -> list[str]:
    """Per level: the share of complete visits with enough data that were followed by improvement."""
    lines = []
    for name in LEVEL_NAMES:
        s = document["summary"]["levels"][name]
        share = "—" if s["improved_share"] is None else f"{100 * s['improved_share']:.0f} %"
        lines.append(
            f"{name}: {s['improved']} of {s['visits_judged']} visits followed by improvement ({share}); "
            f"{s['unchanged']} unchanged, {s['worse']} worse, {s['insufficient data']} with insufficient data"
        )
    return lines


def print_table(document: dict[str, Any]) -> None:
    from rich.console import Console

    from monitor.cli import tables

    console = Console()
    title = f"Treatment response, data up to {document['as_of']}"
    tables.print_table(title, TABLE_COLUMNS, table_rows(document), console=console)
    summary = document["summary"]
    n = summary["visits"]
    tables.note(console, f"{n} visit{'s' * (n != 1)}, {summary['complete']} with day 8 passed.")
    for line in summary_lines(document):
        tables.note(console, line)
    legend = "The 7 days before each visit against days 2–8 after: improvement in the athlete's baseline SDs [95 % "
    tables.note(console, legend + "interval], positive = better. " + DESCRIPTIVE)

"""`recovery-monitor visit add|list|remove|regions`: treatment visits (ingest/visits.py, docs/regions.md).

A visit's ID follows from athlete and time (whole seconds), so adding the same visit again changes nothing. Adding
it with a therapist, needle count or note it lacks fills them in (status `updated`); other regions, or a value other
than the one it holds, need --replace (`replaced`). `remove` writes a tombstone (nothing is deleted) and adding the
visit again revives it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import TYPE_CHECKING, Any

from monitor.cli.common import CliError, add_store_option

if TYPE_CHECKING:
    from ingest.store.base import Store


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Adds the `visit` command and its actions."""
    parser = commands.add_parser(
        "visit",
        help="record, list and remove treatment (IDN) visits; list the body-region vocabulary",
        description="Records the visits a therapist treated an athlete at, with the treated body regions "
        "(`visit regions` lists them). The same athlete and time (to the second) is the same visit.",
    )
    actions = parser.add_subparsers(dest="visit_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="record a visit and print its ID",
        description="Records a visit and prints its ID (v- and 12 hex digits). Adding the same visit again changes "
        "nothing, and may fill in a therapist, needle count or note the stored visit lacks; changing its regions or a "
        "value it holds needs --replace. A removed "
        "visit added again is restored. Refused: a time in the future, an unknown region, an athlete with no data "
        "in the store (unless --new-athlete).",
    )
    add.add_argument("--athlete", required=True, metavar="ID", help="pseudonymous athlete ID, e.g. A01")
    add.add_argument(
        "--at", required=True, metavar="ISO-TIME", help="visit time, e.g. 2024-03-04T09:30 (UTC) or …+02:00"
    )
    add.add_argument("--regions", required=True, metavar="R1,R2", help="treated regions, e.g. calf_l,hamstring_r")
    add.add_argument("--therapist", metavar="CODE", help="pseudonymous therapist code, e.g. T1")
    add.add_argument("--needles", metavar="N", help="number of needles used (0-1000)")
    add.add_argument("--note", metavar="TEXT", help="short note, one line, at most 500 characters")
    add.add_argument("--replace", action="store_true", help="change a visit already stored at that time")
    add.add_argument("--new-athlete", action="store_true", help="allow an athlete ID with no data in the store yet")
    listing = actions.add_parser(
        "list",
        help="the visits in the store, by time",
        description="Lists the visits (not removed ones) with ID, athlete, time (UTC), regions, therapist, needles "
        "and note.",
    )
    listing.add_argument("--athlete", metavar="ID", help="only this athlete's visits")
    remove = actions.add_parser(
        "remove",
        help="mark a visit removed (nothing is deleted; adding it again restores it)",
        description="Marks a visit removed: it no longer counts anywhere. The record stays in the store with "
        "removed = true, and `visit add` with the same athlete and time restores it.",
    )
    remove.add_argument("visit_id", metavar="VISIT_ID", help="the ID `visit add` or `visit list` printed")
    regions = actions.add_parser(
        "regions",
        help="the body-region vocabulary",
        description="Lists every region name with its label, side, body-map view and group (docs/regions.md).",
    )
    for action, run in ((add, run_add), (listing, run_list), (remove, run_remove), (regions, run_regions)):
        if action is not regions:
            add_store_option(action)
        action.add_argument("--json", action="store_true", help="print one JSON object instead of text")
        action.set_defaults(run=run)


def _needles(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise CliError(f"--needles {text!r}: expected a whole number") from None


def _require_athlete(store: Store, athlete: str) -> None:
    if athlete not in store.list_athletes():
        raise CliError(f"no data for athlete {athlete!r} in {store.url}: check the ID (athlete list)")


def run_add(args: argparse.Namespace) -> int:
    from ingest.store import open_store
    from ingest.timeline import iso_utc, parse_iso_ms, wall_clock_ms
    from ingest.visits import (
        MAX_AHEAD_CLI_MS,
        changed_fields,
        describe_visit,
        find_visit,
        merge_visit,
        new_visit,
        visit_document,
        write_visits,
    )

    try:
        at_ms = parse_iso_ms(args.at)
    except ValueError as exc:
        raise CliError(f"--at {exc}") from None
    needles = _needles(args.needles)
    athlete = args.athlete.strip()
    visit = new_visit(
        athlete,
        at_ms,
        args.regions,
        therapist=args.therapist,
        needles=needles,
        note=args.note,
        now_ms=wall_clock_ms(),
        max_ahead_ms=MAX_AHEAD_CLI_MS,
    )
    store = open_store(args.store)
    try:
        stored = find_visit(store, visit.visit_id)
        if stored is None and not args.new_athlete:
            _require_athlete(store, athlete)
        if stored is not None and merge_visit(stored, visit) == stored:
            status = "unchanged"
        elif stored is not None and changed_fields(stored, visit) and not args.replace:
            raise CliError(
                f"visit {stored.visit_id} of {stored.athlete} at {iso_utc(stored.at_ms)} is already stored with other "
                f"values ({describe_visit(stored)}): pass --replace to change it"
            )
        else:
            write_visits(store, [visit])
            status = "added" if stored is None else "replaced" if changed_fields(stored, visit) else "updated"
        result = find_visit(store, visit.visit_id) or visit
    finally:
        store.close()
    document = {**visit_document(result), "status": status}
    print(json.dumps(document, ensure_ascii=False) if args.json else result.visit_id)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from ingest.store import open_store
    from ingest.timeline import iso_utc
    from ingest.visits import read_visits, visit_document
    from monitor.cli.tables import MISSING, print_table

    athlete = None if args.athlete is None else args.athlete.strip()
    store = open_store(args.store)
    try:
        if athlete is not None:
            _require_athlete(store, athlete)
        visits = read_visits(store, athlete)
        url = store.url
    finally:
        store.close()
    if args.json:
        print(json.dumps({"visits": [visit_document(v) for v in visits]}, indent=2, ensure_ascii=False))
        return 0
    if not visits:
        print(f"no visits{'' if athlete is None else f' of {athlete}'} in {url}")
        return 0

    def text(value: Any) -> str:
        return MISSING if value is None else escape(str(value))

    rows = [
        [v.visit_id, escape(v.athlete), iso_utc(v.at_ms), ",".join(v.regions), *map(text, optional)]
        for v in visits
        for optional in [(v.therapist, v.needles, v.note)]
    ]
    columns = ("visit", "athlete", "time (UTC)", "regions", "therapist", "needles", "note")
    print_table(f"Visits in {escape(url)}", columns, rows, right=("needles",))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from ingest.store import open_store
    from ingest.timeline import iso_utc
    from ingest.visits import remove_visit, visit_document

    store = open_store(args.store)
    try:
        removed = remove_visit(store, args.visit_id.strip())
    finally:
        store.close()
    if args.json:
        print(json.dumps({"removed": visit_document(removed)}, ensure_ascii=False))
    else:
        print(f"removed visit {removed.visit_id} of {removed.athlete} at {iso_utc(removed.at_ms)}")
    return 0


def run_regions(args: argparse.Namespace) -> int:
    from ingest.regions import REGIONS
    from monitor.cli.tables import MISSING, print_table

    if args.json:
        print(json.dumps({"regions": [dataclasses.asdict(r) for r in REGIONS]}, indent=2, ensure_ascii=False))
        return 0
    rows = [[r.name, r.label, r.side or MISSING, r.view, r.group] for r in REGIONS]
    print_table("Body regions (docs/regions.md)", ("name", "label", "side", "view", "group"), rows)
    return 0

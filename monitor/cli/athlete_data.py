"""`recovery-monitor athlete list|export|import|delete`: an athlete's rights over their data.

Portability: `export` writes every point of one athlete as CSV plus a JSON manifest (ingest/store/export.py) and
`import` writes such a folder back, point for point. Erasure: `delete --yes` removes every point of one athlete.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from monitor.cli.common import CliError, add_store_option


def add_parsers(actions: argparse._SubParsersAction) -> None:
    """Adds `list`, `export`, `import` and `delete` to the `athlete` command's actions."""
    listing = actions.add_parser(
        "list",
        help="every athlete in the store with points per measurement and first/last time",
        description="Lists every athlete ID in the store: per measurement the number of points and the first and "
        "last time (UTC).",
    )
    export = actions.add_parser(
        "export",
        help="write every point of one athlete as CSV files plus a JSON manifest",
        description="Writes every measurement of one athlete into DIR (new or empty): one CSV file per measurement "
        "(time in ms and ISO UTC, a column per tag and per field) and manifest.json (field types, point counts, "
        "SHA-256 of each file). `athlete import DIR` writes it back point for point.",
    )
    export.add_argument("athlete", metavar="ID", help="the athlete ID")
    export.add_argument("--out", required=True, type=Path, metavar="DIR", help="a new or empty folder")
    restore = actions.add_parser(
        "import",
        help="write an athlete export back into the store",
        description="Checks an export folder (manifest, SHA-256, columns, values) and writes every point back with "
        "its tags, timestamp, field values and types. Refuses an athlete ID that already has data in the store.",
    )
    restore.add_argument("folder", type=Path, metavar="DIR", help="a folder written by `athlete export`")
    restore.add_argument("--as", dest="as_athlete", metavar="ID", help="import under another athlete ID")
    delete = actions.add_parser(
        "delete",
        help="remove every point of one athlete (needs --yes)",
        description="Removes every point of one athlete in every measurement and reports how many were removed. "
        "Export first if the data may be wanted again.",
    )
    delete.add_argument("athlete", metavar="ID", help="the athlete ID")
    delete.add_argument("--yes", action="store_true", help="really delete (without it nothing is deleted)")
    for parser, run in ((listing, run_list), (export, run_export), (restore, run_import), (delete, run_delete)):
        add_store_option(parser)
        parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
        parser.set_defaults(run=run)


def run_list(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from ingest.model import MEASUREMENTS
    from ingest.store import open_store
    from ingest.store.export import measurement_summary
    from ingest.timeline import iso_utc
    from monitor.cli.tables import print_table

    state = {m.name for m in MEASUREMENTS if m.is_state}  # one current point each: its time is no data time
    store = open_store(args.store)
    try:
        athletes = {athlete: measurement_summary(store.series(athlete)) for athlete in store.list_athletes()}
        url = store.url
    finally:
        store.close()
    if args.json:
        document = {
            "store": url,
            "athletes": [
                {
                    "athlete": athlete,
                    "points": sum(m["points"] for m in measurements.values()),
                    "measurements": {
                        name: {**m, "first": iso_utc(m["first_ms"]), "last": iso_utc(m["last_ms"])}
                        if name not in state
                        else {"points": m["points"], "state": True}
                        for name, m in measurements.items()
                    },
                }
                for athlete, measurements in athletes.items()
            ],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return 0
    if not athletes:
        print(f"no athletes in {url}")
        return 0

    def span(name: str, m: dict[str, int]) -> list[str]:
        return ["(current state)", ""] if name in state else [iso_utc(m["first_ms"]), iso_utc(m["last_ms"])]

    rows = [
        [escape(athlete), escape(name), str(m["points"]), *span(name, m)]
        for athlete, measurements in athletes.items()
        for name, m in measurements.items()
    ]
    print_table(
        f"Athletes in {escape(url)}", ("athlete", "measurement", "points", "first", "last"), rows, right=("points",)
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ingest.store import open_store
    from ingest.store.export import export_athlete

    store = open_store(args.store)
    try:
        manifest = export_athlete(store, args.athlete, args.out)
    finally:
        store.close()
    if args.json:
        print(json.dumps({"folder": str(args.out), **manifest}, indent=2, ensure_ascii=False))
    else:
        files = len(manifest["measurements"])
        print(f"exported {manifest['points']} points of {args.athlete} ({files} measurements) to {args.out}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ingest.store import open_store
    from ingest.store.export import import_athlete

    store = open_store(args.store)
    try:
        summary = import_athlete(store, args.folder, args.as_athlete)
    finally:
        store.close()
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(f"imported {summary['points']} points of {summary['athlete']} into {summary['store']}")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from ingest.store import open_store

    store = open_store(args.store)
    try:
        points = sum(s.points for s in store.series(args.athlete))
        if not points:
            raise CliError(f"athlete {args.athlete!r}: no data in {store.url}")
        if not args.yes:
            raise CliError(f"athlete {args.athlete!r} has {points} points in {store.url}; add --yes to delete them all")
        removed = store.delete_athlete(args.athlete)
        result: dict[str, Any] = {"athlete": args.athlete, "store": store.url, "points_removed": removed}
    finally:
        store.close()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(f"deleted {removed} points of {args.athlete} from {result['store']}")
    return 0

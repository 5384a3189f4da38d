"""`recovery-monitor import`: watch files, session logs, RR readings and HRV app exports into the store, exactly
once per activity (FIT) or file content (text files)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.cli.common import CliError, add_store_option

if TYPE_CHECKING:
    from rich.console import Console

    from ingest.importer import ImportResult
    from ingest.store import Store
    from ingest.store.errors import StoreError
    from monitor.session_loads import SessionLoadCounts

EXIT_FAILED_FILES = 2
SUFFIXES = ".csv, .fit, .txt"  # ingest.importer.supported_suffixes(), written out so the parser needs no numpy (tested)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "import",
        help="import watch files (.fit), session logs, RR files and HRV app exports (.csv, .txt)",
        description="Imports files into the store. FIT activities: a session summary per session plus the HR, RR, "
        "motion, running-dynamics, power and per-foot stride streams. CSV/TXT files are recognised by their "
        "header: session logs (date, duration_min, rpe, ...) and PMSys srpe.csv become sessions with sRPE load; "
        "HRV4Training and Elite HRV exports become daily readiness readings; RR files (one interval per line, "
        "pyhrv, HRV Logger, Kubios) become a morning reading, dated by the file's own timestamps (HRV Logger) or "
        "at 06:00 UTC of --date or of the YYYY-MM-DD in the file name. Directories are searched recursively. A "
        "file is imported whole or not at all; re-importing the same content (even renamed) is reported as a "
        "duplicate and changes nothing. Status 'skipped' (exit code 0): a file holding nothing to import, e.g. "
        "HRV Logger's Features.csv or an RR recording longer than a 10-min morning reading. Status 'failed' "
        "(exit code 2, one line FILE[:LINE]: reason on stderr, the other files are still imported): a file that "
        "cannot be read, has bad values, is dated more than a day after now (UTC), or would overwrite another "
        "reading. If the store fails, the import stops with one line and a count; what was imported stays, and "
        "running the same command again imports the rest.",
    )
    parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR", help=f"files ({SUFFIXES}) or folders")
    parser.add_argument(
        "--athlete",
        required=True,
        metavar="ID",
        help="pseudonymous athlete ID, e.g. A01 (a session log's athlete column overrides it per row)",
    )
    parser.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="day of the RR readings being imported (default: the YYYY-MM-DD in each RR file's name)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object per file (JSON lines)")
    output.add_argument("--csv", action="store_true", help="print CSV: a header line, then one line per file")
    add_store_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ingest.importer import FAILED, NOT_IMPORTED, ImportResult, find_files, import_file, supported_suffixes
    from ingest.store import open_store
    from ingest.store.errors import StoreError
    from monitor.cli import tables
    from monitor.cli.tables import write_csv

    athlete = args.athlete.strip()
    if not athlete:
        raise CliError("--athlete must not be empty")
    options = {} if args.date is None else {"date": _date(args.date)}  # import_file's own defaults otherwise
    planned = list(find_files(args.paths))
    if not planned:
        raise CliError(f"no importable files ({supported_suffixes()}) in {' '.join(args.paths)}")
    results: list[ImportResult] = []
    store = open_store(args.store)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    console = Console(stderr=True)
    bar = Progress(*columns, console=console, transient=True, redirect_stdout=False, disable=not console.is_terminal)
    try:
        with bar as progress:
            task = progress.add_task("importing", total=len(planned))
            store_error: StoreError | None = None
            for item in planned:
                if isinstance(item, ImportResult):
                    results.append(item)
                elif store_error is not None:
                    results.append(ImportResult(str(item), NOT_IMPORTED, "the store failed on an earlier file"))
                else:
                    progress.update(task, description=f"importing {item.name}")
                    try:
                        results.append(import_file(store, item, athlete, **options))
                    except StoreError as exc:
                        store_error = exc
                        results.append(ImportResult(str(item), NOT_IMPORTED, f"store error: {exc}"))
                progress.advance(task)
        loads = None if store_error is not None else _after_import(store, results)
    finally:
        store.close()
    failed = [r for r in results if r.status == FAILED]
    for result in failed:
        print(f"recovery-monitor: import: {result.where}: {result.error}", file=sys.stderr)
    if store_error is not None:
        print(f"recovery-monitor: import: {_store_failure(store_error, results)}", file=sys.stderr)
    if args.json:
        for result in results:
            print(json.dumps(result.to_json(), ensure_ascii=False))
    elif store_error is not None:
        pass  # the line above says it all; the same command imports the rest once the store is back
    elif args.csv:
        write_csv(_COLUMNS, [_row(r, markup=False) for r in results])
    else:
        print_table(results, Console())
        if loads is not None and loads.updated:
            tables.note(Console(), f"Training load from heart rate computed for {loads.updated} session(s).")
        if any(r.first_ms for r in results):
            tables.note(Console(), "Run `recovery-monitor analyze` to bring the analysis up to date.")
    return EXIT_FAILED_FILES if failed or store_error is not None else 0


def _after_import(store: Store, results: list[ImportResult]) -> SessionLoadCounts | None:
    """Loads from heart rate and the analysis marked due for every athlete the import wrote for."""
    from monitor.imported import after_import, earliest_written

    return after_import(store, earliest_written(r.first_ms for r in results))


def _store_failure(error: StoreError, results: list[ImportResult]) -> str:
    """One line: what failed and how many files were imported, duplicate and not imported (and skipped, failed)."""
    from ingest.importer import DUPLICATE, FAILED, IMPORTED, NOT_IMPORTED, SKIPPED
    from ingest.store.errors import StoreUnavailable

    counts = Counter(r.status for r in results)
    what = "store unreachable" if isinstance(error, StoreUnavailable) else "store error"
    summary = f"{counts[IMPORTED]} imported, {counts[DUPLICATE]} duplicate, {counts[NOT_IMPORTED]} not imported"
    summary += "".join(f", {counts[s]} {s}" for s in (SKIPPED, FAILED) if counts[s])
    return f"{what} ({error}): {summary}; run the same command again when the store is back"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CliError(f"--date {text!r} is not a YYYY-MM-DD date") from None


def _format_number(value: float | None, digits: int = 1, grouped: bool = True) -> str:
    return "—" if value is None else f"{value:{',' if grouped else ''}.{digits}f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


_COLUMNS = (
    "file",
    "status",
    "sport",
    "start (UTC)",
    "duration",
    "km",
    "avg HR",
    "RR",
    "GCT L %",
    "GCT SI %",
    "pedal L %",
    "format",
)
_STYLES = {"imported": "green", "duplicate": "yellow", "failed": "red"}


def _row(r: ImportResult, markup: bool = True) -> list[str]:
    """Display strings of one file (``markup``: rich markup and the file name; else the path, plain numbers)."""
    from rich.markup import escape

    s = r.summary
    distance = s.get("distance_m")

    def _number(value: float | None, digits: int = 1) -> str:
        return _format_number(value, digits, grouped=markup)

    return [
        escape(Path(r.file).name) if markup else r.file,
        f"[{_STYLES.get(r.status, 'white')}]{r.status}[/]" if markup else r.status,
        s.get("sport") or "—",
        (s.get("start") or "—").replace("T", " ").removesuffix("Z"),
        _duration(s.get("duration_s")),
        _number(None if distance is None else distance / 1000, 2),
        _number(s.get("avg_hr_bpm"), 0),
        _number(s.get("rr_count"), 0),
        _number(s.get("gct_balance_left_pct"), 2),
        _number(s.get("gct_symmetry_index_pct"), 1),
        _number(s.get("pedal_balance_left_pct"), 1),
        s.get("format") or "—",
    ]


def print_table(results: list[ImportResult], console: Console) -> None:
    """One row per file (a table, or a list when it does not fit); failed files show their status only (the
    reason is on stderr)."""
    from monitor.cli import tables

    right = [name for name in _COLUMNS if name not in ("file", "status", "sport", "format")]
    tables.print_table("Import", _COLUMNS, [_row(r) for r in results], console=console, right=right)
    for r in results:
        if r.summary.get("detail"):
            console.print(f"{Path(r.file).name}: {r.summary['detail']}", markup=False, highlight=False, soft_wrap=True)
    counts = Counter(r.status for r in results)
    shown = ("imported", "duplicate", "skipped", "not imported", "failed")
    console.print(", ".join(f"{counts[k]} {k}" for k in shown if counts[k] or k in ("imported", "duplicate", "failed")))

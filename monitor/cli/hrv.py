"""`recovery-monitor hrv FILE`: time-domain HRV of one RR file, artifacts found by Lipponen–Tarvainen detection."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.hrv import HrvMetrics

CORRECTIONS = ("exclude", "kubios", "none")  # monitor.hrv's, written out so the parser needs no numpy (tested)
DEFAULT_CORRECTION = "exclude"


def add_parser(commands: argparse._SubParsersAction) -> None:
    hrv = commands.add_parser(
        "hrv",
        help="time-domain HRV (rMSSD, SDNN, mean HR) of one RR-interval file",
        description="Reads one RR file (one interval in ms per line, a pyhrv NNI file, an HRV Logger RR export or "
        "a Kubios report), finds artifacts with the Lipponen & Tarvainen (2019) method and prints the time-domain "
        "HRV with the artifact counts. The default leaves the artifacts out (the stored morning readings, the "
        "analysis, the dashboards and the report use the same numbers); --correction kubios replaces them instead, "
        "as Kubios HRV and NeuroKit2 do.",
    )
    hrv.add_argument("file", metavar="FILE", help="RR-interval file")
    hrv.add_argument(
        "--correction",
        choices=CORRECTIONS,
        default=DEFAULT_CORRECTION,
        help="exclude (default): leave artifacts and the differences that touch them out; kubios: replace artifacts "
        "with corrected intervals (Kubios-compatible); none: raw intervals, artifacts only counted",
    )
    hrv.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    hrv.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ingest.rr_files import read_rr_file, reading_date
    from monitor.hrv import hrv_metrics

    rr_file = read_rr_file(args.file)
    metrics = hrv_metrics(rr_file.rr_ms, correction=args.correction)
    if args.json:
        print(json.dumps(metrics.to_json()))
    else:
        from rich.console import Console

        date = reading_date(rr_file.path)
        title = f"HRV of {rr_file.path.name}" + (f" ({date})" if date else "")
        print_table(metrics, title, f"{rr_file.layout}, correction {args.correction}", Console())
    return 0


def print_table(metrics: HrvMetrics, title: str, caption: str, console: Console) -> None:
    from monitor.cli import tables

    m = metrics.to_json()

    def fmt(value: float | None, digits: int) -> str:
        return "—" if value is None else f"{value:.{digits}f}"

    a = metrics.artifacts
    pct = 100.0 * a.total / metrics.n_beats if metrics.n_beats else 0.0
    rows = [
        ("beats (RR intervals)", str(metrics.n_beats)),
        ("intervals used", str(metrics.n_used)),
        ("artifacts", f"{a.total} ({pct:.1f} %)"),
        ("  ectopic / missed / extra / long-short", f"{a.ectopic} / {a.missed} / {a.extra} / {a.long_short}"),
        ("mean RR (ms)", fmt(m["mean_rr_ms"], 1)),
        ("mean HR (bpm)", fmt(m["mean_hr_bpm"], 1)),
        ("SDNN (ms)", fmt(m["sdnn_ms"], 1)),
        ("rMSSD (ms)", fmt(m["rmssd_ms"], 1)),
        ("ln rMSSD", fmt(m["ln_rmssd"], 3)),
    ]
    tables.print_table(title, ("metric", "value"), rows, console=console, right=("value",), caption=caption)

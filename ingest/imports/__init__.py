"""Text files (`.csv`, `.txt`): session logs, RR readings and daily HRV app exports, told apart by their content.

Detection looks at the first non-blank line, whatever the suffix, in this order:

1. it starts with `#`, or has no `,` `;` or tab separator → an RR file (`ingest.imports.rr_reading`: one interval
   per line, pyhrv NNI file, Kubios report);
2. otherwise it is a CSV header; its names, stripped and lower-cased, decide:
   `timestamp, rr, since_start` → HRV Logger RR file; `rmssd` + `hrv4t_recovery_points` → HRV4Training;
   `datetime` + `rmssd` + `lnrmssd` → Elite HRV; `end_date_time, activity_names, perceived_exertion,
   duration_min` → PMSys `srpe.csv`; `date` + `duration_min` + `rpe` → session log; `time` + `regions` → a
   clinic's visit log (`ingest.imports.visit_log`); HRV Logger's
   `*_Features.csv` (`timestamp, HR, AVNN, SDNN, rMSSD, pNN50, …, artifacts_removed`: the app's per-window values)
   → skipped (`FileSkipped`), its `*_RRIntervals.csv` holds the reading;
3. a header naming `duration_min`, `rpe` or `perceived_exertion` without all of a session log's columns, or
   `regions` without `time` → "missing required column"; any other header → "unknown CSV layout". Both name the
   header's line.
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.activity import FileDecodeError, FileSkipped, ImportedActivity, SourceFile
from ingest.imports.common import CsvTable, delimiter_of, first_content_line, read_csv, text_lines
from ingest.imports.hrv_apps import is_elitehrv, is_hrv4training, parse_elitehrv, parse_hrv4training
from ingest.imports.rr_reading import decode_rr
from ingest.imports.session_csv import REQUIRED, is_pmsys, is_session_log, missing_columns, parse_pmsys
from ingest.imports.session_csv import parse_session_log as parse_session_log
from ingest.imports.visit_log import is_visit_log, parse_visit_log
from ingest.imports.visit_log import missing_columns as missing_visit_columns
from ingest.rr_files import FEATURES_COLUMNS, HRV_LOGGER_COLUMNS

TEXT_SUFFIXES = (".csv", ".txt")
LAYOUTS = (
    "session-log (date, duration_min, rpe)",
    "PMSys srpe.csv",
    "HRV4Training",
    "Elite HRV",
    "visit log (time, regions)",
    "HRV Logger RR (timestamp, rr, since_start)",
    "one RR interval per line",
)

__all__ = ["LAYOUTS", "TEXT_SUFFIXES", "decode_text", "detect_layout"]


def detect_layout(names: tuple[str, ...]) -> str | None:
    """The layout of a CSV header (normalised names), None when unknown."""
    if names == HRV_LOGGER_COLUMNS:
        return "rr"
    if all(name in names for name in FEATURES_COLUMNS):
        return "hrv-logger-features"
    checks = (
        ("hrv4training", is_hrv4training),
        ("elitehrv", is_elitehrv),
        ("pmsys-srpe", is_pmsys),
        ("session-log", is_session_log),
        ("visit-log", is_visit_log),
    )
    return next((layout for layout, check in checks if check(names)), None)


def decode_text(source: SourceFile) -> ImportedActivity:
    """Decode one text file (see the module docstring); every problem is a `FileDecodeError` with its line."""
    lines = text_lines(source.data)
    first = first_content_line(lines)
    delimiter = None if first is None else delimiter_of(lines[first])
    if first is None or delimiter is None or lines[first].lstrip().startswith("#"):
        return decode_rr(source)
    table = read_csv(lines, first, delimiter)
    layout = detect_layout(table.names)
    if layout == "rr":
        return decode_rr(source)
    if layout == "hrv-logger-features":
        raise FileSkipped("HRV Logger features file (the app's per-window values), not imported: import its RR file")
    if layout is None:
        if missing := missing_visit_columns(table.names):
            raise FileDecodeError(
                f"missing required column(s) {', '.join(missing)}: a visit log needs time, regions", first + 1
            )
        missing = missing_columns(table.names)
        if missing:
            need = ", ".join(REQUIRED)
            raise FileDecodeError(
                f"missing required column(s) {', '.join(missing)}: a session log needs {need}", first + 1
            )
        header = lines[first].strip()
        shown = header if len(header) <= 60 else header[:57] + "..."
        raise FileDecodeError(f"unknown CSV layout {shown!r}: not one of {'; '.join(LAYOUTS)}", first + 1)
    parsers: dict[str, Callable[[CsvTable], ImportedActivity]] = {
        "hrv4training": parse_hrv4training,
        "elitehrv": parse_elitehrv,
        "pmsys-srpe": parse_pmsys,
        "session-log": parse_session_log,
        "visit-log": parse_visit_log,
    }
    return parsers[layout](table)

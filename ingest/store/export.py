"""One athlete's data out of the store and back in (portability): CSV files plus a JSON manifest.

An export folder holds one CSV file per measurement and `manifest.json`. Each CSV file starts with a header
line: `time_ms` (integer milliseconds since the Unix epoch, UTC), `time_utc` (the same instant in ISO 8601, for
people; ignored on import), one column per tag key, then one column per field. Values: integers as decimal
digits, floats as Python's `repr` writes them (they read back bit for bit), booleans as `true`/`false`, strings
(tags and string fields) always in double quotes (RFC 4180). An empty cell is a field the point does not carry;
`""` is an empty string. The manifest gives, per file, the measurement, the columns with each field's type
(integer, float, boolean, string), the point count and the file's SHA-256; importing checks all of them before
anything is written.

Integer fields go through the store's float64 reads, so values beyond 2**53 in magnitude are not exact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ingest.store.base import FIELD_TYPES, FieldType, PointBatch, SeriesInfo, Store

FORMAT = "recovery-monitor athlete export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ATHLETE_TAG = "athlete"
_TIME_COLUMNS = ("time_ms", "time_utc")
_CELL = re.compile(r'"((?:[^"]|"")*)"|([^,"\r\n]*)')
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_DTYPES: dict[str, Any] = {"integer": np.int64, "float": np.float64, "boolean": bool, "string": object}


class ExportError(ValueError):
    """An export folder that cannot be written or read back; the message is one line naming it."""


@dataclass(frozen=True)
class MeasurementFile:
    """One CSV file of an export: its measurement, tag keys, fields with types and point count."""

    measurement: str
    file: str
    tags: tuple[str, ...]
    fields: dict[str, FieldType]
    points: int
    sha256: str = ""

    @property
    def columns(self) -> list[str]:
        return [*_TIME_COLUMNS, *self.tags, *self.fields]


def tool_version() -> str:
    try:
        return metadata.version("recovery-monitor")
    except metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------- export


def export_athlete(store: Store, athlete: str, out_dir: Path) -> dict[str, Any]:
    """Write every point of ``athlete`` to ``out_dir`` (new or empty); returns the manifest.

    Refuses (ExportError, nothing written) an athlete without data or a folder that already holds files.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise ExportError(f"{out_dir}: the folder already holds files; export into a new or empty folder")
    series = store.series(athlete)
    if not series:
        raise ExportError(f"athlete {athlete!r}: no data in {store.url}")
    created_dir = not out_dir.exists()
    written: list[Path] = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        files = []
        names = _file_names(sorted({s.measurement for s in series}))
        for measurement, name in names.items():
            text, described = _measurement_csv(
                store, athlete, measurement, [s for s in series if s.measurement == measurement]
            )
            path = out_dir / name
            written.append(path)
            path.write_text(text, encoding="utf-8", newline="")
            files.append(
                MeasurementFile(measurement, name, described.tags, described.fields, described.points, _sha256(text))
            )
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "athlete": athlete,
            "tool": "recovery-monitor",
            "tool_version": tool_version(),
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "points": sum(f.points for f in files),
            "measurements": [_describe(f) for f in files],
        }
        path = out_dir / MANIFEST
        written.append(path)
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if created_dir:
            out_dir.rmdir()
        raise
    return manifest


def _file_names(measurements: Sequence[str]) -> dict[str, str]:
    """Measurement → a file name safe on every file system, unique within the export."""
    names: dict[str, str] = {}
    used: set[str] = {MANIFEST}
    for measurement in measurements:
        stem = _UNSAFE_NAME.sub("_", measurement).strip("._") or "measurement"
        name, n = f"{stem}.csv", 1
        while name.lower() in used:
            n += 1
            name = f"{stem}-{n}.csv"
        used.add(name.lower())
        names[measurement] = name
    return names


def _measurement_csv(
    store: Store, athlete: str, measurement: str, series: Sequence[SeriesInfo]
) -> tuple[str, MeasurementFile]:
    """The CSV text of one measurement's series and its description (tags, fields, points)."""
    tag_keys = sorted({k for s in series for k in s.tags}, key=lambda k: (k != ATHLETE_TAG, k))
    fields: dict[str, FieldType] = {}
    for s in series:
        for name, kind in s.fields.items():
            fields.setdefault(name, kind)
    fields = dict(sorted(fields.items()))
    frame = store.read(measurement, athlete, list(fields), with_tags=tag_keys)
    n = len(frame.time_ms)
    tag_cells = [[_quote(v) if v else "" for v in frame.columns[k].tolist()] for k in tag_keys]
    field_cells = [_field_cells(frame.columns[name], kind) for name, kind in fields.items()]
    present = {name: any(cells[i] != "" for i in range(n)) for name, cells in zip(fields, field_cells)}
    field_cells = [cells for name, cells in zip(fields, field_cells) if present[name]]
    fields = {name: kind for name, kind in fields.items() if present[name]}
    times = frame.time_ms.astype(np.int64).tolist()
    order = sorted(range(n), key=lambda i: (times[i], [cells[i] for cells in tag_cells]))
    described = MeasurementFile(measurement, "", tuple(tag_keys), fields, n)
    lines = [",".join(described.columns)]
    for i in order:
        lines.append(
            ",".join([str(times[i]), _iso_utc(times[i]), *(c[i] for c in tag_cells), *(c[i] for c in field_cells)])
        )
    return "\n".join(lines) + "\n", described


def _field_cells(column: np.ndarray, kind: FieldType) -> list[str]:
    """CSV cells of one field column read from the store ("" where a point has no value)."""
    cells = []
    for value in column.tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            cells.append("")
        elif kind == "string":
            cells.append(_quote(str(value)))
        elif kind == "integer":
            cells.append(str(round(float(value))))
        elif kind == "boolean":
            cells.append("true" if float(value) else "false")
        else:
            cells.append(repr(float(value)))
    return cells


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _iso_utc(time_ms: int) -> str:
    instant = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=time_ms)
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _describe(f: MeasurementFile) -> dict[str, Any]:
    return {
        "measurement": f.measurement,
        "file": f.file,
        "points": f.points,
        "tags": list(f.tags),
        "field_types": f.fields,
        "columns": f.columns,
        "sha256": f.sha256,
    }


# ---------------------------------------------------------------- import


def read_export(folder: Path, as_athlete: str | None = None) -> tuple[dict[str, Any], list[PointBatch]]:
    """The manifest and the points of an export folder, checked (format, files, hashes, columns, values, counts);
    with ``as_athlete`` the points carry that athlete ID instead."""
    folder = Path(folder)
    manifest = _read_manifest(folder)
    athlete = manifest["athlete"]
    target = as_athlete if as_athlete is not None else athlete
    if not target:
        raise ExportError("--as: the athlete ID must not be empty")
    batches: list[PointBatch] = []
    for entry in manifest["measurements"]:
        f = _measurement_file(folder, entry)
        path = folder / f.file
        try:
            text = path.read_bytes().decode("utf-8")  # as written: no newline translation
        except (OSError, UnicodeDecodeError) as exc:
            raise ExportError(f"{path}: cannot read it ({exc})") from exc
        if _sha256(text) != f.sha256:
            raise ExportError(f"{path}: the file changed since the export (SHA-256 differs from {MANIFEST})")
        rows = _parse_csv(text, path)
        if not rows or [value for value, _ in rows[0]] != f.columns:
            raise ExportError(f"{path}: the header is not {','.join(f.columns)}")
        if len(rows) - 1 != f.points:
            raise ExportError(f"{path}: {len(rows) - 1} points, the manifest says {f.points}")
        batches += _batches(f, rows[1:], path, athlete, target)
    return manifest, batches


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ExportError(f"{folder}: not a folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"{folder}: no {MANIFEST}; not an athlete export") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ExportError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ExportError(f"{path}: not an athlete export (format is not {FORMAT!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ExportError(
            f"{path}: format version {manifest.get('format_version')!r}; this version reads {FORMAT_VERSION}"
        )
    if not isinstance(manifest.get("athlete"), str) or not isinstance(manifest.get("measurements"), list):
        raise ExportError(f"{path}: needs an athlete and a list of measurements")
    return manifest


def _measurement_file(folder: Path, entry: Any) -> MeasurementFile:
    where = f"{folder / MANIFEST}"
    try:
        f = MeasurementFile(
            str(entry["measurement"]),
            str(entry["file"]),
            tuple(str(t) for t in entry["tags"]),
            {str(k): v for k, v in entry["field_types"].items()},
            int(entry["points"]),
            str(entry["sha256"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ExportError(f"{where}: a measurement entry is incomplete ({exc})") from None
    if Path(f.file).name != f.file or f.file in ("", ".", ".."):
        raise ExportError(f"{where}: file name {f.file!r} is not inside the export folder")
    if bad := [k for k, v in f.fields.items() if v not in FIELD_TYPES]:
        raise ExportError(f"{where}: {f.measurement}: unknown type of field {bad[0]!r}")
    if ATHLETE_TAG not in f.tags:
        raise ExportError(f"{where}: {f.measurement}: no {ATHLETE_TAG} tag column")
    return f


def _parse_csv(text: str, path: Path) -> list[list[tuple[str, bool]]]:
    """RFC 4180 rows of (value, was quoted) cells; quotedness tells an empty string from a missing value."""
    rows: list[list[tuple[str, bool]]] = []
    row: list[tuple[str, bool]] = []
    pos, end = 0, len(text)
    while pos < end:
        match = _CELL.match(text, pos)
        assert match is not None  # the second alternative matches the empty string
        quoted = match.group(1) is not None
        row.append((match.group(1).replace('""', '"') if quoted else match.group(2), quoted))
        pos = match.end()
        if text.startswith(",", pos):
            pos += 1
            if pos == end:
                row.append(("", False))
            continue
        for newline in ("\r\n", "\n", ""):
            if text.startswith(newline, pos):
                break
        if not newline and pos < end:
            raise ExportError(f"{path}: malformed CSV at line {text.count(chr(10), 0, pos) + 1}")
        pos += len(newline)
        rows.append(row)
        row = []
    if row:
        rows.append(row)
    return rows


def _batches(
    f: MeasurementFile, rows: list[list[tuple[str, bool]]], path: Path, athlete: str, target: str
) -> list[PointBatch]:
    """PointBatches of one file: one per tag set and set of present fields (writes merge them into points)."""
    width, n_tags = len(f.columns), len(f.tags)
    athlete_col = 2 + f.tags.index(ATHLETE_TAG)
    groups: dict[tuple, list[tuple[int, list]]] = {}
    seen: set[tuple] = set()
    for line, row in enumerate(rows, start=2):
        if len(row) != width:
            raise ExportError(f"{path}: line {line} has {len(row)} values for {width} columns")
        if row[athlete_col][0] != athlete:
            raise ExportError(f"{path}: line {line} belongs to athlete {row[athlete_col][0]!r}, not {athlete!r}")
        try:
            time_ms = int(row[0][0])
            values = [_value(cell, kind) for cell, kind in zip(row[2 + n_tags :], f.fields.values())]
        except ValueError as exc:
            raise ExportError(f"{path}: line {line}: {exc}") from None
        tags = tuple((key, value) for key, (value, _) in zip(f.tags, row[2 : 2 + n_tags]) if value)
        if (tags, time_ms) in seen:
            raise ExportError(f"{path}: line {line} repeats the point at {time_ms} ms")
        seen.add((tags, time_ms))
        present = tuple(v is not None for v in values)
        groups.setdefault((tags, present), []).append((time_ms, values))
    batches = []
    for (tags, present), points in groups.items():
        tag_map = dict(tags) | {ATHLETE_TAG: target}
        fields = {
            name: np.array([values[j] for _, values in points], dtype=_DTYPES[kind])
            for j, ((name, kind), has) in enumerate(zip(f.fields.items(), present))
            if has
        }
        if fields:
            batches.append(PointBatch(f.measurement, tag_map, np.array([t for t, _ in points], np.int64), fields))
    return batches


def _value(cell: tuple[str, bool], kind: str) -> Any:
    """One field value of a CSV cell, None for an empty unquoted cell."""
    text, quoted = cell
    if kind == "string":
        return text if quoted or text else None
    if not text:
        return None
    if kind == "integer":
        return int(text)
    if kind == "float":
        return float(text)
    if text not in ("true", "false"):
        raise ValueError(f"boolean {text!r} is not true or false")
    return text == "true"


def import_athlete(store: Store, folder: Path, as_athlete: str | None = None) -> dict[str, Any]:
    """Write an export back (every point, tag, timestamp, field value and type); returns a summary.

    Refuses (ExportError, nothing written) a folder that fails any check or a target athlete that already has
    data in the store: an import never merges into or overwrites someone's points.
    """
    manifest, batches = read_export(folder, as_athlete)
    target = as_athlete if as_athlete is not None else manifest["athlete"]
    if target in store.list_athletes():
        raise ExportError(
            f"athlete {target!r} already has data in {store.url}; delete it first or import with --as ANOTHER_ID"
        )
    store.write(batches)
    return {
        "athlete": target,
        "exported_athlete": manifest["athlete"],
        "store": store.url,
        "points": sum(m["points"] for m in manifest["measurements"]),
        "measurements": {m["measurement"]: m["points"] for m in manifest["measurements"]},
    }


def measurement_summary(series: Iterable[SeriesInfo]) -> dict[str, dict[str, int]]:
    """Measurement → points, first_ms, last_ms over the given series."""
    out: dict[str, dict[str, int]] = {}
    for s in series:
        entry = out.setdefault(s.measurement, {"points": 0, "first_ms": s.first_ms, "last_ms": s.last_ms})
        entry["points"] += s.points
        entry["first_ms"] = min(entry["first_ms"], s.first_ms)
        entry["last_ms"] = max(entry["last_ms"], s.last_ms)
    return out

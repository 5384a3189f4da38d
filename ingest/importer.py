"""Import files into the store: find files, pick a decoder by file type, skip duplicates, write once.

A decoder turns a `SourceFile` (path, bytes, options) into an `ImportedActivity` (see `ingest.activity`) or raises
`FileDecodeError` with the reason (and the line, for text files). Each file is decoded completely before anything
is written, and then written in one `Store.write` call whose last batches are the `activity` identity records, so a
failed file leaves nothing behind and an interrupted write is completed by importing the file again. `.fit` files
are FIT activities; `.csv` and `.txt` files are recognised by content (`ingest.imports`). New formats register in
`DECODERS`.

Every file type gets the same date check (`ingest.activity.check_not_future`): data dated more than a day after
now (UTC) fails the file. A decoder raises `FileSkipped` for a file it recognises as holding nothing to import
(status `skipped`, not a failure).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.activity import (
    EXTRA_KEYS,
    SUMMARY_KEYS,
    FileDecodeError,
    FileSkipped,
    ImportedActivity,
    SourceFile,
    activity_athletes,
    activity_batch,
    attach_to_store,
    check_not_future,
    is_imported,
    store_conflict,
)
from ingest.fit import decode_fit
from ingest.imports import TEXT_SUFFIXES, decode_text
from ingest.store.base import PointBatch, Store

Decoder = Callable[[SourceFile], ImportedActivity]


def _fit(source: SourceFile) -> ImportedActivity:
    return decode_fit(source.data)


DECODERS: dict[str, Decoder] = {".fit": _fit, **dict.fromkeys(TEXT_SUFFIXES, decode_text)}
"""File suffix (lower case) → decoder. Directories are searched for these suffixes."""

IMPORTED, DUPLICATE, FAILED = "imported", "duplicate", "failed"
SKIPPED = "skipped"
"""A recognised file holding nothing to import (reason in `summary["detail"]`); not a failure."""
NOT_IMPORTED = "not imported"
"""A file not imported because the store became unreachable during the import (set by the caller)."""
_log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    """The outcome for one file; `summary` holds `SUMMARY_KEYS` (None when the file has no such data)."""

    file: str
    status: str
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    points: int = 0
    records: int = 0
    line: int | None = None
    """Line of a text file the error is about."""
    athletes: list[str] | None = None
    first_ms: dict[str, int] = field(default_factory=dict)
    """Athlete → the earliest time of the points written for them (the first day whose analysis changes)."""

    @property
    def where(self) -> str:
        """`file` or `file:line`, the prefix of the error message."""
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        """One JSON line of `recovery-monitor import --json`."""
        out: dict[str, Any] = {"file": self.file, "status": self.status, "error": self.error, "line": self.line}
        out.update({key: self.summary.get(key) for key in SUMMARY_KEYS})
        out["sessions"] = self.summary.get("sessions")
        out.update({key: self.summary.get(key) for key in EXTRA_KEYS})
        out["athletes"] = self.athletes
        return out


def supported_suffixes() -> str:
    return ", ".join(sorted(DECODERS))


def find_files(paths: Iterable[str | Path]) -> Iterator[Path | ImportResult]:
    """Files to import, in order: named files as given, directories walked (sorted) for known suffixes.

    Hidden files and folders inside a walked directory (`.Trash`, macOS `._name.fit` resource forks) are skipped.

    A path that does not exist, or a named file of an unknown type, yields a failed `ImportResult` instead.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.suffix.lower() in DECODERS and p.is_file())
            yield from sorted(p for p in found if not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            if path.suffix.lower() in DECODERS:
                yield path
            else:
                reason = f"unsupported file type '{path.suffix or path.name}' (supported: {supported_suffixes()})"
                yield ImportResult(str(path), FAILED, reason)
        else:
            yield ImportResult(str(path), FAILED, "no such file or directory")


def decode_file(path: Path, date: dt.date | None = None) -> ImportedActivity:
    """Read and decode one file (`date`: the day of an RR reading, `--date`); every failure becomes a
    `FileDecodeError` with a one-line reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileDecodeError(f"cannot read: {exc.strerror or exc}") from exc
    decoder = DECODERS.get(path.suffix.lower())
    if decoder is None:
        raise FileDecodeError(f"unsupported file type '{path.suffix}' (supported: {supported_suffixes()})")
    try:
        return decoder(SourceFile(path, data, date))
    except FileDecodeError:
        raise
    except Exception as exc:  # a decoder bug or an input it did not foresee must not stop the batch
        _log.debug("decoding %s failed", path, exc_info=True)
        text = " ".join(str(exc).split())[:200]
        raise FileDecodeError(f"cannot decode: {type(exc).__name__}: {text}") from exc


def import_file(store: Store, path: Path, athlete: str, date: dt.date | None = None) -> ImportResult:
    """Decode, refuse data dated in the future, check the identity against the store, then write everything in one
    call (or nothing).

    A file is a duplicate when every athlete it writes for already has its `activity` point. A file the decoder
    recognises as holding nothing to import (`FileSkipped`) is skipped.
    """
    try:
        activity = decode_file(path, date)
        points = activity.batches(athlete)
        check_not_future(activity, points, int(dt.datetime.now(dt.UTC).timestamp() * 1000))
    except FileSkipped as exc:
        return ImportResult(str(path), SKIPPED, summary={"detail": str(exc)})
    except FileDecodeError as exc:
        return ImportResult(str(path), FAILED, str(exc), line=exc.line)
    summary = activity.summary()
    summary.setdefault("format", path.suffix.lower().lstrip("."))
    records = activity.samples
    owners = activity_athletes(activity, athlete)
    result = ImportResult(str(path), DUPLICATE, summary=summary, records=records, athletes=owners)
    if all(is_imported(store, activity, owner) for owner in owners):
        return result
    try:
        conflict = store_conflict(activity, store, athlete)
    except FileDecodeError as exc:  # a conflict with the line of the row it is about
        return ImportResult(str(path), FAILED, str(exc), line=exc.line)
    if conflict:
        return ImportResult(str(path), FAILED, conflict)
    try:
        if attach_to_store(activity, store, athlete):  # rows re-targeted onto stored points: batches and detail change
            points = activity.batches(athlete)
            summary.update(activity.summary())
    except FileDecodeError as exc:
        return ImportResult(str(path), FAILED, str(exc), line=exc.line)
    batches = [*points, *(activity_batch(activity, owner) for owner in owners)]
    result.status, result.points = IMPORTED, store.write(batches)
    result.first_ms = earliest_per_athlete(points)
    return result


def earliest_per_athlete(batches: Iterable[PointBatch]) -> dict[str, int]:
    """Athlete → the earliest timestamp among the batches' points (batches without an athlete tag are left out)."""
    first: dict[str, int] = {}
    for batch in batches:
        athlete = batch.tags.get("athlete")
        if athlete is not None and len(batch):
            t = int(np.min(batch.time_ms))
            first[athlete] = min(t, first.get(athlete, t))
    return first

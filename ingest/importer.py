"""Import activity files into the store: find files, pick a decoder by file type, skip duplicates, write once.

A decoder turns a file's bytes into an `ImportedActivity` (see `ingest.activity`) or raises `FileDecodeError`
with the reason. Each file is decoded completely before anything is written, and then written in one
`Store.write` call whose last batch is the `activity` identity record, so a failed file leaves nothing behind
and an interrupted write is completed by importing the file again. New formats register in `DECODERS`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.activity import SUMMARY_KEYS, FileDecodeError, ImportedActivity, activity_batch, is_imported
from ingest.fit import decode_fit
from ingest.store.base import Store

Decoder = Callable[[bytes], ImportedActivity]

DECODERS: dict[str, Decoder] = {".fit": decode_fit}
"""File suffix (lower case) → decoder. Directories are searched for these suffixes."""

IMPORTED, DUPLICATE, FAILED = "imported", "duplicate", "failed"
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

    def to_json(self) -> dict[str, Any]:
        """One JSON line of `recovery-monitor import --json`."""
        out: dict[str, Any] = {"file": self.file, "status": self.status, "error": self.error}
        out.update({key: self.summary.get(key) for key in SUMMARY_KEYS})
        out["sessions"] = self.summary.get("sessions")
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


def decode_file(path: Path) -> ImportedActivity:
    """Read and decode one file; every failure becomes a `FileDecodeError` with a one-line reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileDecodeError(f"cannot read: {exc.strerror or exc}") from exc
    decoder = DECODERS.get(path.suffix.lower())
    if decoder is None:
        raise FileDecodeError(f"unsupported file type '{path.suffix}' (supported: {supported_suffixes()})")
    try:
        return decoder(data)
    except FileDecodeError:
        raise
    except Exception as exc:  # a decoder bug or an input it did not foresee must not stop the batch
        _log.debug("decoding %s failed", path, exc_info=True)
        text = " ".join(str(exc).split())[:200]
        raise FileDecodeError(f"cannot decode: {type(exc).__name__}: {text}") from exc


def import_file(store: Store, path: Path, athlete: str) -> ImportResult:
    """Decode, check the identity against the store, then write everything in one call (or nothing)."""
    try:
        activity = decode_file(path)
    except FileDecodeError as exc:
        return ImportResult(str(path), FAILED, str(exc))
    summary = activity.summary()
    records = activity.samples
    if is_imported(store, activity, athlete):
        return ImportResult(str(path), DUPLICATE, summary=summary, records=records)
    batches = [*activity.batches(athlete), activity_batch(activity, athlete)]
    points = store.write(batches)
    return ImportResult(str(path), IMPORTED, summary=summary, points=points, records=records)

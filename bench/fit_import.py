"""FIT import throughput: our import (Garmin FIT SDK decode + points + write into a temporary SQLite store)
against a bare `fitdecode` decode of the same files, measured in the same run.

    python bench/fit_import.py [FILE_OR_DIR ...] [--repeat N]

Without paths, the FIT files of ../shared/data/fit that decode cleanly are used. Each side is timed over all
files, best of N runs (a fresh store each run so every file is really written). The last line of the output
is one JSON object: {"files", "records", "ours_records_per_s", "fitdecode_records_per_s", "ratio"} with
ratio = ours / fitdecode (above 1: we are faster).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import fitdecode

from ingest.activity import FileDecodeError
from ingest.importer import IMPORTED, decode_file, find_files, import_file
from ingest.store import open_store

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fit"


def ours(files: list[Path]) -> tuple[float, int]:
    """Seconds to import every file into a new SQLite store, and the record messages imported."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.sqlite")
        try:
            started = time.perf_counter()
            results = [import_file(store, path, "bench") for path in files]
            elapsed = time.perf_counter() - started
        finally:
            store.close()
    if any(r.status != IMPORTED for r in results):
        bad = next(r for r in results if r.status != IMPORTED)
        raise SystemExit(f"{bad.file}: {bad.status} {bad.error or ''}")
    return elapsed, sum(r.records for r in results)


def bare_fitdecode(files: list[Path]) -> tuple[float, int]:
    """Seconds for fitdecode to read every frame of every file (default processor, CRC checked)."""
    records = 0
    started = time.perf_counter()
    for path in files:
        with fitdecode.FitReader(str(path)) as reader:
            for frame in reader:
                if frame.frame_type == fitdecode.FIT_FRAME_DATA and frame.name == "record":
                    records += 1
    return time.perf_counter() - started, records


def usable(paths: list[str]) -> list[Path]:
    """The FIT files among `paths` (folders walked) that our importer decodes without error."""
    files = []
    for path in find_files(paths):
        if isinstance(path, Path):
            try:
                decode_file(path)
            except FileDecodeError as exc:
                print(f"skipped {path.name}: {exc}", file=sys.stderr)
                continue
            files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(DEFAULT_DIR)], metavar="FILE_OR_DIR")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="runs per side, best kept (default 3)")
    args = parser.parse_args(argv)
    files = usable(args.paths)
    if not files:
        raise SystemExit(f"no decodable .fit files in {' '.join(args.paths)}")
    ours_runs = [ours(files) for _ in range(args.repeat)]
    peer_runs = [bare_fitdecode(files) for _ in range(args.repeat)]
    ours_s, records = min(ours_runs)
    peer_s, peer_records = min(peer_runs)
    if peer_records != records:
        print(f"note: fitdecode counted {peer_records} records, we imported {records}", file=sys.stderr)
    for path in files:
        print(f"  {path.name}", file=sys.stderr)
    result = {
        "files": len(files),
        "records": records,
        "ours_records_per_s": round(records / ours_s),
        "fitdecode_records_per_s": round(peer_records / peer_s),
        "ratio": round((records / ours_s) / (peer_records / peer_s), 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

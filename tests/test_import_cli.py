"""`recovery-monitor import`: exactly-once imports on SQLite and a real InfluxDB, one-line errors, exit codes."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from test_fit_import import FAILS, FIT_DIR, IMPORTS, decoded

from ingest import importer
from ingest.store import open_store
from ingest.store.influxql import quote_ident
from monitor.cli.main import main

REPO = Path(__file__).resolve().parents[1]
MEASUREMENTS = ("activity", "session", "hr", "rr", "motion", "run_dynamics", "power", "stride")
SMALL = "fitparse__garmin-fenix-5-run.fit"


def run_import(capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["import", *args, "--json"])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def fit_lines(rows: list[dict]) -> dict[str, dict]:
    return {Path(r["file"]).name: r for r in rows if r["file"].endswith(".fit")}


def reuse_decoded(monkeypatch) -> None:
    """Reuse test_fit_import's decoded activities (decoding is covered there) to keep the store tests fast."""
    real = importer.decode_file
    monkeypatch.setattr(
        importer, "decode_file", lambda p, date=None: decoded(p.name) if p.name in IMPORTS else real(p, date)
    )


def check_folder_twice(capsys, monkeypatch, url: str, counts, *, real_first_run: bool) -> None:
    if not real_first_run:
        reuse_decoded(monkeypatch)
    code, first, err = run_import(capsys, str(FIT_DIR), "--athlete", "A01", "--store", url)
    assert code == 2 and "Traceback" not in err
    rows = fit_lines(first)
    assert {n for n, r in rows.items() if r["status"] == "imported"} == IMPORTS
    assert {n for n, r in rows.items() if r["status"] == "failed"} == set(FAILS)
    before = counts()
    assert before["session"] == 17 and before["activity"] == len(IMPORTS)
    reuse_decoded(monkeypatch)
    code, second, _ = run_import(capsys, str(FIT_DIR), "--athlete", "A01", "--store", url)
    assert code == 2
    assert {n for n, r in fit_lines(second).items() if r["status"] == "duplicate"} == IMPORTS
    assert counts() == before
    for name in IMPORTS:  # the duplicate report still describes the activity
        assert fit_lines(second)[name]["sport"] == rows[name]["sport"]


def test_folder_twice_sqlite(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"

    def counts() -> dict[str, int]:
        store = open_store(url)
        try:
            return {m: store.count(m, "A01") for m in MEASUREMENTS}
        finally:
            store.close()

    check_folder_twice(capsys, monkeypatch, url, counts, real_first_run=True)


@pytest.mark.influx
def test_folder_twice_influxdb(influxd, capsys, monkeypatch):
    database = f"fit_{uuid.uuid4().hex[:10]}"
    url = f"influxdb+{influxd.http_url}/{database}"

    def counts() -> dict[str, int]:
        store = open_store(url)
        try:
            rows = store.query("SELECT count(*) FROM /.*/ GROUP BY *")
            assert rows and rows[0].get("series")
            per_series = {
                (s["name"], json.dumps(s.get("tags"), sort_keys=True)): s["values"][0][1:] for s in rows[0]["series"]
            }
            totals = {m: store.count(m, "A01") for m in MEASUREMENTS}
            return {**totals, "series": per_series}
        finally:
            store.close()

    try:
        check_folder_twice(capsys, monkeypatch, url, counts, real_first_run=False)
    finally:
        with contextlib.suppress(Exception):
            influxd.query(f"DROP DATABASE {quote_ident(database)}")


def test_renamed_copy_is_a_duplicate(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    copy = tmp_path / "renamed.FIT"
    shutil.copyfile(FIT_DIR / SMALL, copy)
    code, rows, _ = run_import(capsys, str(FIT_DIR / SMALL), str(copy), "--athlete", "A01", "--store", url)
    assert code == 0 and [r["status"] for r in rows] == ["imported", "duplicate"]
    code, rows, _ = run_import(capsys, str(copy), "--athlete", "A02", "--store", url)
    assert code == 0 and rows[0]["status"] == "imported"  # another athlete's store space


def test_corrupt_files_fail_with_one_line_each(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    corrupt = [str(FIT_DIR / name) for name in sorted(FAILS)]
    code, rows, err = run_import(capsys, *corrupt, str(FIT_DIR / SMALL), "--athlete", "A01", "--store", url)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 3 and "Traceback" not in err
    for path, line in zip(corrupt, lines):
        assert line == f"recovery-monitor: import: {path}: {FAILS[Path(path).name]}"
    assert [r["status"] for r in rows] == ["failed"] * 3 + ["imported"]
    failed = rows[0]
    assert failed["error"] and all(failed[k] is None for k in failed if k not in ("file", "status", "error"))
    assert rows[3]["gct_symmetry_index_pct"] == 4 * (rows[3]["gct_balance_left_pct"] - 50)
    store = open_store(url)
    try:
        assert store.count("session", "A01") == 1 and store.count("activity", "A01") == 1
    finally:
        store.close()


def test_missing_and_unsupported_paths(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    csv = FIT_DIR / "fitparse__garmin-fenix-5-run-records.csv"
    gpx = tmp_path / "track.gpx"
    gpx.write_text("<gpx/>")
    files = (str(tmp_path / "nope.fit"), str(gpx), str(csv))
    code, rows, err = run_import(capsys, *files, "--athlete", "A01", "--store", url)
    assert code == 2 and [r["status"] for r in rows] == ["failed", "failed", "failed"]
    assert rows[0]["error"] == "no such file or directory"
    assert rows[1]["error"].startswith("unsupported file type '.gpx'")
    assert rows[2]["error"].startswith("unknown CSV layout") and rows[2]["line"] == 1  # records, not a known CSV
    assert len(err.splitlines()) == 3


def test_empty_folder_is_a_usage_error(tmp_path, capsys):
    code = main(["import", str(tmp_path), "--athlete", "A01", "--store", f"sqlite:///{tmp_path / 's.sqlite'}"])
    assert code == 2
    assert "no importable files (.csv, .fit, .txt)" in capsys.readouterr().err


def test_table_output(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    bad = str(FIT_DIR / "fitparse__activity-unexpected-eof.fit")
    assert main(["import", str(FIT_DIR / SMALL), bad, "--athlete", "A01", "--store", url]) == 2
    out = capsys.readouterr().out
    assert "imported" in out and "1 imported, 0 duplicate, 1 failed" in out


def test_subprocess_has_no_traceback(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    corrupt = [str(FIT_DIR / name) for name in sorted(FAILS)]
    command = [sys.executable, "-m", "monitor", "import", *corrupt, str(FIT_DIR / SMALL)]
    result = subprocess.run(
        [*command, "--athlete", "A01", "--store", url, "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 3
    statuses = [json.loads(line)["status"] for line in result.stdout.splitlines()]
    assert statuses == ["failed", "failed", "failed", "imported"]


def test_store_failure_stops_the_batch(tmp_path, capsys, monkeypatch):
    from ingest.store.errors import StoreUnavailable
    from monitor.cli import import_files

    def broken(store, path, athlete):
        raise StoreUnavailable("InfluxDB http://127.0.0.1:1: connection refused")

    monkeypatch.setattr(import_files, "import_file", broken)
    files = [str(FIT_DIR / SMALL), str(FIT_DIR / "runalyze__HRV-example.fit")]
    code, rows, err = run_import(capsys, *files, "--athlete", "A01", "--store", f"sqlite:///{tmp_path / 's.sqlite'}")
    assert code == 2 and [r["status"] for r in rows] == ["failed", "failed"]
    assert rows[0]["error"].startswith("store error: InfluxDB") and "earlier file" in rows[1]["error"]
    assert len(err.splitlines()) == 2

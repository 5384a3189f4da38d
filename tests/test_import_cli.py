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
from influxd import free_port
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


class OutageAfterFirstWrite:
    """A SQLite store until its first write; then an InfluxDB store on a closed port (the server went away)."""

    def __init__(self, live, down):
        self.live, self.down, self.wrote = live, down, False

    def __getattr__(self, name):
        return getattr(self.down if self.wrote else self.live, name)

    def write(self, batches):
        if self.wrote:
            return self.down.write(batches)
        written = self.live.write(batches)
        self.wrote = True
        return written

    def close(self):
        self.live.close()
        self.down.close()


@pytest.mark.parametrize("output", ["--json", "table"])
def test_a_store_outage_is_one_line_and_keeps_what_was_imported(tmp_path, capsys, monkeypatch, output):
    from ingest.store.influx import InfluxStore

    folder = tmp_path / "logs"
    folder.mkdir()
    for day in range(1, 18):
        (folder / f"session-{day:02d}.csv").write_text(f"date,duration_min,rpe\n2024-04-{day:02d},30,5\n")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    port = free_port()
    down = InfluxStore(f"http://127.0.0.1:{port}", "db", max_retries=1, backoff_base_s=0.01)
    # the command imports open_store when it runs (monitor/cli/main.py), so the store package's is the one to replace
    monkeypatch.setattr("ingest.store.open_store", lambda _url: OutageAfterFirstWrite(open_store(url), down))
    args = [str(folder), "--athlete", "A01", "--store", url] + (["--json"] if output == "--json" else [])
    code = main(["import", *args])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert err == (
        f"recovery-monitor: import: store unreachable (InfluxDB at http://127.0.0.1:{port}/ping: connection refused; "
        f"gave up after 2 attempts in {err.split(' attempts in ')[1].split(' s)')[0]} s): 1 imported, 0 duplicate, "
        "16 not imported; run the same command again when the store is back\n"
    )
    if output == "--json":
        statuses = [json.loads(line)["status"] for line in out.splitlines()]
        assert statuses == ["imported"] + ["not imported"] * 16
    else:
        assert out == ""
    store = open_store(url)
    try:
        assert store.count("session", "A01") == 1 and store.count("activity", "A01") == 1  # nothing accepted lost
    finally:
        store.close()
    monkeypatch.undo()
    code, rows, err = run_import(capsys, str(folder), "--athlete", "A01", "--store", url)
    assert (code, err) == (0, "") and [r["status"] for r in rows] == ["duplicate"] + ["imported"] * 16


MIXED = {
    "fit/fitparse__garmin-fenix-5-run.fit": "imported",
    "rr/hrvpublic__ot_a60_RRIntervals.csv": "imported",
    "rr/hrvpublic__ot_a60_Features.csv": "skipped",
    "rr/pyhrv__kubios_series_4_hrv.txt": "skipped",
    "hrv-daily/goldencheetah__2017_7_28_myMeasurements.csv": "imported",
    "pmdata/p01/pmsys/srpe.csv": "imported",
}


def test_a_mixed_folder_imports_in_one_command(tmp_path, capsys):
    """FIT, HRV Logger RR and Features, a 1-hour Kubios recording, an HRV4Training export and a session log."""
    folder = tmp_path / "export"
    folder.mkdir()
    for name in MIXED:  # symlinks: the shared files are never copied
        (folder / name.replace("/", "__")).symlink_to(FIT_DIR.parent / name)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    code, rows, err = run_import(capsys, str(folder), "--athlete", "A01", "--store", url)
    assert (code, err) == (0, "")
    assert {Path(r["file"]).name: r["status"] for r in rows} == {n.replace("/", "__"): s for n, s in MIXED.items()}
    details = {Path(r["file"]).name.split("__")[-1]: r["detail"] for r in rows}
    assert details["ot_a60_Features.csv"] == (
        "HRV Logger features file (the app's per-window values), not imported: import its RR file"
    )
    assert details["kubios_series_4_hrv.txt"].startswith("not a morning reading: 60.0 min")
    code = main(["import", str(folder), "--athlete", "A01", "--store", url])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "") and "skipped" in out and "not a morning reading: 60.0 min" in out

"""Session logs as CSV and PMData's PMSys srpe.csv: values against MANIFEST.md, one-line errors with file:line,
whole-file-or-nothing writes and exactly-once re-imports (SQLite and a real InfluxDB).

Also holds the helpers the RR and HRV-app import tests share (`run_import`, `store_counts`, `DATA`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import uuid
from pathlib import Path

import numpy as np
import pytest
from shared_data import require_shared

from ingest.activity import FileDecodeError
from ingest.importer import decode_file
from ingest.store import open_store
from ingest.store.influxql import quote_ident
from monitor.cli.main import main

DATA = require_shared(module_level=True)
MANIFEST = (DATA / "MANIFEST.md").read_text()
MEASUREMENTS = ("activity", "session", "rr", "readiness")
SRPE_FILES = sorted(DATA.glob("pmdata/p*/pmsys/srpe.csv"))
MANIFEST_SRPE = {
    person: (int(sessions), float(load.replace(",", "")))
    for person, sessions, load in re.findall(
        r"`pmdata/(p\d+)/pmsys/srpe\.csv`[^\n]*?: (\d+) sessions [^\n]*?total sRPE load ([\d,]+) AU", MANIFEST
    )
}
P16_REASON = "no sessions: all 11 rows are empty sessions ({} activity, no RPE or duration)"

FULL_LOG = """\
date,time,athlete,sport,duration_min,rpe,distance_km,avg_hr,gct_balance_left_pct,muscle_load_left,muscle_load_right,\
pedal_balance_left_pct,notes
2024-05-01,07:30,,Running,45,6,9.5,148,52,110,90,,easy
2024-05-01,,A02,cycling,90,4,,,,,,48,
2024-05-02,18:00:30,,strength,40,7,,,,80,,,
"""


def run_import(capsys, *args: str) -> tuple[int, list[dict], str]:
    """`recovery-monitor import ARGS --json`: exit code, the JSON lines, stderr."""
    code = main(["import", *args, "--json"])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def store_counts(url: str, athletes: tuple[str, ...] = ("A01",)) -> dict[tuple[str, str], int]:
    store = open_store(url)
    try:
        return {(m, a): store.count(m, a) for m in MEASUREMENTS for a in athletes}
    finally:
        store.close()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def session_points(activity, athlete: str = "A01") -> dict[str, np.ndarray]:
    """Every `session` field over all batches, NaN where a point lacks it, in time order."""
    batches = [b for b in activity.batches(athlete) if b.measurement == "session"]
    times = np.concatenate([b.time_ms for b in batches])
    order = np.argsort(times, kind="stable")
    names = {n for b in batches for n in b.fields}
    columns = {}
    for name in names:
        parts = [b.fields[name] if name in b.fields else np.full(len(b), None) for b in batches]
        columns[name] = np.concatenate(parts)[order]
    columns["time_ms"] = times[order]
    columns["sport"] = np.concatenate([[b.tags["sport"]] * len(b) for b in batches])[order]
    columns["athlete"] = np.concatenate([[b.tags["athlete"]] * len(b) for b in batches])[order]
    return columns


def test_manifest_lists_every_srpe_file():
    people = {p.parts[-3] for p in SRPE_FILES}
    assert len(SRPE_FILES) == 16 and set(MANIFEST_SRPE) == people - {"p16"}


@pytest.mark.parametrize("path", SRPE_FILES, ids=lambda p: p.parts[-3])
def test_pmsys_srpe_matches_manifest(path):
    person = path.parts[-3]
    if person == "p16":
        with pytest.raises(FileDecodeError) as failure:
            decode_file(path)
        assert str(failure.value) == P16_REASON and failure.value.line is None
        return
    sessions, load = MANIFEST_SRPE[person]
    activity = decode_file(path)
    summary = activity.summary()
    assert (summary["format"], summary["sessions"], summary["skipped"]) == ("pmsys-srpe", sessions, 0)
    assert summary["srpe_load"] == load
    points = session_points(activity)
    assert len(points["time_ms"]) == sessions and points["srpe_load"].astype(float).sum() == load
    assert np.all(np.diff(points["time_ms"]) >= 0)
    rpe, duration = points["rpe"].astype(float), points["duration_s"].astype(float)
    assert np.array_equal(points["srpe_load"].astype(float), rpe * duration / 60)
    assert rpe.min() >= 1 and rpe.max() <= 10


def test_pmsys_session_fields():
    points = session_points(decode_file(DATA / "pmdata/p01/pmsys/srpe.csv"))
    first = {k: v[0] for k, v in points.items()}
    end = dt.datetime(2019, 11, 5, 22, 51, 54, 710000, tzinfo=dt.UTC)
    assert first["time_ms"] == int((end - dt.timedelta(minutes=30)).timestamp() * 1000)  # start = end - duration
    assert (first["sport"], first["activity"], first["rpe"], first["srpe_load"]) == (
        "run",
        "individual, running",
        7,
        210,
    )
    assert set(points["sport"]) == {"run", "soccer", "endurance"}
    mixed = session_points(decode_file(DATA / "pmdata/p04/pmsys/srpe.csv"))
    assert "mixed" in set(mixed["sport"])  # ['individual', 'endurance', 'running']


def test_session_log_fields_and_symmetry_indices(tmp_path):
    activity = decode_file(write(tmp_path / "log.csv", FULL_LOG))
    points = session_points(activity)
    assert activity.summary()["detail"] == "3 sessions, sRPE load 910 AU; ignored columns: notes"
    assert list(points["sport"]) == ["run", "ride", "strength"]
    assert list(points["athlete"]) == ["A01", "A02", "A01"]
    day = dt.datetime(2024, 5, 1, tzinfo=dt.UTC).timestamp() * 1000
    assert list(points["time_ms"]) == [day + 7.5 * 3600e3, day + 12 * 3600e3, day + 24 * 3600e3 + 18 * 3600e3 + 30e3]
    run, ride, strength = ({k: v[i] for k, v in points.items()} for i in range(3))
    assert (run["duration_s"], run["rpe"], run["srpe_load"], run["distance_m"], run["avg_hr_bpm"]) == (
        2700,
        6,
        270,
        9500,
        148,
    )
    assert run["gct_symmetry_index_pct"] == 8  # 4 · (52 − 50): left foot longer on the ground → positive
    assert run["muscle_symmetry_index_pct"] == pytest.approx(20)  # (110 − 90) / 100 · 100: left larger → positive
    assert ride["pedal_symmetry_index_pct"] == -8 and ride["srpe_load"] == 360  # left 48 %: right stronger
    assert strength["muscle_load_left"] == 80 and strength["muscle_symmetry_index_pct"] is None  # one side only
    assert activity.athletes("A01") == ["A01", "A02"] and activity.athletes("A02") == ["A02"]
    for batch in activity.batches("A01"):
        assert batch.tags["source"] == "csv"
        assert all(np.isfinite(c).all() for c in batch.fields.values() if c.dtype.kind == "f")


def test_session_log_with_athlete_column_twice(tmp_path, capsys):
    url, log = sqlite_url(tmp_path), write(tmp_path / "log.csv", FULL_LOG)
    code, rows, err = run_import(capsys, str(log), "--athlete", "A01", "--store", url)
    assert (code, err, rows[0]["status"], rows[0]["athletes"]) == (0, "", "imported", ["A01", "A02"])
    counts = store_counts(url, ("A01", "A02"))
    assert counts[("session", "A01")] == 2 and counts[("session", "A02")] == 1
    assert counts[("activity", "A01")] == counts[("activity", "A02")] == 1
    code, rows, _ = run_import(capsys, str(log), "--athlete", "A01", "--store", url)
    assert code == 0 and rows[0]["status"] == "duplicate" and store_counts(url, ("A01", "A02")) == counts


def test_same_rows_renamed_with_crlf_are_a_duplicate(tmp_path, capsys):
    url = sqlite_url(tmp_path)
    log = write(tmp_path / "log.csv", FULL_LOG)
    other = tmp_path / "export.CSV"
    other.write_bytes(b"\xef\xbb\xbf" + FULL_LOG.replace("\n", "\r\n").replace(",45,6,", ",45.0,6.0,").encode())
    code, rows, _ = run_import(capsys, str(log), str(other), "--athlete", "A01", "--store", url)
    assert code == 0 and [r["status"] for r in rows] == ["imported", "duplicate"]
    code, rows, _ = run_import(capsys, str(other), "--athlete", "A03", "--store", url)
    assert rows[0]["status"] == "imported"  # the identity includes the athlete


GOOD_HEADER = "date,duration_min,rpe\n"
BAD_FILES = {
    "non-numeric": (GOOD_HEADER + "2024-05-01,60,5\n2024-05-02,60,hard\n", 3, "rpe: not a number: 'hard'"),
    "missing-column": (
        "date,duration_min,sport\n2024-05-01,60,run\n",
        1,
        "missing required column(s) rpe: a session log needs date, duration_min, rpe",
    ),
    "unknown-layout": ("when,what\n2024-05-01,run\n", 1, "unknown CSV layout 'when,what': not one of session-log"),
    "bad-date": (GOOD_HEADER + "01/05/2024,60,5\n", 2, "date: '01/05/2024' is not a YYYY-MM-DD date"),
    "rpe-range": (GOOD_HEADER + "2024-05-01,60,11\n", 2, "rpe: 11 is outside [0, 10]"),
    "zero-duration": (GOOD_HEADER + "2024-05-01,0,5\n", 2, "duration_min: 0 is outside (0, 1440]"),
    "empty-rpe": (GOOD_HEADER + "2024-05-01,60,\n", 2, "rpe: missing value"),
    "same-start": (
        GOOD_HEADER + "2024-05-01,60,5\n\n2024-05-01,30,3\n",
        4,
        "same athlete, sport and start (2024-05-01T12:00:00Z) as line 2: the store would keep only one; add a "
        "`time` column to tell the sessions apart",
    ),
    "extra-field": (GOOD_HEADER + "2024-05-01,60,5,x\n", 2, "4 fields but the header has 3 columns"),
    "header-only": (GOOD_HEADER, 1, "no sessions: a header but no rows"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_one_line_and_writes_nothing(tmp_path, capsys, case):
    url = sqlite_url(tmp_path)
    good = write(tmp_path / "good.csv", GOOD_HEADER + "2024-04-01,60,5\n")
    assert run_import(capsys, str(good), "--athlete", "A01", "--store", url)[0] == 0
    before = store_counts(url)
    text, line, reason = BAD_FILES[case]
    bad = write(tmp_path / f"{case}.csv", text)
    code, rows, err = run_import(capsys, str(bad), "--athlete", "A01", "--store", url)
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"recovery-monitor: import: {bad}:{line}: {reason}")
    assert rows[0]["status"] == "failed" and rows[0]["line"] == line
    assert store_counts(url) == before


def test_bad_date_option_is_a_usage_error(tmp_path, capsys):
    log = write(tmp_path / "log.csv", FULL_LOG)
    assert main(["import", str(log), "--athlete", "A01", "--date", "2024-13-01", "--store", sqlite_url(tmp_path)]) == 2
    assert "--date '2024-13-01' is not a YYYY-MM-DD date" in capsys.readouterr().err


def test_every_srpe_file_twice_sqlite(tmp_path, capsys):
    url = sqlite_url(tmp_path)
    people = tuple(p.parts[-3] for p in SRPE_FILES)
    runs = []
    for _ in range(2):
        statuses = {}
        for path, person in zip(SRPE_FILES, people, strict=True):
            code, rows, err = run_import(capsys, str(path), "--athlete", person, "--store", url)
            statuses[person] = rows[0]["status"]
            assert code == (2 if person == "p16" else 0)
            if person == "p16":
                assert err == f"recovery-monitor: import: {path}: {P16_REASON}\n"
        runs.append((statuses, store_counts(url, people)))
    (first, counts), (second, again) = runs
    assert first == {p: "failed" if p == "p16" else "imported" for p in people}
    assert second == {p: "failed" if p == "p16" else "duplicate" for p in people}
    assert again == counts
    store = open_store(url)
    try:
        for person, (sessions, load) in MANIFEST_SRPE.items():
            assert counts[("session", person)] == sessions and counts[("activity", person)] == 1
            frame = store.read("session", person, ["srpe_load"], tags={"source": "csv"})
            assert frame.columns["srpe_load"].sum() == load
        assert counts[("session", "p16")] == counts[("activity", "p16")] == 0
    finally:
        store.close()


@pytest.mark.influx
def test_every_kind_twice_influxdb(influxd, tmp_path, capsys):
    """A session log, an RR reading and an HRV app export, imported twice into a real InfluxDB."""
    database = f"imports_{uuid.uuid4().hex[:10]}"
    url = f"influxdb+{influxd.http_url}/{database}"
    files = [
        write(tmp_path / "log.csv", FULL_LOG),
        DATA / "pmdata/p03/pmsys/srpe.csv",
        DATA / "rr/pyhrv__nsrdb_series_1.txt",
        DATA / "hrv-daily/goldencheetah__ElitHRV_Export_-_2017-10-02.csv",
    ]

    def series() -> dict:
        store = open_store(url)
        try:
            rows = store.query("SELECT count(*) FROM /.*/ GROUP BY *")
            return {
                (s["name"], json.dumps(s.get("tags"), sort_keys=True)): s["values"][0][1:] for s in rows[0]["series"]
            }
        finally:
            store.close()

    try:
        args = [*map(str, files), "--athlete", "A01", "--date", "2024-05-03", "--store", url]
        code, rows, _ = run_import(capsys, *args)
        assert code == 0 and [r["status"] for r in rows] == ["imported"] * 4
        counts, before = store_counts(url, ("A01", "A02")), series()
        assert counts[("session", "A01")] == 2 + 2 and counts[("session", "A02")] == 1
        # 23 Elite HRV mornings, plus the RR file's own morning reading, stored at import
        assert counts[("rr", "A01")] == 337 and counts[("readiness", "A01")] == 23 + 1
        assert counts[("activity", "A01")] == 4 and counts[("activity", "A02")] == 1
        code, rows, _ = run_import(capsys, *args)
        assert code == 0 and [r["status"] for r in rows] == ["duplicate"] * 4
        assert store_counts(url, ("A01", "A02")) == counts and series() == before
    finally:
        with contextlib.suppress(Exception):
            influxd.query(f"DROP DATABASE {quote_ident(database)}")

"""Session RPE after the fact: `recovery-monitor rpe` and session-log rows attaching to the recorded session, each
session counted once in the sRPE load (SQLite, and a real InfluxDB where the store's merge matters).

References: the real FIT files' published session figures (MANIFEST.md: FR920XT run 2018-01-28 01:39:07 UTC,
1,271.284 s; the triathlon's five sessions on 2018-05-27) and hand-computed sRPE = RPE × minutes.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from shared_data import require_shared

from ingest.importer import DUPLICATE, FAILED, IMPORTED, import_file
from ingest.session_match import SAME_SESSION_TOLERANCE_MS
from ingest.store import open_store
from ingest.store.base import PointBatch, Store
from ingest.timeline import DAY_MS, day_start_ms
from monitor.analyze import READINESS_FIELDS, SESSION_FIELDS, build_inputs
from monitor.cli.main import main

FIT = require_shared("fit", module_level=True)
RUN = FIT / "runalyze__FR920xt-with-runscribe-plus.fit"  # one run, 2018-01-28 01:39:07 UTC, 1,271.284 s
TRIATHLON = FIT / "fitparse__sample_mulitple_header.fit"  # five sessions on 2018-05-27
RUN_DAY = dt.date(2018, 1, 28)
RUN_START_MS = 1_517_103_547_000
RUN_S = 1271.284
RIDE_START_MS = 1_527_408_538_000  # 08:08:58 UTC
RIDE_S = 4422.14
FIELDS = ["duration_s", "rpe", "srpe_load", "avg_hr_bpm", "muscle_load_left", "muscle_symmetry_index_pct"]
A = "A01"


@pytest.fixture
def store(each_store: Store) -> Store:
    """An empty store on each backend."""
    return each_store


@pytest.fixture
def sqlite_store(tmp_path) -> Store:
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    yield store
    store.close()


def rpe(capsys, store: Store, *args: str) -> tuple[int, str, str]:
    """`recovery-monitor rpe ARGS --store URL`: exit code, stdout, stderr."""
    code = main(["rpe", *args, "--store", store.url])
    out, err = capsys.readouterr()
    return code, out, err


def sessions_on(store: Store, day: dt.date, athlete: str = A) -> dict[str, np.ndarray]:
    frame = store.read("session", athlete, FIELDS, day_start_ms(day), day_start_ms(day) + DAY_MS, with_tags=["source"])
    return {"time_ms": np.asarray(frame.time_ms), **frame.columns}


def day_load(store: Store, day: dt.date, athlete: str = A) -> float:
    """The analysis's daily load of that day (`monitor.analyze.build_inputs`, the sRPE path)."""
    start, end = day_start_ms(day), day_start_ms(day) + DAY_MS
    sessions = store.read_many("session", SESSION_FIELDS, [athlete], start, end)
    readiness = store.read_many("readiness", READINESS_FIELDS, [athlete], start, end)
    inputs = build_inputs([athlete], day, 1, sessions, readiness)
    assert inputs.load_source == ["srpe"]
    return float(inputs.load[0, 0])


def fit_like(store: Store, start_ms: int, duration_s: float = 3600.0, source: str = "fit") -> None:
    """A recorded session point as the FIT importer writes it (tags athlete/source/sport, at its start)."""
    fields = {"duration_s": np.array([duration_s]), "avg_hr_bpm": np.array([150.0])}
    store.write([PointBatch("session", {"athlete": A, "source": source, "sport": "run"}, np.array([start_ms]), fields)])


def one_error_line(code: int, out: str, err: str) -> str:
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("recovery-monitor: error: ")
    return lines[0]


# --- recovery-monitor rpe ------------------------------------------------------------------------------------------


def test_rpe_attaches_to_the_fit_session_of_the_day(store, capsys):
    assert import_file(store, RUN, A).status == IMPORTED
    code, out, err = rpe(capsys, store, A, "--date", "2018-01-28", "--rpe", "6")
    assert (code, err) == (0, "")
    assert out == "A01: RPE 6 × 21.2 min = sRPE load 127 AU → fit session, run, 2018-01-28 01:39 UTC\n"
    s = sessions_on(store, RUN_DAY)
    assert s["time_ms"].tolist() == [RUN_START_MS] and s["source"].tolist() == ["fit"]
    assert s["rpe"][0] == 6 and s["srpe_load"][0] == pytest.approx(127.1284, abs=1e-9)  # 6 × 1271.284 / 60
    assert s["duration_s"][0] == RUN_S and s["avg_hr_bpm"][0] == 169  # the watch's own values stay
    # the same command again: the same point overwritten, nothing added
    code, out, _ = rpe(capsys, store, A, "--date", "2018-01-28", "--rpe", "6", "--json")
    report = json.loads(out)
    assert code == 0 and (report["start"], report["source"], report["sport"]) == ("2018-01-28T01:39:07Z", "fit", "run")
    assert (report["created"], report["rpe"], report["duration_min"]) == (False, 6.0, pytest.approx(RUN_S / 60))
    assert report["srpe_load"] == report["previous"]["srpe_load"] == pytest.approx(127.1284)
    assert store.count("session", A) == 1 and day_load(store, RUN_DAY) == pytest.approx(127.1284)


def test_rpe_duration_min_overrides_the_load_minutes_not_the_session(sqlite_store, capsys):
    import_file(sqlite_store, RUN, A)
    code, out, _ = rpe(capsys, sqlite_store, A, "--date", "2018-01-28", "--rpe", "5", "--duration-min", "18")
    assert code == 0 and "RPE 5 × 18.0 min = sRPE load 90 AU" in out
    s = sessions_on(sqlite_store, RUN_DAY)
    assert (s["srpe_load"][0], s["duration_s"][0], sqlite_store.count("session", A)) == (90.0, RUN_S, 1)


def test_rpe_picks_the_session_nearest_to_time_and_refuses_to_guess(sqlite_store, capsys):
    import_file(sqlite_store, TRIATHLON, A)
    day = dt.date(2018, 5, 27)
    code, out, err = rpe(capsys, sqlite_store, A, "--date", "2018-05-27", "--rpe", "7")
    line = one_error_line(code, out, err)
    assert line.endswith(
        "5 sessions on 2018-05-27, starting 07:33 (fit swim), 08:06 (fit transition), 08:08 (fit ride), "
        "09:22 (fit transition), 09:23 (fit run) UTC: pick one with --time"
    )
    assert np.isnan(sessions_on(sqlite_store, day)["rpe"]).all()
    code, out, _ = rpe(capsys, sqlite_store, A, "--date", "2018-05-27", "--time", "08:10", "--rpe", "7")
    s = sessions_on(sqlite_store, day)
    with_rpe = np.isfinite(s["rpe"])
    assert code == 0 and s["time_ms"][with_rpe].tolist() == [RIDE_START_MS]
    assert s["srpe_load"][with_rpe][0] == pytest.approx(7 * RIDE_S / 60)  # 515.916 AU
    assert sqlite_store.count("session", A) == 5


def test_rpe_time_tolerance_boundary(sqlite_store, capsys):
    start = day_start_ms(dt.date(2024, 3, 4)) + 10 * 3_600_000  # 10:00:00 UTC
    fit_like(sqlite_store, start)
    assert SAME_SESSION_TOLERANCE_MS == 30 * 60_000
    code, out, err = rpe(capsys, sqlite_store, A, "--date", "2024-03-04", "--time", "10:31", "--rpe", "4")
    assert one_error_line(code, out, err).endswith(
        "no session within 30 min of 2024-03-04 10:31 UTC (sessions that day start 10:00 (fit run)): pick one of "
        "these with --time, or pass --duration-min to record a new one"
    )
    code, _, _ = rpe(capsys, sqlite_store, A, "--date", "2024-03-04", "--time", "10:30", "--rpe", "4")  # exactly 30 min
    s = sessions_on(sqlite_store, dt.date(2024, 3, 4))
    assert code == 0 and s["srpe_load"].tolist() == [240.0]  # 4 × 60 min


def test_rpe_creates_a_session_only_with_duration(sqlite_store, capsys):
    import_file(sqlite_store, RUN, A)
    day = dt.date(2018, 1, 29)
    before = sqlite_store.count("session", A)
    code, out, err = rpe(capsys, sqlite_store, A, "--date", "2018-01-29", "--rpe", "5")
    assert one_error_line(code, out, err).endswith(
        "no session for A01 on 2018-01-29: pass --duration-min to record one"
    )
    assert sqlite_store.count("session", A) == before
    args = ["--date", "2018-01-29", "--rpe", "5", "--duration-min", "45", "--sport", "Gym"]
    code, out, _ = rpe(capsys, sqlite_store, A, *args)
    assert code == 0 and out.endswith("→ new session (source rpe), strength, 2018-01-29 12:00 UTC\n")
    s = sessions_on(sqlite_store, day)
    assert s["time_ms"].tolist() == [day_start_ms(day) + 12 * 3_600_000] and s["source"].tolist() == ["rpe"]
    assert (s["rpe"][0], s["duration_s"][0], s["srpe_load"][0]) == (5.0, 2700.0, 225.0)  # 5 × 45
    code, out, _ = rpe(capsys, sqlite_store, A, *args)  # again: the created session is found, nothing added
    assert code == 0 and "→ rpe session" in out and sqlite_store.count("session", A) == before + 1


def test_rpe_unknown_athlete_needs_duration(sqlite_store, capsys):
    import_file(sqlite_store, RUN, A)
    code, out, err = rpe(capsys, sqlite_store, "A0l", "--date", "2018-01-28", "--rpe", "5")
    assert "no data for athlete 'A0l' in the store" in one_error_line(code, out, err)
    assert sqlite_store.list_athletes() == [A]
    code, _, _ = rpe(capsys, sqlite_store, "B02", "--date", "2018-01-28", "--rpe", "5", "--duration-min", "30")
    assert code == 0 and sqlite_store.count("session", "B02") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rpe", "11"], "--rpe 11 is outside [0, 10]"),
        (["--rpe", "-0.5"], "--rpe -0.5 is outside [0, 10]"),
        (["--rpe", "nan"], "--rpe 'nan': expected a number"),
        (["--rpe", "5", "--duration-min", "-20"], "--duration-min -20 is outside (0, 1440]"),
        (["--rpe", "5", "--duration-min", "0"], "--duration-min 0 is outside (0, 1440]"),
        (["--rpe", "5", "--time", "25:00"], "--time '25:00': expected a time of day as HH:MM (UTC)"),
        (["--rpe", "5", "--time", "7h"], "--time '7h': expected a time of day as HH:MM (UTC)"),
    ],
)
def test_rpe_bad_input_is_one_line_and_writes_nothing(sqlite_store, capsys, args, message):
    import_file(sqlite_store, RUN, A)
    assert rpe(capsys, sqlite_store, A, "--date", "2018-01-28", "--rpe", "6")[0] == 0
    before = sqlite_store.count("session", A), sessions_on(sqlite_store, RUN_DAY)["srpe_load"].tolist()
    code, out, err = rpe(capsys, sqlite_store, A, "--date", "2018-01-28", *args)
    assert one_error_line(code, out, err) == f"recovery-monitor: error: {message}"
    assert (sqlite_store.count("session", A), sessions_on(sqlite_store, RUN_DAY)["srpe_load"].tolist()) == before


def test_rpe_boundaries_and_dates(sqlite_store, capsys):
    today = dt.datetime.now(dt.UTC).date()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    code, out, err = rpe(capsys, sqlite_store, A, "--date", tomorrow, "--rpe", "5", "--duration-min", "30")
    assert f"--date {tomorrow} is in the future (today is {today.isoformat()} UTC)" in one_error_line(code, out, err)
    code, out, err = rpe(capsys, sqlite_store, A, "--date", "2024-02-30", "--rpe", "5", "--duration-min", "30")
    assert one_error_line(code, out, err).endswith("--date '2024-02-30': expected a date as YYYY-MM-DD")
    assert sqlite_store.count("session", A) == 0
    # RPE 0 and 10 and 1,440 minutes are inside the ranges; today is allowed
    for value, day in (("0", "2024-01-01"), ("10", "2024-01-02")):
        code, _, _ = rpe(capsys, sqlite_store, A, "--date", day, "--rpe", value, "--duration-min", "1440")
        assert code == 0
    code, _, _ = rpe(capsys, sqlite_store, A, "--date", today.isoformat(), "--time", "00:00", "--rpe", "3",
                     "--duration-min", "10")  # fmt: skip
    assert code == 0 and sqlite_store.count("session", A) == 3
    assert sessions_on(sqlite_store, dt.date(2024, 1, 2))["srpe_load"].tolist() == [14400.0]  # 10 × 1,440


def test_rpe_keeps_a_different_rpe_unless_replace(sqlite_store, capsys):
    import_file(sqlite_store, RUN, A)
    rpe(capsys, sqlite_store, A, "--date", "2018-01-28", "--rpe", "6")
    code, out, err = rpe(capsys, sqlite_store, A, "--date", "2018-01-28", "--rpe", "7")
    assert one_error_line(code, out, err).endswith(
        "the session at 01:39 already has RPE 6 (sRPE load 127 AU): pass --replace to change it"
    )
    assert sessions_on(sqlite_store, RUN_DAY)["rpe"].tolist() == [6.0]
    code, out, _ = rpe(capsys, sqlite_store, A, "--date", "2018-01-28", "--rpe", "7", "--replace")
    assert code == 0 and out.rstrip().endswith("(was RPE 6)")
    s = sessions_on(sqlite_store, RUN_DAY)
    assert s["rpe"].tolist() == [7.0] and s["srpe_load"][0] == pytest.approx(7 * RUN_S / 60)


# --- session logs with a time --------------------------------------------------------------------------------------

LOG = """\
date,time,sport,duration_min,rpe,avg_hr,muscle_load_left,muscle_load_right
2018-01-28,01:45,run,20,6,150,10,12
2018-01-28,18:00,gym,45,5,,,
"""


def test_log_row_with_time_attaches_to_the_fit_session(store, tmp_path):
    log = tmp_path / "log.csv"
    log.write_text(LOG)
    assert import_file(store, RUN, A).status == IMPORTED
    result = import_file(store, log, A)
    assert result.status == IMPORTED and result.summary["detail"].endswith("; 1 attached to recorded sessions")
    s = sessions_on(store, RUN_DAY)
    assert s["time_ms"].tolist() == [RUN_START_MS, day_start_ms(RUN_DAY) + 18 * 3_600_000]
    assert s["source"].tolist() == ["fit", "csv"]
    assert s["rpe"].tolist() == [6.0, 5.0] and s["srpe_load"].tolist() == [120.0, 225.0]  # 6 × 20, 5 × 45
    assert s["duration_s"].tolist() == [RUN_S, 2700.0] and s["avg_hr_bpm"][0] == 169  # the watch's values stay
    assert s["muscle_load_left"][0] == 10 and s["muscle_symmetry_index_pct"][0] == pytest.approx(-200 / 11)
    assert import_file(store, log, A).status == DUPLICATE
    assert store.count("session", A) == 2 and day_load(store, RUN_DAY) == 345.0  # 120 + 225, each once


def test_log_before_watch_file_counts_the_session_once(store, tmp_path, capsys):
    log = tmp_path / "log.csv"
    log.write_text(LOG)
    assert import_file(store, log, A).status == IMPORTED
    assert import_file(store, RUN, A).status == IMPORTED
    s = sessions_on(store, RUN_DAY)
    assert s["source"].tolist() == ["fit", "csv", "csv"] and np.isnan(s["rpe"][0])
    assert day_load(store, RUN_DAY) == 345.0  # the run's 120 from its csv session, not twice
    # rpe without --time: the fit run and its csv entry are one session; its RPE stays on the csv point
    code, out, err = rpe(capsys, store, A, "--date", "2018-01-28", "--rpe", "6")
    assert one_error_line(code, out, err).endswith(
        "2 sessions on 2018-01-28, starting 01:45 (csv run), 18:00 (csv strength) UTC: pick one with --time"
    )
    code, out, _ = rpe(capsys, store, A, "--date", "2018-01-28", "--time", "01:39", "--rpe", "7", "--replace")
    assert code == 0 and "→ csv session, run, 2018-01-28 01:45 UTC (was RPE 6)" in out
    s = sessions_on(store, RUN_DAY)
    assert np.isnan(s["rpe"][0]) and s["rpe"][1:].tolist() == [7.0, 5.0]
    assert day_load(store, RUN_DAY) == 365.0  # 7 × 20 + 5 × 45


def test_log_row_tolerance_boundary_and_nearest_row(sqlite_store, tmp_path):
    hour = 3_600_000
    start = day_start_ms(dt.date(2024, 3, 4)) + 10 * hour  # recorded sessions at 10:00, 15:00 and 20:00 UTC
    for offset in (0, 5 * hour, 10 * hour):
        fit_like(sqlite_store, start + offset)
    log = tmp_path / "log.csv"
    log.write_text(
        "date,time,sport,duration_min,rpe\n"
        "2024-03-04,10:30:00,run,50,5\n"  # exactly 30 min after 10:00: attaches
        "2024-03-04,15:30:01,run,40,4\n"  # 30 min 1 s after 15:00: a session of its own
        "2024-03-04,19:40,run,30,3\n"  # 20 min before 20:00 ...
        "2024-03-04,20:10,run,60,2\n"  # ... and 10 min after: the nearer row attaches, the other stays its own
    )
    result = import_file(sqlite_store, log, A)
    assert result.status == IMPORTED and result.summary["detail"].endswith("; 2 attached to recorded sessions")
    s = sessions_on(sqlite_store, dt.date(2024, 3, 4))
    by_time = {t: (src, load) for t, src, load in zip(s["time_ms"].tolist(), s["source"], s["srpe_load"].tolist())}
    assert by_time[start] == ("fit", 250.0)  # 5 × 50
    assert by_time[start + 5 * hour + 30 * 60_000 + 1000] == ("csv", 160.0) and np.isnan(by_time[start + 5 * hour][1])
    assert by_time[start + 10 * hour] == ("fit", 120.0)  # 2 × 60
    assert by_time[start + 10 * hour - 20 * 60_000] == ("csv", 90.0)  # 3 × 30
    assert len(by_time) == 5


def test_log_contradicting_a_stored_rpe_fails_whole(sqlite_store, tmp_path, capsys):
    import_file(sqlite_store, RUN, A)
    rpe(capsys, sqlite_store, A, "--date", "2018-01-28", "--rpe", "7", "--duration-min", "20")
    log = tmp_path / "log.csv"
    log.write_text(LOG)
    before = {m: sqlite_store.count(m, A) for m in ("session", "activity")}
    result = import_file(sqlite_store, log, A)
    assert (result.status, result.line) == (FAILED, 2)
    assert result.error == (
        "the fit session at 2018-01-28T01:39:07Z already has RPE 7 and sRPE load (AU) 140, this row says RPE 6 and "
        "sRPE load (AU) 120: fix the row, or change the stored one with `recovery-monitor rpe --replace`"
    )
    assert {m: sqlite_store.count(m, A) for m in ("session", "activity")} == before
    # the same RPE and minutes already stored: the row attaches (nothing changes, nothing added)
    rpe(capsys, sqlite_store, A, "--date", "2018-01-28", "--rpe", "6", "--duration-min", "20", "--replace")
    assert import_file(sqlite_store, log, A).status == IMPORTED
    assert sqlite_store.count("session", A) == 2 and day_load(sqlite_store, RUN_DAY) == 345.0


def test_log_row_attaches_to_a_session_made_by_rpe(sqlite_store, tmp_path, capsys):
    rpe(capsys, sqlite_store, A, "--date", "2018-01-28", "--time", "01:40", "--rpe", "6", "--duration-min", "20")
    log = tmp_path / "log.csv"
    log.write_text(LOG)
    assert import_file(sqlite_store, log, A).status == IMPORTED
    s = sessions_on(sqlite_store, RUN_DAY)
    assert s["source"].tolist() == ["rpe", "csv"] and day_load(sqlite_store, RUN_DAY) == 345.0


def test_log_rows_without_time_stay_their_own_sessions(sqlite_store, tmp_path):
    import_file(sqlite_store, RUN, A)
    log = tmp_path / "log.csv"
    log.write_text("date,sport,duration_min,rpe\n2018-01-28,run,20,6\n")
    assert import_file(sqlite_store, log, A).status == IMPORTED
    assert sessions_on(sqlite_store, RUN_DAY)["source"].tolist() == ["fit", "csv"]


def test_cli_import_reports_the_attachment(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    log = tmp_path / "log.csv"
    log.write_text(LOG)
    assert main(["import", "--athlete", A, "--store", url, "--json", str(RUN), str(log)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[1]["detail"] == "2 sessions, sRPE load 345 AU; 1 attached to recorded sessions"

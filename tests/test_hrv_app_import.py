"""Daily HRV app exports (HRV4Training iOS/Android, Elite HRV) → `readiness` points: counts and means against
MANIFEST.md, the export quirks (line endings, BOM, `-`, yyyy-dd-mm, ragged rows), verdicts, errors, re-imports."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest
from test_csv_import import DATA, run_import, sqlite_url, store_counts, write

from ingest.activity import FileDecodeError
from ingest.importer import decode_file
from ingest.imports.hrv_apps import day_first_order, parse_timestamp, verdict

HRV_DIR = DATA / "hrv-daily"
EXPORTS = {  # MANIFEST.md: rows, readings, mean rMSSD (ms), first and last day with a reading
    "goldencheetah__2017_7_28_myMeasurements.csv": (119, 119, 54.5, "2017-04-01", "2017-07-28"),
    "goldencheetah__2018_7_8_myMeasurements.csv": (73, 42, None, "2018-04-27", "2018-07-08"),
    "goldencheetah__ElitHRV_Export_-_2017-10-02.csv": (23, 23, None, "2017-09-06", "2017-10-02"),
    "goldencheetah__MyMeasurements_Android.csv": (56, 36, 62.2, "2017-08-09", "2017-10-03"),
    "goldencheetah__MyMeasurements_Android_1.csv": (69, 68, 91.1, "2017-07-27", "2017-10-03"),
    "goldencheetah__MyMeasurements_Android_2.csv": (78, 52, 37.4, "2017-07-19", "2017-10-04"),
}
DAY_MS = 86_400_000


def readiness(activity) -> dict[str, np.ndarray]:
    """The `readiness` columns over all batches (None/NaN where a point lacks a field), in time order."""
    batches = activity.batches("A01")
    assert {b.measurement for b in batches} == {"readiness"}
    times = np.concatenate([b.time_ms for b in batches])
    order = np.argsort(times)
    names = {n for b in batches for n in b.fields}
    out = {"time_ms": times[order], "source": np.concatenate([[b.tags["source"]] * len(b) for b in batches])}
    for name in names:
        out[name] = np.concatenate([b.fields.get(name, np.full(len(b), None)) for b in batches])[order]
    return out


def day(time_ms: int) -> str:
    return dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC).date().isoformat()


def test_every_export_has_an_expectation():
    assert {p.name for p in HRV_DIR.iterdir()} == set(EXPORTS)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_exports_match_manifest(name):
    rows, readings, mean_rmssd, first, last = EXPORTS[name]
    activity = decode_file(HRV_DIR / name)
    summary = activity.summary()
    points = readiness(activity)
    assert (activity.samples, summary["readings"], summary["skipped"]) == (rows, readings, rows - readings)
    assert len(points["time_ms"]) == readings
    rmssd = points["rmssd_ms"].astype(float)
    if mean_rmssd is not None:
        assert rmssd.mean() == pytest.approx(mean_rmssd, abs=0.05)
    assert np.allclose(points["ln_rmssd"].astype(float), np.log(rmssd))
    assert first <= day(points["time_ms"][0]) and day(points["time_ms"][-1]) == last
    assert len(np.unique(points["time_ms"] // DAY_MS)) == readings  # one point per day
    hr = points["mean_hr_bpm"].astype(float)
    assert np.all((hr > 30) & (hr < 90))
    app = "elitehrv" if "ElitHRV" in name else "hrv4training"
    assert set(points["source"]) == {app} and summary["format"] == app


def test_elite_hrv_values_and_verdicts():
    points = readiness(decode_file(HRV_DIR / "goldencheetah__ElitHRV_Export_-_2017-10-02.csv"))
    assert points["ln_rmssd"].astype(float).mean() == pytest.approx(3.62, abs=0.005)
    assert Counter(points["app_verdict"]) == {"green": 17, "red": 3, "yellow": 2, None: 1}
    assert points["app_score"][1] == 6 and points["app_score"][0] is None  # the first day has no score yet
    assert (
        day(points["time_ms"][0]) == "2017-09-06" and points["time_ms"][0] % DAY_MS == (6 * 3600 + 23 * 60 + 22) * 1000
    )
    everything = {str(v) for column in points.values() for v in column}
    assert "Martin" not in everything  # the Member column (a name) is never read


def test_hrv4training_ios_verdicts_and_am_pm_times():
    points = readiness(decode_file(HRV_DIR / "goldencheetah__2018_7_8_myMeasurements.csv"))
    assert Counter(points["app_verdict"]) == {"normal": 26, "below normal": 7, None: 9}
    assert points["app_message"][-1].startswith("Tu HRV está por debajo de tus valores normales")
    assert points["app_verdict"][-1] == "below normal"
    assert (
        day(points["time_ms"][-1]) == "2018-07-08" and points["time_ms"][-1] % DAY_MS == (9 * 3600 + 2 * 60 + 47) * 1000
    )
    assert points["app_score"][-1] == 6.84 and points["mean_rr_ms"][-1] == 871.94


def test_android_dates_are_year_day_month():
    points = readiness(decode_file(HRV_DIR / "goldencheetah__MyMeasurements_Android_1.csv"))  # 2017-27-07,07:39
    assert points["time_ms"][0] == int(dt.datetime(2017, 7, 27, 7, 39, tzinfo=dt.UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    "variant",
    [
        lambda b: b.replace(b"\n", b"\r"),
        lambda b: b.replace(b"\n", b"\r\n"),
        lambda b: b"\xef\xbb\xbf" + b,
        lambda b: b.replace(b"+0000", b"+00:00"),
    ],
    ids=["cr", "crlf", "bom", "offset-colon"],
)
def test_line_endings_and_bom_give_the_same_identity(tmp_path, variant):
    original = HRV_DIR / "goldencheetah__2017_7_28_myMeasurements.csv"
    copy = tmp_path / "export.csv"
    copy.write_bytes(variant(original.read_bytes()))
    assert decode_file(copy).activity_id == decode_file(original).activity_id


def test_pure_parsers():
    assert parse_timestamp("2018-04-27 12:01:00 a. m. +0000", "t", 1) == parse_timestamp("2018-04-27 00:01", "t", 1)
    assert parse_timestamp("2018-04-27 12:30 PM", "t", 1) == parse_timestamp("2018-04-27 12:30", "t", 1)
    assert parse_timestamp("2018-04-27 08:00 +0200", "t", 1) == parse_timestamp("2018-04-27 06:00", "t", 1)
    assert parse_timestamp("2017-27-07 07:39", "t", 1, day_first=True) == parse_timestamp("2017-07-27 07:39", "t", 1)
    assert day_first_order(["2017-09-08", "2017-27-07"], 1) is True
    assert day_first_order(["2017-09-08", "2017-07-27"], 1) is False
    assert day_first_order(["2017-09-08"], 1) is True  # ambiguous: the Android export's order
    with pytest.raises(FileDecodeError, match="some dates are yyyy-dd-mm and others yyyy-mm-dd"):
        day_first_order(["2017-27-07", "2017-07-27"], 1)
    assert verdict("Your HRV is below your normal values") == "below normal"
    assert verdict("Tu HRV está en valores normales  pero ...") == "normal"
    assert verdict("Rest day") is None


ANDROID_HEADER = "date, time, HR,AVNN,SDNN,rMSSD,pNN50,LF,HF,HRV4T_Recovery_Points,training\n\n"
ELITE_HEADER = "\ufeffMember,Date,Datetime,Type,HRV,lnRmssd,Rmssd,Sdnn,Score,Indication,HR\r\n"
ANDROID_ROW = "2017-27-07,07:39,45.7,1312,78,84,56,0.05,0.09,8.6,easy\n"
BAD = {
    "rmssd.csv": (
        ANDROID_HEADER + ANDROID_ROW + "2017-28-07,07:47,42,1399,88,x9,63,,,8.8,\n",
        4,
        "rmssd: not a number: 'x9'",
    ),
    "time.csv": (
        ANDROID_HEADER + ANDROID_ROW.replace("07:39", "7h39"),
        3,
        "date and time: '2017-27-07 7h39' is not a date and time",
    ),
    "hr.csv": (ANDROID_HEADER + ANDROID_ROW.replace(",45.7,", ",457,"), 3, "HR: 457 is outside [20, 250]"),
    "elite.csv": (
        ELITE_HEADER + "X,2017-09-06,2017-09-31 06:23:22,readiness,57,3.7,40.8,61.9,,,50\r\n",
        2,
        "Datetime: '2017-09-31 06:23:22' is not a valid date and time",
    ),
    "nothing.csv": (
        ANDROID_HEADER + "2017-27-07,01:00,0.0,0.0,0.0,0.0,0.0,0.0,0.0,,rest\n",
        1,
        "no readings: none of the 1 rows has an rMSSD",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_export_is_one_line_and_writes_nothing(tmp_path, capsys, name):
    url = sqlite_url(tmp_path)
    good = HRV_DIR / "goldencheetah__ElitHRV_Export_-_2017-10-02.csv"
    assert run_import(capsys, str(good), "--athlete", "A01", "--store", url)[0] == 0
    before = store_counts(url)
    text, line, reason = BAD[name]
    bad = write(tmp_path / name, text)
    code, rows, err = run_import(capsys, str(bad), "--athlete", "A01", "--store", url)
    assert code == 2 and err == f"recovery-monitor: import: {bad}:{line}: {reason}\n"
    assert rows[0]["status"] == "failed" and store_counts(url) == before


def test_every_export_twice_sqlite(tmp_path, capsys):
    url = sqlite_url(tmp_path)
    athletes = tuple(f"H{i}" for i in range(len(EXPORTS)))
    statuses = []
    for _ in range(2):
        for athlete, name in zip(athletes, sorted(EXPORTS), strict=True):
            code, rows, _ = run_import(capsys, str(HRV_DIR / name), "--athlete", athlete, "--store", url)
            assert code == 0
            statuses.append(rows[0]["status"])
        if len(statuses) == len(EXPORTS):
            counts = store_counts(url, athletes)
    assert statuses == ["imported"] * len(EXPORTS) + ["duplicate"] * len(EXPORTS)
    assert store_counts(url, athletes) == counts
    for athlete, name in zip(athletes, sorted(EXPORTS), strict=True):
        assert counts[("readiness", athlete)] == EXPORTS[name][1] and counts[("activity", athlete)] == 1


# --- several readings on one day: the earliest is the morning reading (ingest.timeline) --------------------------


def analysed_mornings(url: str, as_of: dt.date, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the analysis for `days` days ending `as_of`; the stored readings, the analysis's `daily` ln rMSSD per
    day and the report's mornings, as (readiness frame times, daily frame, report frame)."""
    from dashboards.report_data import load_report_data
    from ingest.store import open_store
    from monitor.analyze import analyze

    store = open_store(url)
    try:
        analyze(store, as_of, write_days=days)
        start_ms = int(dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC).timestamp() * 1000)
        start_ms -= (days - 1) * DAY_MS
        stored = store.read("readiness", "A01", ["ln_rmssd"], start_ms, start_ms + days * DAY_MS)
        daily = store.read("daily", "A01", ["ln_rmssd"], start_ms, start_ms + days * DAY_MS)
        report = load_report_data(store, "A01", as_of, days).readiness
    finally:
        store.close()
    return stored, daily, report


def test_app_exports_with_several_readings_on_55_days_use_the_earliest(tmp_path, capsys):
    """The six exports under one athlete: 55 UTC days have 2 to 4 readings (23 days: Elite HRV and three
    HRV4Training exports; 9 days: three, 23 days: two HRV4Training exports); the analysis and the report both use
    the earliest of each day."""
    url = sqlite_url(tmp_path)
    code, rows, _ = run_import(capsys, str(HRV_DIR), "--athlete", "A01", "--store", url)
    assert code == 0 and {r["status"] for r in rows} == {"imported"}
    stored, daily, report = analysed_mornings(url, dt.date(2017, 10, 4), 100)
    days = stored.time_ms // DAY_MS
    unique, counts = np.unique(days, return_counts=True)
    assert Counter(counts[counts > 1].tolist()) == {2: 23, 3: 9, 4: 23}
    several = unique[counts > 1].tolist()
    values = {int(d): stored.columns["ln_rmssd"][days == d].tolist() for d in unique}  # read back in time order
    analysed = dict(zip((daily.time_ms // DAY_MS).tolist(), daily.columns["ln_rmssd"].tolist(), strict=True))
    assert {d: analysed[d] for d in several} == pytest.approx({d: values[d][0] for d in several})
    assert all(abs(analysed[d] - later) > 1e-9 for d in several for later in values[d][1:])  # they all differ
    assert (report.time_ms // DAY_MS).tolist() == unique.tolist()  # one reading per day in the report
    assert report.columns["ln_rmssd"].tolist() == pytest.approx([values[int(d)][0] for d in unique])


def test_beats_before_an_app_reading_win_and_every_run_agrees(tmp_path, capsys):
    """An RR-file reading at 06:00 and an app reading at 07:30 on one day: the beats are the morning reading, on the
    first analysis run as on the next (the beat reading is stored as a `readiness` point by the first run)."""
    from test_rr_import import RR_DIR

    from ingest.rr_files import read_rr_file
    from monitor.hrv import hrv_metrics

    url = sqlite_url(tmp_path)
    app = write(
        tmp_path / "hrv4t.csv",
        "timestamp_measurement,HR,AVNN,SDNN,rMSSD,pNN50,LF,HF,HRV4T_Recovery_Points\n"
        "2024-05-03 07:30:00 +0000,50,1200,60,30,30,500,600,7.5\n",
    )
    rr = RR_DIR / "pyhrv__nsrdb_series_1.txt"
    code, rows, _ = run_import(capsys, str(app), str(rr), "--athlete", "A01", "--date", "2024-05-03", "--store", url)
    assert code == 0 and [r["status"] for r in rows] == ["imported", "imported"]
    beats_ln = hrv_metrics(read_rr_file(rr).rr_ms).ln_rmssd
    assert abs(beats_ln - np.log(30)) > 0.5
    for _run in range(2):
        _, daily, report = analysed_mornings(url, dt.date(2024, 5, 3), 1)
        assert daily.columns["ln_rmssd"].tolist() == pytest.approx([beats_ln])
        assert report.columns["ln_rmssd"].tolist() == pytest.approx([beats_ln])

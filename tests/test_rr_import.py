"""RR files as morning readings: every file of ../shared/data/rr imports or fails with its reason, beat counts and
means against MANIFEST.md, dating by --date or file name, one-line errors and exactly-once re-imports."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest
from test_csv_import import DATA, MANIFEST, run_import, sqlite_url, store_counts, write

from ingest.activity import FileDecodeError
from ingest.importer import decode_file
from ingest.store import open_store

RR_DIR = DATA / "rr"
HRV_LOGGER = {
    name: (dt.date.fromisoformat(day), int(beats))
    for name, day, beats in re.findall(
        r"`rr/(hrvpublic__ot_\w+_RRIntervals\.csv)`[^\n]*?test starting (\d{4}-\d{2}-\d{2}) [^\n]*?: (\d+) beats",
        MANIFEST,
    )
}
NSRDB = {
    name: (int(n), float(mean))
    for name, n, mean in re.findall(
        r"`rr/(pyhrv__nsrdb_series_\d+\.txt)`[^\n]*?: (\d+) intervals, mean (\d+) ms", MANIFEST
    )
}
KUBIOS = {
    name: (int(n.replace(",", "")), float(mean))
    for name, n, mean in re.findall(
        r"`rr/(pyhrv__kubios_series_\d_hrv\.txt)`[^\n]*?about ([\d,]+) beats[^\n]*?Mean RR ([\d.]+) ms", MANIFEST
    )
}
FEATURES = set(re.findall(r"`rr/(hrvpublic__ot_\w+_Features\.csv)`", MANIFEST))
DAY = dt.date(2024, 5, 3)
SIX_AM_MS = int(dt.datetime(2024, 5, 3, 6, tzinfo=dt.UTC).timestamp() * 1000)


def rr_column(activity) -> tuple[np.ndarray, np.ndarray]:
    (batch,) = activity.batches("A01")
    assert batch.measurement == "rr" and batch.tags == {"athlete": "A01", "source": "file", "device": "file"}
    return batch.time_ms, batch.fields["rr_ms"]


def test_every_file_in_the_folder_has_an_expected_outcome():
    assert len(HRV_LOGGER) == 43 and len(NSRDB) == 10 and len(KUBIOS) == 5 and len(FEATURES) == 43
    assert {p.name for p in RR_DIR.iterdir()} == set(HRV_LOGGER) | set(NSRDB) | set(KUBIOS) | FEATURES


@pytest.mark.parametrize("name", sorted(HRV_LOGGER))
def test_hrv_logger_exports(name):
    day, beats = HRV_LOGGER[name]
    activity = decode_file(RR_DIR / name, day)
    times, rr = rr_column(activity)
    assert len(rr) == beats == activity.summary()["rr_count"] and activity.summary()["format"] == "rr-hrv-logger"
    start = int(dt.datetime(day.year, day.month, day.day, 6, tzinfo=dt.UTC).timestamp() * 1000)
    assert times[0] == start + round(rr[0]) and times[-1] == start + round(rr.sum())  # 06:00 UTC + cumulative RR
    assert np.all(np.diff(times) > 0) and rr.min() > 400 and rr.max() < 1500


@pytest.mark.parametrize("name", sorted(NSRDB))
def test_pyhrv_nni_files_in_seconds(name):
    n, mean = NSRDB[name]
    _, rr = rr_column(decode_file(RR_DIR / name, DAY))
    assert len(rr) == n and rr.mean() == pytest.approx(mean, abs=0.5)


@pytest.mark.parametrize("name", sorted(KUBIOS))
def test_kubios_reports(name):
    n, mean = KUBIOS[name]
    activity = decode_file(RR_DIR / name, DAY)
    _, rr = rr_column(activity)
    assert len(rr) == n and rr.mean() == pytest.approx(mean, abs=1e-3)
    assert activity.summary()["duration_s"] == pytest.approx(3600, abs=2)


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_feature_exports_are_an_unknown_layout(name):
    with pytest.raises(FileDecodeError) as failure:
        decode_file(RR_DIR / name, DAY)
    assert failure.value.line == 1 and str(failure.value).startswith("unknown CSV layout 'index, timestamp, HR, AVNN")


def test_without_a_date_the_error_asks_for_one():
    with pytest.raises(FileDecodeError) as failure:
        decode_file(RR_DIR / "pyhrv__nsrdb_series_1.txt")
    assert str(failure.value) == "no date for this reading: pass --date YYYY-MM-DD or put YYYY-MM-DD in the file name"


def test_plain_file_dated_by_name_or_option(tmp_path):
    path = write(tmp_path / "morning 2024-05-03.txt", "RR (ms)\n800\n\n810.5\n790\n")
    times, rr = rr_column(decode_file(path))
    assert list(rr) == [800, 810.5, 790] and list(times - SIX_AM_MS) == [800, 1610, 2400]
    times, _ = rr_column(decode_file(path, dt.date(2024, 5, 4)))
    assert times[0] == SIX_AM_MS + 86_400_000 + 800
    one_column_csv = write(tmp_path / "2024-05-03.csv", "800\n810\n")
    assert rr_column(decode_file(one_column_csv))[1].tolist() == [800, 810]


def symlinks(folder: Path, names: list[str]) -> Path:
    """The RR files under names that carry their MANIFEST date (symlinks: the shared files are never copied)."""
    folder.mkdir()
    for name in names:
        (folder / f"{HRV_LOGGER[name][0]}_{name}").symlink_to(RR_DIR / name)
    return folder


def test_mornings_dated_by_file_name_twice(tmp_path, capsys):
    url = sqlite_url(tmp_path)
    mornings = sorted(n for n in HRV_LOGGER if "_ot_m" in n)
    folder = symlinks(tmp_path / "mornings", mornings)
    code, rows, err = run_import(capsys, str(folder), "--athlete", "A01", "--store", url)
    assert (code, err) == (0, "") and [r["status"] for r in rows] == ["imported"] * len(mornings) == ["imported"] * 23
    counts = store_counts(url)
    assert counts[("rr", "A01")] == sum(HRV_LOGGER[n][1] for n in mornings) and counts[("activity", "A01")] == 23
    code, rows, _ = run_import(capsys, str(folder), "--athlete", "A01", "--store", url)
    assert code == 0 and {r["status"] for r in rows} == {"duplicate"} and store_counts(url) == counts
    store = open_store(url)
    try:
        frame = store.read("rr", "A01", ["rr_ms"])
        days = np.unique(frame.time_ms // 86_400_000)
        assert len(days) == 23 and np.all(frame.time_ms % 86_400_000 < 6.5 * 3600e3)  # 06:00 + ~6 min
    finally:
        store.close()


def test_a_second_reading_on_the_same_day_is_refused(tmp_path, capsys):
    url = sqlite_url(tmp_path)
    morning, evening = RR_DIR / "hrvpublic__ot_m60_RRIntervals.csv", RR_DIR / "hrvpublic__ot_a60_RRIntervals.csv"
    args = ["--athlete", "A01", "--date", "2023-02-08", "--store", url]
    assert run_import(capsys, str(morning), *args)[0] == 0
    before = store_counts(url)
    code, rows, err = run_import(capsys, str(evening), str(morning), *args)
    assert code == 2 and [r["status"] for r in rows] == ["failed", "duplicate"]
    assert err == (
        f"recovery-monitor: import: {evening}: the store already holds other RR intervals from a file for A01 in "
        "2023-02-08T06:00-06:05 UTC: another reading on that day? import this one with another --date\n"
    )
    assert store_counts(url) == before
    code, rows, _ = run_import(capsys, str(evening), "--athlete", "A01", "--date", "2023-02-09", "--store", url)
    assert code == 0 and rows[0]["status"] == "imported"  # same file, another day: not a duplicate


def test_an_interrupted_import_is_completed(tmp_path, capsys):
    url = sqlite_url(tmp_path)
    path = RR_DIR / "pyhrv__nsrdb_series_2.txt"
    activity = decode_file(path, DAY)
    store = open_store(url)
    try:
        store.write(activity.batches("A01"))  # the beats, but the process died before the identity record
    finally:
        store.close()
    code, rows, _ = run_import(capsys, str(path), "--athlete", "A01", "--date", str(DAY), "--store", url)
    assert code == 0 and rows[0]["status"] == "imported"
    assert store_counts(url)[("rr", "A01")] == 316


BAD = {
    "empty.txt": ("", 1, "empty file"),
    "blank-lines.txt": ("\n\n  \n", 1, "empty file"),
    "non-numeric.txt": ("rr_ms\n800\n81O\n790\n", 3, "not a number: '81O'"),
    "negative.csv": ("800\n-5\n", 2, "RR interval must be positive and finite, got -5"),
    "seconds-in-ms.txt": ("0.8\n0.81\n", 1, "median RR 0.805 ms is implausible with values in ms: wrong unit?"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_rr_file_is_one_line_and_writes_nothing(tmp_path, capsys, name):
    url = sqlite_url(tmp_path)
    good = RR_DIR / "pyhrv__nsrdb_series_3.txt"
    assert run_import(capsys, str(good), "--athlete", "A01", "--date", "2024-05-02", "--store", url)[0] == 0
    before = store_counts(url)
    text, line, reason = BAD[name]
    bad = write(tmp_path / name, text)
    code, rows, err = run_import(capsys, str(bad), "--athlete", "A01", "--date", str(DAY), "--store", url)
    assert code == 2 and err == f"recovery-monitor: import: {bad}:{line}: {reason}\n"
    assert rows[0]["line"] == line and store_counts(url) == before

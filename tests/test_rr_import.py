"""RR files as morning readings: every file of ../shared/data/rr imports, is skipped or fails with its reason, beat
counts, means and start times against MANIFEST.md, dating by the file's timestamps, --date or file name, one-line
errors and exactly-once re-imports."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest
from test_csv_import import DATA, MANIFEST, run_import, sqlite_url, store_counts, write

from ingest.activity import FileDecodeError, FileSkipped
from ingest.importer import decode_file
from ingest.imports.rr_reading import check_morning_length
from ingest.rr_files import read_rr_file
from ingest.store import open_store
from ingest.timeline import MORNING_READING_MAX_S
from monitor.analyze import find_readings

RR_DIR = DATA / "rr"
HRV_LOGGER = {
    name: (dt.datetime.fromisoformat(f"{start}+00:00"), int(beats))
    for name, start, beats in re.findall(
        r"`rr/(hrvpublic__ot_\w+_RRIntervals\.csv)`[^\n]*?starting (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC: (\d+) beats",
        MANIFEST,
    )
}
"""HRV Logger exports: MANIFEST start time (UTC, to the minute) and beat count."""
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


def first_timestamp_ms(path: Path) -> int:
    """The `timestamp` of the first data row, read without the product's parser (header, blank line, then rows)."""
    return int(path.read_text().splitlines()[2].split(",")[0])


@pytest.mark.parametrize("name", sorted(HRV_LOGGER))
def test_hrv_logger_exports_are_dated_by_their_timestamps(name):
    start, beats = HRV_LOGGER[name]
    activity = decode_file(RR_DIR / name, dt.date(2024, 5, 3))  # --date does not move a file with its own times
    times, rr = rr_column(activity)
    assert len(rr) == beats == activity.summary()["rr_count"] and activity.summary()["format"] == "rr-hrv-logger"
    first = first_timestamp_ms(RR_DIR / name)
    assert times[0] == first and times[-1] == first + round(rr[1:].sum())  # first beat at the file's first time
    assert first // 60_000 * 60_000 == start.timestamp() * 1000  # MANIFEST: "test starting 2023-02-08 20:49 UTC"
    assert activity.summary()["start"] == dt.datetime.fromtimestamp(first // 1000, dt.UTC).strftime("%FT%TZ")
    assert np.all(np.diff(times) > 0) and rr.min() > 400 and rr.max() < 1500


@pytest.mark.parametrize("name", sorted(NSRDB))
def test_pyhrv_nni_files_in_seconds(name):
    n, mean = NSRDB[name]
    _, rr = rr_column(decode_file(RR_DIR / name, DAY))
    assert len(rr) == n and rr.mean() == pytest.approx(mean, abs=0.5)


@pytest.mark.parametrize("name", sorted(KUBIOS))
def test_kubios_hour_long_recordings_are_skipped_as_not_a_morning_reading(name):
    n, mean = KUBIOS[name]
    rr = read_rr_file(RR_DIR / name).rr_ms
    assert len(rr) == n and rr.mean() == pytest.approx(mean, abs=1e-3) and rr.sum() == pytest.approx(3600e3, abs=2e3)
    with pytest.raises(FileSkipped) as skipped:
        decode_file(RR_DIR / name)  # no date needed to tell it is not a morning reading
    minutes = f"{round(rr[1:].sum()) / 60_000:.1f}"
    assert str(skipped.value) == (
        f"not a morning reading: {minutes} min (a morning reading lasts at most 10 min); not imported"
    )


def test_the_morning_length_boundary_is_inclusive():
    assert MORNING_READING_MAX_S == 600
    check_morning_length(np.array([1_000, 601_000]))  # exactly 10 min from first to last beat: a morning reading
    with pytest.raises(FileSkipped, match=r"not a morning reading: 10\.0 min"):
        check_morning_length(np.array([1_000, 601_001]))


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_feature_exports_are_skipped(name):
    with pytest.raises(FileSkipped) as skipped:
        decode_file(RR_DIR / name, DAY)
    assert str(skipped.value) == (
        "HRV Logger features file (the app's per-window values), not imported: import its RR file"
    )


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
    """A folder of the shared files (symlinks: the shared files are never copied)."""
    folder.mkdir()
    for name in names:
        (folder / name).symlink_to(RR_DIR / name)
    return folder


def test_hrv_logger_folder_is_dated_by_its_timestamps_twice(tmp_path, capsys):
    """The hrvpublic folder (RR files and their Features.csv) in one command: readings at the files' own times."""
    url = sqlite_url(tmp_path)
    recordings = sorted(HRV_LOGGER)
    folder = symlinks(tmp_path / "hrv-logger", recordings + sorted(FEATURES))
    code, rows, err = run_import(capsys, str(folder), "--athlete", "A01", "--store", url)
    assert (code, err) == (0, "")
    status = {Path(r["file"]).name: r["status"] for r in rows}
    assert status == {**dict.fromkeys(recordings, "imported"), **dict.fromkeys(FEATURES, "skipped")}
    counts = store_counts(url)
    assert counts[("rr", "A01")] == sum(beats for _, beats in HRV_LOGGER.values()) and counts[("activity", "A01")] == 43
    code, rows, _ = run_import(capsys, str(folder), "--athlete", "A01", "--store", url)
    assert code == 0 and {r["status"] for r in rows} == {"duplicate", "skipped"} and store_counts(url) == counts
    store = open_store(url)
    try:
        frame = store.read("rr", "A01", ["rr_ms"])
    finally:
        store.close()
    readings = find_readings(frame.time_ms, frame.columns["rr_ms"])  # what the analysis finds in the beats
    assert [r.start_ms for r in readings] == sorted(first_timestamp_ms(RR_DIR / n) for n in recordings)
    assert all(r.duration_s <= MORNING_READING_MAX_S for r in readings)
    starts = [dt.datetime.fromtimestamp(r.start_ms / 1000, dt.UTC).strftime("%F %H:%M") for r in readings]
    assert "2023-02-08 20:49" in starts  # ot_a60, the evening test in MANIFEST.md


def test_mornings_dated_by_file_name(tmp_path, capsys):
    url = sqlite_url(tmp_path)
    folder = tmp_path / "dated"
    folder.mkdir()
    for day, name in ((2, "pyhrv__nsrdb_series_1.txt"), (3, "pyhrv__nsrdb_series_2.txt")):
        (folder / f"2024-05-0{day}_{name}").symlink_to(RR_DIR / name)
    code, rows, err = run_import(capsys, str(folder), "--athlete", "A01", "--store", url)
    assert (code, err) == (0, "") and [r["status"] for r in rows] == ["imported", "imported"]
    assert [r["start"] for r in rows] == ["2024-05-02T06:00:00Z", "2024-05-03T06:00:00Z"]


def test_a_second_reading_on_the_same_day_is_refused(tmp_path, capsys):
    url = sqlite_url(tmp_path)
    first, second = RR_DIR / "pyhrv__nsrdb_series_1.txt", RR_DIR / "pyhrv__nsrdb_series_2.txt"
    args = ["--athlete", "A01", "--date", "2023-02-08", "--store", url]
    assert run_import(capsys, str(first), *args)[0] == 0
    before = store_counts(url)
    code, rows, err = run_import(capsys, str(second), str(first), *args)
    assert code == 2 and [r["status"] for r in rows] == ["failed", "duplicate"]
    assert err == (
        f"recovery-monitor: import: {second}: the store already holds other RR intervals from a file for A01 in "
        "2023-02-08T06:00-06:04 UTC: another reading at that time? import this one with another --date\n"
    )
    assert store_counts(url) == before
    code, rows, _ = run_import(capsys, str(second), "--athlete", "A01", "--date", "2023-02-09", "--store", url)
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

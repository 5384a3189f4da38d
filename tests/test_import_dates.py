"""Data dated in the future is refused by one check for every file type (`ingest.activity.check_not_future`):
FILE:LINE: reason, exit code 2, nothing written; up to one day after now is allowed for clock differences."""

from __future__ import annotations

import datetime as dt

import pytest
from test_csv_import import DATA, run_import, sqlite_url, store_counts, write

from ingest.activity import FUTURE_TOLERANCE_MS, FileDecodeError, check_not_future
from ingest.importer import decode_file
from ingest.timeline import DAY_MS

FIT = DATA / "fit" / "fitparse__garmin-fenix-5-run.fit"
REASON = "UTC, with 1 day allowed for clock differences): a wrong date or device clock? nothing imported"


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")


FUTURE_FILES = {
    "session log": (
        "log.csv",
        "date,time,duration_min,rpe\n2024-05-01,07:30,45,6\n\n2031-05-02,18:00,40,7\n",
        4,
        "2031-05-02 18:00",
    ),
    "PMSys srpe.csv": (
        "srpe.csv",
        "end_date_time,activity_names,perceived_exertion,duration_min\n2031-01-02T10:00:00.000Z,\"['running']\",5,60\n",
        2,
        "2031-01-02 09:00",
    ),
    "HRV4Training": (
        "hrv4t.csv",
        "timestamp_measurement,HR,AVNN,SDNN,rMSSD,pNN50,LF,HF,HRV4T_Recovery_Points\n"
        "2024-05-01 06:30:00 +0000,50,1200,60,55,30,500,600,7.5\n"
        "2031-05-02 06:30:00 +0000,52,1150,58,50,28,480,590,7.1\n",
        3,
        "2031-05-02 06:30",
    ),
    "HRV Logger RR": (
        "rr.csv",
        "timestamp, rr, since_start \n\n1935500000000,900,0\n1935500000900,910,900\n1935500001810,905,1810\n",
        3,
        "2031-05-02 14:53",
    ),
    "RR file dated by its name": ("2031-05-02 morning.txt", "800\n810\n790\n", 1, "2031-05-02 06:00"),
}


@pytest.mark.parametrize("kind", sorted(FUTURE_FILES))
def test_future_rows_are_refused_with_file_line_and_nothing_written(tmp_path, capsys, kind):
    name, text, line, when = FUTURE_FILES[kind]
    url = sqlite_url(tmp_path)
    good = write(tmp_path / "good.csv", "date,duration_min,rpe\n2024-04-30,30,5\n")
    assert run_import(capsys, str(good), "--athlete", "A01", "--store", url)[0] == 0
    before = store_counts(url)
    path = write(tmp_path / name, text)
    code, rows, err = run_import(capsys, str(path), "--athlete", "A01", "--store", url)
    where = f"{path}:{line}" if line else str(path)
    assert code == 2 and rows[0]["status"] == "failed" and rows[0]["line"] == line
    assert err == f"recovery-monitor: import: {where}: dated {when} UTC, after now ({now_text()} {REASON}\n"
    assert store_counts(url) == before  # nothing of the file, not even its rows dated in the past


def test_the_tolerance_boundary_on_a_real_fit_file():
    """The same check on a FIT activity (no lines): its last point exactly one day after `now` passes, 1 ms more
    fails with the earliest point after the limit."""
    activity = decode_file(FIT)
    batches = activity.batches("A01")
    last_ms = max(int(b.time_ms.max()) for b in batches)
    assert FUTURE_TOLERANCE_MS == DAY_MS
    check_not_future(activity, batches, last_ms - DAY_MS)
    with pytest.raises(FileDecodeError) as refused:
        check_not_future(activity, batches, last_ms - DAY_MS - 1)
    assert refused.value.line is None
    when = dt.datetime.fromtimestamp(last_ms // 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
    assert str(refused.value).startswith(f"dated {when} UTC, after now (")


def test_the_tolerance_boundary_names_the_first_future_line(tmp_path):
    path = write(tmp_path / "log.csv", "date,time,duration_min,rpe\n2024-05-03,12:00,30,5\n2024-05-02,12:00,30,5\n")
    activity = decode_file(path)
    batches = activity.batches("A01")
    noon_may_2 = int(dt.datetime(2024, 5, 2, 12, tzinfo=dt.UTC).timestamp() * 1000)
    check_not_future(activity, batches, noon_may_2)  # the later row exactly at the limit: accepted
    with pytest.raises(FileDecodeError) as refused:
        check_not_future(activity, batches, noon_may_2 - DAY_MS - 1)  # both rows after the limit: the first line
    assert refused.value.line == 2 and str(refused.value).startswith("dated 2024-05-03 12:00 UTC")

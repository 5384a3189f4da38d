"""RR file readers (ingest.rr_files)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from shared_data import require_shared

from ingest.rr_files import RRFile, RRFileError, read_rr_file, reading_date


@pytest.fixture
def rr_dir() -> Path:
    return require_shared("rr")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(path: Path) -> RRFileError:
    with pytest.raises(RRFileError) as info:
        read_rr_file(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}:")
    return info.value


# --- the shared reference files -----------------------------------------------------------------------------


def test_every_rr_file_in_the_shared_data_reads(rr_dir):
    layouts: dict[str, int] = {}
    for path in sorted(rr_dir.iterdir()):
        if path.name.endswith("_Features.csv"):
            continue
        rr = read_rr_file(path)
        assert isinstance(rr, RRFile) and rr.rr_ms.dtype == float
        assert 250 < np.median(rr.rr_ms) < 1500, path.name  # all in ms after the layout's unit
        layouts[rr.layout] = layouts.get(rr.layout, 0) + 1
    assert layouts == {"hrv-logger": 43, "kubios-report": 5, "pyhrv-nni": 10}


@pytest.mark.parametrize(
    ("name", "layout", "unit", "n", "first_ms", "mean_ms"),
    [
        ("hrvpublic__ot_a60_RRIntervals.csv", "hrv-logger", "ms", 426, 894.0, None),
        ("hrvpublic__ot_m60_RRIntervals.csv", "hrv-logger", "ms", 338, None, None),
        ("pyhrv__kubios_series_1_hrv.txt", "kubios-report", "s", 4684, 664.0, 768.4383),
        ("pyhrv__kubios_series_4_hrv.txt", "kubios-report", "s", 3945, None, 912.4261),
        ("pyhrv__nsrdb_series_1.txt", "pyhrv-nni", "s", 337, 859.0, 889.0),
        ("pyhrv__nsrdb_series_8.txt", "pyhrv-nni", "s", 291, 1047.0, 1030.0),  # header line without '#'
    ],
)
def test_layouts_units_and_counts_match_the_manifest(rr_dir, name, layout, unit, n, first_ms, mean_ms):
    rr = read_rr_file(rr_dir / name)
    assert (rr.layout, rr.unit, rr.rr_ms.size) == (layout, unit, n)
    if first_ms is not None:
        assert rr.rr_ms[0] == pytest.approx(first_ms)
    if mean_ms is not None:
        assert rr.rr_ms.mean() == pytest.approx(mean_ms, abs=0.5)


def test_hrv_logger_features_export_is_an_unknown_layout(rr_dir):
    err = _error(rr_dir / "hrvpublic__ot_a60_Features.csv")
    assert err.line == 1 and "unknown CSV layout" in str(err)


# --- plain one-per-line files -------------------------------------------------------------------------------


def test_plain_ms_without_header(tmp_path):
    rr = read_rr_file(_write(tmp_path, "r.txt", "800\n810.5\n\n790\n"))
    assert (rr.layout, rr.unit) == ("plain", "ms") and rr.rr_ms.tolist() == [800.0, 810.5, 790.0]


@pytest.mark.parametrize("header", ["rr_ms", "RR (ms)", "RR interval [ms]", "intervals"])
def test_plain_header_in_ms(tmp_path, header):
    rr = read_rr_file(_write(tmp_path, "r.txt", f"{header}\n800\n810\n"))
    assert rr.unit == "ms" and rr.rr_ms.tolist() == [800.0, 810.0]


@pytest.mark.parametrize("header", ["rr_s", "RR (s)", "RR interval [sec]", "seconds"])
def test_plain_header_declaring_seconds(tmp_path, header):
    rr = read_rr_file(_write(tmp_path, "r.txt", f"# exported by hand\n{header}\n0.8\n0.81\n"))
    assert rr.unit == "s" and rr.rr_ms == pytest.approx([800.0, 810.0])


def test_crlf_bom_and_comments(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes("\ufeffrr_ms\r\n# note\r\n800\r\n810\r\n".encode())
    assert read_rr_file(path).rr_ms.tolist() == [800.0, 810.0]


# --- bad input: one line naming file:line -------------------------------------------------------------------


def test_empty_file(tmp_path):
    assert _error(_write(tmp_path, "e.txt", "")).line == 1
    assert "empty" in str(_error(_write(tmp_path, "blank.txt", "\n  \n")))


def test_header_without_values(tmp_path):
    err = _error(_write(tmp_path, "h.txt", "rr_ms\n\n"))
    assert "no RR intervals" in err.problem and err.line == 2


def test_non_numeric_row(tmp_path):
    err = _error(_write(tmp_path, "n.txt", "rr_ms\n800\n81O\n790\n"))
    assert err.line == 3 and "not a number" in str(err) and "81O" in str(err)


def test_second_header_line_is_rejected(tmp_path):
    assert _error(_write(tmp_path, "two.txt", "RR\nintervals\n800\n")).line == 2


@pytest.mark.parametrize(("value", "line"), [("-5", 3), ("0", 3), ("nan", 3), ("inf", 3)])
def test_non_positive_or_non_finite(tmp_path, value, line):
    err = _error(_write(tmp_path, "v.txt", f"800\n810\n{value}\n"))
    assert err.line == line and "positive" in str(err)


def test_unknown_csv_layout(tmp_path):
    err = _error(_write(tmp_path, "u.csv", "time,bpm\n1,60\n"))
    assert err.line == 1 and "unknown CSV layout" in str(err)
    assert _error(_write(tmp_path, "noheader.csv", "# c\n1675889367255,894,34096\n")).line == 2


def test_hrv_logger_bad_rows(tmp_path):
    head = "timestamp, rr, since_start \n\n"
    assert _error(_write(tmp_path, "a.csv", head + "1675889367255,894,0\n1675889367305,x,894\n")).line == 4
    seconds = _error(_write(tmp_path, "t.csv", head + "1675889367255,894,0\n1675889367,930,894\n"))
    assert seconds.line == 4 and "timestamp '1675889367' is not a time in ms since 1970" in str(seconds)
    assert "fields" in str(_error(_write(tmp_path, "b.csv", head + "1,894\n")))
    assert _error(_write(tmp_path, "c.csv", head)).line == 2


def test_wrong_unit_is_an_error_not_a_guess(tmp_path):
    err = _error(_write(tmp_path, "s.txt", "0.8\n0.81\n0.79\n"))  # seconds in a plain (ms) file
    assert err.line == 1 and "wrong unit" in str(err)
    assert "wrong unit" in str(_error(_write(tmp_path, "ms.txt", "rr_s\n800\n810\n")))


def test_missing_file_and_directory(tmp_path):
    for path in (tmp_path / "missing.txt", tmp_path):
        with pytest.raises(RRFileError) as info:
            read_rr_file(path)
        assert str(info.value).startswith(f"{path}: ")


def test_error_is_a_value_error():
    assert issubclass(RRFileError, ValueError)
    assert str(RRFileError("f.txt", 7, "bad")) == "f.txt:7: bad"


# --- reading_date -------------------------------------------------------------------------------------------


def test_reading_date_from_name_or_override():
    assert reading_date("polar_2023-02-08_morning.txt") == dt.date(2023, 2, 8)
    assert reading_date("/x/2023-02-08/2024-01-31.csv") == dt.date(2024, 1, 31)  # the file name only
    assert reading_date("morning.txt") is None
    assert reading_date("morning_2023-02-08.txt", "2024-05-06") == dt.date(2024, 5, 6)
    assert reading_date("morning.txt", dt.date(2024, 5, 6)) == dt.date(2024, 5, 6)
    assert reading_date("r_2023-02-08_2023-02-08.txt") == dt.date(2023, 2, 8)


@pytest.mark.parametrize(
    ("name", "override", "problem"),
    [
        ("r_2023-02-08_2023-02-09.txt", None, "several dates"),
        ("r_2023-02-30.txt", None, "impossible date"),
        ("r.txt", "08/02/2023", "not a YYYY-MM-DD"),
    ],
)
def test_reading_date_errors(name, override, problem):
    with pytest.raises(RRFileError, match=problem):
        reading_date(name, override)

"""`recovery-monitor import` of a clinic's visit log (ingest/imports/visit_log.py): whole file, exactly once."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.activity import FileDecodeError, SourceFile
from ingest.imports import decode_text
from ingest.imports.visit_log import VisitLog
from ingest.model import VISIT
from ingest.regions import REGION_NAMES
from ingest.store.base import Store
from ingest.timeline import iso_utc, parse_iso_ms
from ingest.visits import MAX_NOTE_CHARS, Visit, new_visit, read_visits, visit_id_for
from monitor.cli.main import main

LOG = """athlete,time,regions,therapist,needles,note,patient_name
A01,2024-03-04T09:30,calf_l;hamstring_r,T1,12,"tight, sore",never read
A02,2024-03-05 10:00:00+01:00,"lumbar,glute_med_l",T2,,,
,2024-03-06T08:00,Upper_Trap_L | upper_trap_r,,0,,
"""


def expected(default: str = "A03") -> list[Visit]:
    def visit(athlete, at, regions, *optional) -> Visit:
        at_ms = parse_iso_ms(at)
        return Visit(visit_id_for(athlete, at_ms), athlete, at_ms, regions, *optional)

    return [
        visit("A01", "2024-03-04T09:30Z", ("calf_l", "hamstring_r"), "T1", 12, "tight, sore"),
        visit("A02", "2024-03-05T09:00Z", ("glute_med_l", "lumbar"), "T2"),
        visit(default, "2024-03-06T08:00Z", ("upper_trap_l", "upper_trap_r"), None, 0),
    ]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_import(store: Store, capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["import", *args, "--json", "--store", store.url])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def snapshot(store: Store) -> dict:
    return {athlete: store.series(athlete) for athlete in store.list_athletes()}


def test_a_visit_log_round_trips_and_imports_exactly_once(each_store, tmp_path, capsys):
    log = write(tmp_path / "visits.csv", LOG)
    code, rows, err = run_import(each_store, capsys, str(log), "--athlete", "A03")
    assert (code, err) == (0, "")
    assert rows[0]["status"] == "imported" and rows[0]["format"] == "visit-log" and rows[0]["sessions"] == 0
    assert rows[0]["detail"] == "3 visit(s); ignored columns: patient_name"
    assert rows[0]["athletes"] == ["A01", "A02", "A03"]
    assert read_visits(each_store) == expected()
    assert each_store.count(VISIT.name) == 3
    before = snapshot(each_store)
    # the same rows again, renamed, reordered, `;`-separated with CRLF and a BOM: a duplicate, nothing written
    lines = LOG.splitlines()
    rows_text = [*reversed(list(csv.reader(lines[1:])))]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(lines[0].upper().split(","))
    writer.writerows(rows_text)
    other = tmp_path / "export.CSV"
    other.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())
    code, rows, _ = run_import(each_store, capsys, str(log), str(other), "--athlete", "A03")
    assert code == 0 and [r["status"] for r in rows] == ["duplicate", "duplicate"]
    assert snapshot(each_store) == before


def test_another_default_athlete_is_another_import(tmp_path, capsys, sqlite_store):
    log = write(tmp_path / "visits.csv", LOG)
    assert run_import(sqlite_store, capsys, str(log), "--athlete", "A03")[0] == 0
    code, rows, _ = run_import(sqlite_store, capsys, str(log), "--athlete", "A04")
    assert code == 0 and rows[0]["status"] == "imported"
    assert read_visits(sqlite_store, "A04") == [expected("A04")[2]] and sqlite_store.count(VISIT.name) == 4


def test_a_grown_log_adds_only_its_new_visits_and_a_removed_visit_it_repeats_returns(tmp_path, capsys, sqlite_store):
    assert run_import(sqlite_store, capsys, str(write(tmp_path / "a.csv", LOG)), "--athlete", "A03")[0] == 0
    assert main(["visit", "remove", expected()[1].visit_id, "--store", sqlite_store.url]) == 0
    capsys.readouterr()
    grown = write(tmp_path / "b.csv", LOG + "A01,2024-03-10T07:15:00Z,soleus_l,T1,3,\n")
    code, rows, _ = run_import(sqlite_store, capsys, str(grown), "--athlete", "A03")
    assert code == 0 and rows[0]["status"] == "imported"
    visits = read_visits(sqlite_store)
    assert visits[:3] == expected() and visits[3].regions == ("soleus_l",) and len(visits) == 4


@pytest.fixture
def sqlite_store(tmp_path):
    from ingest.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "s.sqlite")
    yield store
    store.close()


HEADER = "athlete,time,regions,therapist,needles,note\n"
GOOD_ROW = "A01,2024-03-04T09:30,calf_l,T1,2,ok\n"
BAD_ROWS = {
    "A01,2024-03-04T09:31,calf_l;knee_l,,,\n": "unknown region 'knee_l': allowed are calf_l, calf_r",
    "A01,2024-03-04,calf_l,,,\n": "time: '2024-03-04' is not a date and time (YYYY-MM-DDTHH:MM",
    "A01,,calf_l,,,\n": "time: missing",
    "A01,2024-03-04T09:31,,,,\n": "no region given",
    "A01,2024-03-04T09:31,calf_l,,2.5,\n": "needles: '2.5' is not a whole number",
    "A01,2024-03-04T09:31,calf_l,,x,\n": "needles: not a number: 'x'",
    "A01,2024-03-04T09:31,calf_l,,-1,\n": "needles: -1 is outside 0-1000",
    f"A01,2024-03-04T09:31,calf_l,,,{'x' * (MAX_NOTE_CHARS + 1)}\n": "note: 501 characters, at most 500 allowed",
    "A01,2024-03-04T09:31,calf_l,Dr Who,,\n": "therapist 'Dr Who': not a pseudonymous code",
    "A 1,2024-03-04T09:31,calf_l,,,\n": "athlete 'A 1': not a pseudonymous ID",
    "A01,2024-03-04T09:31,calf_l,lumbar,T1,2,ok\n": "7 fields but the header has 6 columns: separate regions with ;",
    "A01,2999-01-01T00:00,calf_l,,,\n": "dated 2999-01-01 00:00 UTC, after now",
    "A01,2024-03-04T09:30:00.700,lumbar,,,\n": "same athlete and second (A01, 2024-03-04T09:30:00Z) as line 2 with",
}


@pytest.mark.parametrize(("row", "problem"), list(BAD_ROWS.items()))
def test_a_file_with_a_bad_row_is_refused_whole_with_its_line(tmp_path, capsys, sqlite_store, row, problem):
    log = write(tmp_path / "bad.csv", HEADER + GOOD_ROW + "\n" + row + GOOD_ROW.replace("09:30", "09:45"))
    before = snapshot(sqlite_store)
    code, rows, err = run_import(sqlite_store, capsys, str(log), "--athlete", "A01")
    assert code == 2 and rows[0]["status"] == "failed" and rows[0]["line"] == 4
    assert err.startswith(f"recovery-monitor: import: {log}:4: {problem}") and err.count("\n") == 1, err
    assert snapshot(sqlite_store) == before and sqlite_store.count(VISIT.name) == 0


def test_a_row_repeating_a_visit_unchanged_is_one_visit(tmp_path, capsys, sqlite_store):
    log = write(tmp_path / "log.csv", HEADER + GOOD_ROW + GOOD_ROW.replace("09:30", "09:30:00.400"))
    code, rows, _ = run_import(sqlite_store, capsys, str(log), "--athlete", "A01")
    assert code == 0 and rows[0]["status"] == "imported" and sqlite_store.count(VISIT.name) == 1


def test_a_visit_stored_with_other_values_fails_the_file(tmp_path, capsys, each_store):
    args = ["visit", "add", "--athlete", "A01", "--at", "2024-03-04T09:30", "--regions", "lumbar", "--new-athlete"]
    assert main([*args, "--store", each_store.url]) == 0
    capsys.readouterr()
    before = snapshot(each_store)
    log = write(tmp_path / "log.csv", HEADER + GOOD_ROW.replace("09:30", "09:00") + GOOD_ROW)
    code, rows, err = run_import(each_store, capsys, str(log), "--athlete", "A01")
    assert code == 2 and rows[0]["line"] == 3
    assert err.startswith(
        f"recovery-monitor: import: {log}:3: visit {visit_id_for('A01', parse_iso_ms('2024-03-04T09:30'))}"
    )
    assert "already stored with other values (regions lumbar): fix the row, or change" in err
    assert snapshot(each_store) == before
    # the stored values repeated (regions only, or with optional values the stored visit lacks) are no conflict
    same = write(tmp_path / "same.csv", HEADER + "A01,2024-03-04T09:30,LUMBAR,T9,,\n")
    code, rows, _ = run_import(each_store, capsys, str(same), "--athlete", "A01")
    assert code == 0 and read_visits(each_store)[0].therapist == "T9"


def test_a_regions_column_without_time_is_a_missing_column(tmp_path, capsys, sqlite_store):
    log = write(tmp_path / "log.csv", "athlete;regions\nA01;calf_l\n")
    code, _, err = run_import(sqlite_store, capsys, str(log), "--athlete", "A01")
    assert code == 2 and err == (
        f"recovery-monitor: import: {log}:1: missing required column(s) time: a visit log needs time, regions\n"
    )


def test_a_header_without_rows_is_refused(tmp_path, capsys, sqlite_store):
    log = write(tmp_path / "log.csv", "time,regions\n\n")
    code, _, err = run_import(sqlite_store, capsys, str(log), "--athlete", "A01")
    assert code == 2 and err == f"recovery-monitor: import: {log}:1: no visits: a header but no rows\n"


# -- fuzzing the parser ----------------------------------------------------------------------------------------

_CELL = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None, database=None)
@given(header=st.sampled_from(["time,regions", "athlete;time;regions;needles;note", "TIME|x,Regions"]), body=_CELL)
def test_any_text_after_a_visit_log_header_decodes_or_fails_with_a_line(header, body):
    source = SourceFile(Path("fuzz.csv"), (header + "\n" + body).encode("utf-8", "surrogatepass"))
    try:
        activity = decode_text(source)
    except FileDecodeError as exc:
        assert "\n" not in str(exc)
        return
    if isinstance(activity, VisitLog):
        for _, visit in activity.visits("A01"):
            assert visit.regions and set(visit.regions) <= set(REGION_NAMES)


@settings(max_examples=200, deadline=None, database=None)
@given(data=st.binary(max_size=200))
def test_any_bytes_decode_or_fail_cleanly(data):
    """Whatever follows the header, decoding and building the points either work or fail with a FileDecodeError
    (any other exception would be reported as a decoder bug)."""
    try:
        activity = decode_text(SourceFile(Path("fuzz.csv"), b"athlete,time,regions,needles\n" + data))
        assert isinstance(activity, VisitLog)
        batches = activity.batches("A01")
    except FileDecodeError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert len(batches) == len({b.tags["visit_id"] for b in batches}) >= 1


_PSEUDONYM = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True)
_VISIT = st.builds(
    lambda athlete, at_s, regions, therapist, needles, note: new_visit(
        athlete, at_s * 1000, regions, therapist=therapist, needles=needles, note=note, now_ms=2**50
    ),
    _PSEUDONYM,
    st.integers(0, 4_000_000_000),
    st.lists(st.sampled_from(REGION_NAMES), min_size=1, max_size=4),
    st.none() | _PSEUDONYM,
    st.none() | st.integers(0, 1000),
    st.none() | st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40),
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    visits=st.lists(_VISIT, min_size=1, max_size=8, unique_by=lambda v: v.visit_id),
    delimiter=st.sampled_from([",", ";", "\t"]),
    separator=st.sampled_from([";", "|", ","]),
)
def test_visits_written_as_a_log_decode_to_the_same_visits(visits, delimiter, separator):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["note", "regions", "time", "athlete", "needles", "therapist"])
    for v in visits:
        note = v.note or ""
        writer.writerow([note, separator.join(v.regions), iso_utc(v.at_ms), v.athlete, v.needles, v.therapist])
    decoded = decode_text(SourceFile(Path("log.csv"), buffer.getvalue().encode()))
    assert isinstance(decoded, VisitLog)
    got = [visit for _, visit in decoded.visits("A01")]
    assert got == sorted(visits, key=lambda v: (v.at_ms, v.athlete))

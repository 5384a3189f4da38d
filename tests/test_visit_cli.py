"""`recovery-monitor visit add|list|remove|regions` on both stores; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ingest.model import VISIT
from ingest.regions import REGION_NAMES, REGIONS
from ingest.store.base import Store
from ingest.timeline import iso_utc, wall_clock_ms
from ingest.visits import MAX_NOTE_CHARS, read_visits, visit_id_for
from monitor.cli.main import main

AT = "2024-03-04T09:30:15Z"
AT_MS = int(dt.datetime(2024, 3, 4, 9, 30, 15, tzinfo=dt.UTC).timestamp() * 1000)
ID = visit_id_for("A01", AT_MS)
RAW = "calf_l,hamstring_r"


def cli(store: Store, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["visit", *args, *(["--store", store.url] if args[0] != "regions" else [])])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(store: Store) -> dict:
    return {athlete: store.series(athlete) for athlete in store.list_athletes()}


def add(store: Store, capsys, *extra: str, at: str = AT, regions: str = "calf_l,hamstring_r") -> dict:
    code, out, err = cli(store, capsys, "add", "--athlete", "A01", "--at", at, "--regions", regions, "--json", *extra)
    assert (code, err) == (0, ""), err
    return json.loads(out)


@pytest.fixture
def store(each_store: Store, capsys) -> Store:
    """A store holding one visit of A01 at AT (calf_l, hamstring_r)."""
    assert add(each_store, capsys, "--new-athlete")["status"] == "added"
    return each_store


@pytest.fixture
def sqlite_store(tmp_path):
    from ingest.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "s.sqlite")
    yield store
    store.close()


def test_add_prints_the_id_and_list_shows_the_visit(store, capsys):
    args = ["add", "--athlete", "A01", "--at", "2024-03-05T08:00:00+02:00", "--regions", "LUMBAR, glute_med_l"]
    args += ["--therapist", "T1", "--needles", "0", "--note", 'tight [bold]"x"[/] ✓']
    code, out, _ = cli(store, capsys, *args)
    second = visit_id_for("A01", int(dt.datetime(2024, 3, 5, 6, tzinfo=dt.UTC).timestamp() * 1000))
    assert (code, out) == (0, second + "\n")
    code, out, _ = cli(store, capsys, "list", "--json")
    assert code == 0 and json.loads(out) == {
        "visits": [
            {"visit_id": ID, "athlete": "A01", "at": AT, "regions": ["calf_l", "hamstring_r"]}
            | {"therapist": None, "needles": None, "note": None},
            {"visit_id": second, "athlete": "A01", "at": "2024-03-05T06:00:00Z", "regions": ["glute_med_l", "lumbar"]}
            | {"therapist": "T1", "needles": 0, "note": 'tight [bold]"x"[/] ✓'},
        ]
    }
    code, out, _ = cli(store, capsys, "list", "--athlete", "A01")
    assert code == 0
    assert "│ " + ID + " │ A01     │ 2024-03-04T09:30:15Z │ calf_l,hamstring_r │ —" in out
    assert 'tight [bold]"x"[/] ✓' in out  # markup in a note is shown as written


def test_the_same_visit_twice_is_one_and_other_values_need_replace(store, capsys):
    again = add(store, capsys, at="2024-03-04T09:30:15.900", regions="hamstring_r,calf_l")
    assert again["status"] == "unchanged" and again["visit_id"] == ID
    assert store.count(VISIT.name) == 1
    before = snapshot(store)
    code, out, err = cli(store, capsys, "add", "--athlete", "A01", "--at", AT, "--regions", "lumbar", "--needles", "5")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err == (
        f"recovery-monitor: error: visit {ID} of A01 at {AT} is already stored with other values "
        "(regions calf_l,hamstring_r): pass --replace to change it\n"
    )
    assert snapshot(store) == before
    filled = add(store, capsys, "--needles", "5", "--note", "filled in")
    assert (filled["status"], filled["needles"], filled["note"]) == ("updated", 5, "filled in")
    code, _, err = cli(store, capsys, "add", "--athlete", "A01", "--at", AT, "--regions", RAW, "--needles", "6")
    assert code == 2 and "(regions calf_l,hamstring_r, needles 5, note 'filled in'): pass --replace" in err
    replaced = add(store, capsys, "--replace", "--needles", "6", regions="lumbar")
    assert (replaced["status"], replaced["regions"], replaced["needles"]) == ("replaced", ["lumbar"], 6)
    assert replaced["note"] == "filled in"
    assert store.count(VISIT.name) == 1 and read_visits(store)[0].regions == ("lumbar",)


def test_remove_hides_the_visit_and_adding_it_again_restores_it(store, capsys):
    code, out, _ = cli(store, capsys, "remove", ID)
    assert (code, out) == (0, f"removed visit {ID} of A01 at {AT}\n")
    code, out, _ = cli(store, capsys, "list")
    assert (code, out) == (0, f"no visits in {store.url}\n")
    assert cli(store, capsys, "list", "--json")[1] == '{\n  "visits": []\n}\n'
    assert store.count(VISIT.name) == 1  # a tombstone, nothing deleted
    assert add(store, capsys)["status"] == "added"
    assert [v.visit_id for v in read_visits(store)] == [ID]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "--athlete", "A01", "--at", AT, "--regions", "calf_l,knee_l"], "unknown region 'knee_l': allowed are"),
        (["add", "--athlete", "A01", "--at", "2999-01-01T00:00", "--regions", "calf_l"], "visit time 2999-01-01T00:"),
        (["add", "--athlete", "A01", "--at", "2024-03-04", "--regions", "calf_l"], "--at '2024-03-04' is not a date"),
        (["add", "--athlete", "A01", "--at", AT, "--regions", " , "], "no region given"),
        (["add", "--athlete", "A01", "--at", AT, "--regions", "soleus_l", "--needles", "2.5"], "--needles '2.5': "),
        (["add", "--athlete", "A01", "--at", AT, "--regions", "soleus_l", "--needles", "-1"], "needles: -1 is outside"),
        (["add", "--athlete", "A01", "--at", AT, "--regions", "lumbar", "--note", "x" * 501], "note: 501 characters"),
        (["add", "--athlete", "A01", "--at", AT, "--regions", "lumbar", "--therapist", "Dr X"], "therapist 'Dr X'"),
        (["add", "--athlete", "A02", "--at", AT, "--regions", "lumbar"], "no data for athlete 'A02' in "),
        (["add", "--athlete", "A 1", "--at", AT, "--regions", "lumbar", "--new-athlete"], "athlete 'A 1': not a"),
        (["list", "--athlete", "A02"], "no data for athlete 'A02' in "),
        (["remove", "v-000000000000"], "visit 'v-000000000000': no such visit"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(store, capsys, args, message):
    before = snapshot(store)
    code, out, err = cli(store, capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"recovery-monitor: error: {message}") and err.count("\n") == 1, err
    assert snapshot(store) == before


def test_removing_twice_is_refused(store, capsys):
    assert cli(store, capsys, "remove", ID)[0] == 0
    before = snapshot(store)
    code, _, err = cli(store, capsys, "remove", ID)
    assert code == 2 and err == f"recovery-monitor: error: visit '{ID}': no such visit (visit list shows the IDs)\n"
    assert snapshot(store) == before


def test_the_clock_tolerance_and_the_longest_note(sqlite_store, capsys):
    soon = iso_utc(wall_clock_ms() + 60_000)  # a minute ahead: within the five minutes allowed
    visit = add(sqlite_store, capsys, "--new-athlete", "--note", "n" * MAX_NOTE_CHARS, at=soon)
    assert visit["at"] == soon and len(visit["note"]) == MAX_NOTE_CHARS
    later = iso_utc(wall_clock_ms() + 3_600_000)
    code, _, err = cli(sqlite_store, capsys, "add", "--athlete", "A01", "--at", later, "--regions", "lumbar")
    assert code == 2 and "is in the future" in err and sqlite_store.count(VISIT.name) == 1


def test_a_narrow_output_lists_every_column(store, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    code, out, _ = cli(store, capsys, "list")
    assert code == 0
    for line in (f"visit: {ID}", "athlete: A01", f"time (UTC): {AT}", "regions: calf_l,hamstring_r"):
        assert line in out
    assert "therapist: —" in out and "needles: —" in out and "note: —" in out


def test_regions_lists_the_vocabulary(capsys, monkeypatch):
    assert main(["visit", "regions", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["regions"]
    assert [r["name"] for r in listed] == list(REGION_NAMES)
    assert listed[0] == {"name": "calf_l", "label": "Calf (gastrocnemius), left", "side": "l", "view": "back"} | {
        "group": "calf"
    }
    assert listed[-1] == {"name": "abdominals", "label": "Abdominals", "side": None, "view": "front"} | {
        "group": "abdominals"
    }
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["visit", "regions"]) == 0
    out = capsys.readouterr().out
    assert all(f" {r.name} " in out for r in REGIONS) and "│ Lumbar spine" in out

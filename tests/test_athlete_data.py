"""An athlete's rights over their data: `athlete list|export|import|delete` and `Store.series`, on both backends."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ingest.store.base import PointBatch, SeriesInfo, Store
from ingest.store.export import MANIFEST
from ingest.store.influx import InfluxStore
from ingest.store.influxql import quote_ident
from ingest.store.sqlite import SQLiteStore
from monitor.cli.main import main

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
A = "A01"
OTHER = "B 2,x"


def athlete_batches(athlete: str) -> list[PointBatch]:
    """Two sessions (every field type, a point without the optional fields, an empty string), a sparse point
    merged into a session by a second write, and five RR intervals from one strap: 9 points."""
    return [
        PointBatch(
            "session",
            {"athlete": athlete, "sport": "run", "source": "csv"},
            np.array([T0, T0 + 86_400_000], np.int64),
            {
                "duration_s": np.array([3600.0, 1800.5]),
                "rr_count": np.array([4321, 2**40], np.int64),
                "indoor": np.array([True, False]),
                "note": np.array(['tempo, "hard"; legs heavy', ""], dtype=object),
            },
        ),
        PointBatch(
            "session",
            {"athlete": athlete, "sport": "run", "source": "csv"},
            np.array([T0 + 2 * 86_400_000], np.int64),
            {"duration_s": np.array([600.0])},
        ),
        PointBatch(
            "session",
            {"athlete": athlete, "sport": "run", "source": "csv"},
            np.array([T0 + 2 * 86_400_000], np.int64),
            {"srpe": np.array([7], np.int64)},  # merged into the point above
        ),
        PointBatch("session", {"athlete": athlete, "source": "ble"}, np.array([T0 + 5000]), {"duration_s": [1.0]}),
        PointBatch(
            "rr",
            {"athlete": athlete, "device": "H10 ü", "source": "ble"},
            T0 + np.array([0, 812, 1630, 2441, 3260], np.int64),
            {"rr_ms": np.array([812.0, 818.0, 811.0, 819.0, 0.1 + 0.2])},
        ),
    ]


A_POINTS = 9  # 2 + 1 (two writes, one point) + 1 session points, 5 rr points


@pytest.fixture(params=["sqlite", "influx"])
def store(request, tmp_path) -> Iterator[Store]:
    """The embedded store or a real influxd database holding athletes A01 and OTHER."""
    if request.param == "sqlite":
        chosen: Store = SQLiteStore(tmp_path / "store.sqlite", url=f"sqlite:///{tmp_path}/store.sqlite")
    else:
        request.applymarker(pytest.mark.influx)
        chosen = request.getfixturevalue("influx_store")
    chosen.write(athlete_batches(A))
    chosen.write(athlete_batches(OTHER)[-1:])
    yield chosen
    if request.param == "sqlite":
        chosen.close()


def raw_points(store: Store) -> set[tuple]:
    """Every stored value as (measurement, tags, time_ms, field, value, type), read below the Store API: the
    embedded store's file with sqlite3, a database of influxd with InfluxQL."""
    path = getattr(store, "path", None)  # the embedded store's file; influxd stores have none
    if path is not None:
        db = sqlite3.connect(path)
        rows = db.execute(
            "SELECT s.measurement, s.tagset, p.time_ms, p.field, p.value, ft.type FROM points p "
            "JOIN series s ON s.id = p.series_id JOIN field_types ft ON ft.series_id = s.id AND ft.field = p.field"
        ).fetchall()
        db.close()
        return {
            (m, tuple(sorted(json.loads(tags).items())), t, f, bool(v) if kind == "boolean" else v, kind)
            for m, tags, t, f, v, kind in rows
        }
    return influx_points(store)


def influx_points(store: InfluxStore) -> set[tuple]:
    """`raw_points` of a database of influxd."""
    points = set()
    for result in store.query("SHOW MEASUREMENTS"):
        for (measurement,) in (result.get("series") or [{}])[0].get("values") or []:
            types = {name: kinds.pop() for name, kinds in store.field_types(measurement).items()}
            for series in store.query(f"SELECT * FROM {quote_ident(measurement)} GROUP BY *")[0].get("series", []):
                tags = tuple(sorted((k, v) for k, v in series["tags"].items() if v))
                for row in series["values"]:
                    for name, value in zip(series["columns"][1:], row[1:], strict=True):
                        if value is not None:
                            value = float(value) if types[name] == "float" else value
                            points.add((measurement, tags, row[0], name, value, types[name]))
    return points


def expected_points(athlete: str) -> set[tuple]:
    """The reference: what `athlete_batches` wrote, value by value, with the types their dtypes give."""
    kinds = {"f": "float", "i": "integer", "b": "boolean", "O": "string"}
    points = set()
    for batch in athlete_batches(athlete):
        tags = tuple(sorted(batch.tags.items()))
        for name, column in batch.fields.items():
            column = np.asarray(column)
            for t, value in zip(batch.time_ms.tolist(), column.tolist(), strict=True):
                points.add((batch.measurement, tags, t, name, value, kinds[column.dtype.kind]))
    return points


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["athlete", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_series_lists_each_tag_set_with_field_types_points_and_span(store: Store) -> None:
    found = store.series(A)
    assert found == [
        SeriesInfo("rr", {"athlete": A, "device": "H10 ü", "source": "ble"}, {"rr_ms": "float"}, 5, T0, T0 + 3260),
        SeriesInfo("session", {"athlete": A, "source": "ble"}, {"duration_s": "float"}, 1, T0 + 5000, T0 + 5000),
        SeriesInfo(
            "session",
            {"athlete": A, "source": "csv", "sport": "run"},
            {"duration_s": "float", "indoor": "boolean", "note": "string", "rr_count": "integer", "srpe": "integer"},
            3,
            T0,
            T0 + 2 * 86_400_000,
        ),
    ]
    assert store.series("nobody") == []
    assert [s.tags["athlete"] for s in store.series(OTHER)] == [OTHER]


def test_export_delete_import_gives_back_identical_points(store: Store, tmp_path: Path, capsys) -> None:
    before = raw_points(store)
    assert {p for p in before if ("athlete", A) in p[1]} == expected_points(A)
    folder = tmp_path / "export"
    code, out, err = cli(capsys, "export", A, "--out", str(folder), "--store", store.url, "--json")
    assert (code, err) == (0, "")
    manifest = json.loads((folder / MANIFEST).read_text())
    assert json.loads(out)["points"] == manifest["points"] == A_POINTS
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, "rr.csv", "session.csv"]
    assert {m["measurement"]: m["points"] for m in manifest["measurements"]} == {"rr": 5, "session": 4}
    code, out, err = cli(capsys, "delete", A, "--yes", "--store", store.url)
    assert (code, out, err) == (0, f"deleted {A_POINTS} points of {A} from {store.url}\n", "")
    assert raw_points(store) == before - expected_points(A)  # the other athlete is untouched
    code, out, err = cli(capsys, "import", str(folder), "--store", store.url)
    assert (code, out, err) == (0, f"imported {A_POINTS} points of {A} into {store.url}\n", "")
    assert raw_points(store) == before
    code, out, err = cli(capsys, "import", str(folder), "--as", "A99", "--store", store.url)
    assert code == 0
    renamed = {(m, tuple((k, "A99" if k == "athlete" else v) for k, v in tags), *rest) for m, tags, *rest in before}
    assert raw_points(store) == before | {p for p in renamed if ("athlete", "A99") in p[1]}


def test_export_writes_exact_csv_and_a_manifest(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite"
    SQLiteStore(tmp_path / "store.sqlite").write(athlete_batches(A))
    folder = tmp_path / "empty"
    folder.mkdir()  # an existing empty folder is fine
    assert cli(capsys, "export", A, "--out", str(folder), "--store", url)[0] == 0
    assert (folder / "session.csv").read_text() == (
        "time_ms,time_utc,athlete,source,sport,duration_s,indoor,note,rr_count,srpe\n"
        '1767225600000,2026-01-01T00:00:00.000Z,"A01","csv","run",3600.0,true,"tempo, ""hard""; legs heavy",4321,\n'
        '1767225605000,2026-01-01T00:00:05.000Z,"A01","ble",,1.0,,,,\n'
        '1767312000000,2026-01-02T00:00:00.000Z,"A01","csv","run",1800.5,false,"",1099511627776,\n'
        '1767398400000,2026-01-03T00:00:00.000Z,"A01","csv","run",600.0,,,,7\n'
    )
    assert (folder / "rr.csv").read_text().splitlines()[-1] == (
        '1767225603260,2026-01-01T00:00:03.260Z,"A01","H10 ü","ble",0.30000000000000004'
    )
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["format_version"] == 1 and manifest["athlete"] == A and manifest["tool_version"] == "0.1.0"
    session = manifest["measurements"][1]
    assert session["field_types"] == {
        "duration_s": "float",
        "indoor": "boolean",
        "note": "string",
        "rr_count": "integer",
        "srpe": "integer",
    }
    assert session["tags"] == ["athlete", "source", "sport"] and session["file"] == "session.csv"


def test_export_refuses_a_folder_that_holds_files_and_an_unknown_athlete(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite"
    SQLiteStore(tmp_path / "store.sqlite").write(athlete_batches(A))
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    code, out, err = cli(capsys, "export", A, "--out", str(folder), "--store", url)
    assert (code, out) == (2, "")
    assert (
        err == f"recovery-monitor: error: {folder}: the folder already holds files; export into a new or empty folder\n"
    )
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    code, out, err = cli(capsys, "export", "nobody", "--out", str(tmp_path / "new"), "--store", url)
    assert (code, err) == (2, f"recovery-monitor: error: athlete 'nobody': no data in {url}\n")
    assert not (tmp_path / "new").exists()


def test_delete_needs_yes_and_a_known_athlete(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite"
    store = SQLiteStore(tmp_path / "store.sqlite")
    store.write(athlete_batches(A))
    code, out, err = cli(capsys, "delete", A, "--store", url)
    assert (code, out) == (2, "")
    assert (
        err == f"recovery-monitor: error: athlete 'A01' has {A_POINTS} points in {url}; add --yes to delete them all\n"
    )
    assert sum(s.points for s in store.series(A)) == A_POINTS
    code, out, err = cli(capsys, "delete", "A1", "--yes", "--store", url)
    assert (code, err) == (2, f"recovery-monitor: error: athlete 'A1': no data in {url}\n")
    assert sum(s.points for s in store.series(A)) == A_POINTS
    assert store.delete_athlete("A1") == 0


def test_import_refuses_an_athlete_with_data_and_a_changed_file(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite"
    store = SQLiteStore(tmp_path / "store.sqlite")
    store.write(athlete_batches(A))
    folder = tmp_path / "export"
    assert cli(capsys, "export", A, "--out", str(folder), "--store", url)[0] == 0
    before = raw_points(store)
    code, _, err = cli(capsys, "import", str(folder), "--store", url)
    assert (
        code == 2
        and err.startswith("recovery-monitor: error: athlete 'A01' already has data in")
        and "\n" not in err[:-1]
    )
    csv_file = folder / "rr.csv"
    csv_file.write_text(csv_file.read_text().replace("812.0", "813.0"))
    code, _, err = cli(capsys, "import", str(folder), "--as", "A02", "--store", url)
    changed = "the file changed since the export (SHA-256 differs from manifest.json)"
    assert (code, err) == (2, f"recovery-monitor: error: {csv_file}: {changed}\n")
    assert raw_points(store) == before
    code, _, err = cli(capsys, "import", str(tmp_path), "--store", url)
    assert (code, err) == (2, f"recovery-monitor: error: {tmp_path}: no manifest.json; not an athlete export\n")


def test_list_shows_points_and_time_span_per_measurement(store: Store, capsys) -> None:
    code, out, err = cli(capsys, "list", "--store", store.url, "--json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert [a["athlete"] for a in document["athletes"]] == [A, OTHER]
    first = document["athletes"][0]
    assert first["points"] == A_POINTS
    assert first["measurements"]["session"] == {
        "points": 4,
        "first_ms": T0,
        "last_ms": T0 + 2 * 86_400_000,
        "first": "2026-01-01T00:00:00Z",
        "last": "2026-01-03T00:00:00Z",
    }
    assert document["athletes"][1]["measurements"] == {
        "rr": {
            "points": 5,
            "first_ms": T0,
            "last_ms": T0 + 3260,
            "first": "2026-01-01T00:00:00Z",
            "last": "2026-01-01T00:00:03Z",
        }
    }
    code, out, _ = cli(capsys, "list", "--store", store.url)
    assert code == 0
    for cell in ("athlete", "measurement", "points", "first", "last", OTHER, "session", "2026-01-03T00:00:00Z"):
        assert cell in out


def test_strings_with_line_breaks_quotes_and_commas_round_trip_in_the_embedded_store(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite"
    store = SQLiteStore(tmp_path / "store.sqlite")
    notes = np.array(['legs "heavy",\nslept 5 h\r\nok', ",", '"', "\n"], dtype=object)
    store.write([PointBatch("note", {"athlete": A, "by": 'coach, "x"'}, T0 + np.arange(4), {"text": notes})])
    before = raw_points(store)
    assert cli(capsys, "export", A, "--out", str(tmp_path / "out"), "--store", url)[0] == 0
    assert store.delete_athlete(A) == 4 and raw_points(store) == set()
    assert cli(capsys, "import", str(tmp_path / "out"), "--store", url)[0] == 0
    assert raw_points(store) == before


def test_list_shows_a_current_state_point_without_a_1970_time(store: Store, capsys) -> None:
    from ingest.analysis_due import mark_due
    from ingest.model import MEASUREMENTS

    assert {m.name for m in MEASUREMENTS if m.is_state} == {"analysis_due", "checkin_link"}
    mark_due(store, {A: T0})  # the analysis bookkeeping: one point at time 0
    code, out, err = cli(capsys, "list", "--store", store.url, "--json")
    assert (code, err) == (0, "")
    measurements = json.loads(out)["athletes"][0]["measurements"]
    assert measurements["analysis_due"] == {"points": 1, "state": True}
    assert measurements["session"]["first"] == "2026-01-01T00:00:00Z"
    code, out, _ = cli(capsys, "list", "--store", store.url)
    assert code == 0 and "(current state)" in out and "1970" not in out

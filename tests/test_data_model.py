"""The data model in code (ingest/model.py) matches docs/data-model.md, and the code writes only what it declares."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from pathlib import Path

import numpy as np
import pytest

from dashboards.flag_source import read_flags
from ingest import model
from ingest.store.base import PointBatch
from ingest.store.sqlite import SQLiteStore
from ingest.timeline import DAY_MS
from monitor.alerts import AlertRecord
from monitor.cli.main import main
from monitor.flags import Flag, flag_batches_of, flag_from_point, flag_point
from monitor.service.episodes import RECORD_ATTRIBUTES

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-model.md"
DOC_TYPES = {"int": "integer", "float": "float", "bool": "boolean", "string": "string"}
Declared = dict[str, tuple[set[str], dict[str, str]]]


def cell_names(cell: str) -> list[str]:
    """The backticked names of a table cell, with `a1` … `a5` ranges and "(likewise `b_…`)" expanded."""
    main_part, _, likewise = cell.partition("(likewise")
    names = re.findall(r"`([a-z0-9_]+)`", main_part)
    ranged = re.search(r"`([a-z_]+)(\d)([a-z_]*)` … `[a-z_]+(\d)[a-z_]*`", main_part)
    if ranged:
        stem, first, tail, last = ranged.groups()
        names = [f"{stem}{i}{tail}" for i in range(int(first), int(last) + 1)]
    prefix = names[0].split("_")[0] + "_" if likewise else ""
    for other in re.findall(r"`([a-z]+_)…`", likewise):
        names += [other + n.removeprefix(prefix) for n in names if n.startswith(prefix)]
    return names


def doc_model(text: str) -> Declared:
    """Measurement → (tag names, field name → store type) from the doc's tables."""
    declared: Declared = {}
    heading, streams_tags = "", set[str]()
    for line in text.splitlines():
        if line.startswith("### "):
            heading = line
            streams_tags = set(re.findall(r"`([a-z_]+)`", line)) if "Streams from" in line else set()
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) != 4 or (cells[0] not in ("tag", "field") and not cells[0].startswith("`")):
            continue
        if cells[0].startswith("`"):  # the watch-file streams table: measurement | field | type | meaning
            name = re.findall(r"`([a-z_]+)`", cells[0])[0]
            tags, fields = declared.setdefault(name, (set(), {}))
            tags |= streams_tags | set(re.findall(r"tag `([a-z_]+)`", cells[0]))
            fields.update({n: DOC_TYPES[cells[2]] for n in cell_names(cells[1])})
            continue
        found = re.match(r"### `([a-z_]+)`", heading)
        name = found.group(1) if found else "session" if "FIT imports" in heading else ""
        assert name, f"a table row under {heading!r} names no measurement"
        tags, fields = declared.setdefault(name, (set(), {}))
        if cells[0] == "tag":
            tags.update(cell_names(cells[1]))
        else:
            fields.update({n: DOC_TYPES[cells[2]] for n in cell_names(cells[1])})
    return declared


def test_cell_names_expand_ranges_and_likewise():
    assert cell_names("`hr_zone1_s` … `hr_zone3_s`") == ["hr_zone1_s", "hr_zone2_s", "hr_zone3_s"]
    assert cell_names("`gct_a`, `gct_b` (likewise `muscle_…`)") == ["gct_a", "gct_b", "muscle_a", "muscle_b"]


def test_the_doc_tables_match_the_model_exactly():
    documented = doc_model(DOC.read_text(encoding="utf-8"))
    in_code = {m.name: (set(m.tag_names), {f.name: f.type for f in m.fields}) for m in model.MEASUREMENTS}
    assert sorted(documented) == sorted(in_code)
    for name, (tags, fields) in in_code.items():
        assert documented[name][0] == tags, name
        assert documented[name][1] == fields, name
    assert len(documented["session"][1]) == 44 and documented["daily"][1]["gct_sessions_7d"] == "integer"


def test_the_model_has_no_duplicate_names_and_a_lookup():
    assert len({m.name for m in model.MEASUREMENTS}) == len(model.MEASUREMENTS)
    for m in model.MEASUREMENTS:
        assert len(set(m.field_names)) == len(m.fields) and len(set(m.tag_names)) == len(m.tags), m.name
        assert model.measurement(m.name) is m
    assert model.measurement("flag").field("since").type == "string"
    record_fields = {f.name for f in dataclasses.fields(AlertRecord)}  # every `alert` field is a record attribute
    assert set(RECORD_ATTRIBUTES) == set(model.ALERT.field_names) and set(RECORD_ATTRIBUTES.values()) <= record_fields
    assert model.AFTERCARE.field_names == ("visit_id", "until_ms", "sent_ms", "http_status")  # aftercare.py unpacks
    assert model.VISIT.tag_names == ("athlete", "visit_id") and model.VISIT.field("removed").type == "boolean"
    with pytest.raises(KeyError, match="no measurement 'checkin_typo'"):
        model.measurement("checkin_typo")
    with pytest.raises(KeyError, match="'flag' declares no field 'nope'"):
        model.FLAG.field("nope")


def test_batch_problems_name_what_is_undeclared():
    ok = PointBatch("hr", {"athlete": "A01", "device": "d", "source": "ble"}, np.array([1]), {"bpm": np.array([60])})
    assert model.batch_problems(ok) == []
    bad = PointBatch("hr", {"athlete": "A01", "lap": "1"}, np.array([1]), {"bpm": np.array([60.0]), "x": np.array([1])})
    assert model.batch_problems(bad) == [
        "hr: undeclared tag 'lap'",
        "hr.bpm: float, declared integer",
        "hr: undeclared field 'x'",
    ]
    assert model.batch_problems(PointBatch("visits", {}, np.array([1]), {})) == ["undeclared measurement 'visits'"]


def test_the_demo_writes_only_declared_measurements_tags_fields_and_types(tmp_path, capsys, monkeypatch):
    written: set[str] = set()
    problems: list[str] = []
    write = SQLiteStore.write

    def checked_write(self, batches):
        batches = list(batches)
        for batch in batches:
            written.add(batch.measurement)
            problems.extend(model.batch_problems(batch))
        return write(self, batches)

    monkeypatch.setattr(SQLiteStore, "write", checked_write)
    store = f"sqlite:///{tmp_path}/demo.sqlite"
    assert main(["demo", "--athletes", "2", "--days", "42", "--seed", "3", "--json", "--store", store]) == 0
    capsys.readouterr()
    assert sorted(set(problems)) == []
    assert written >= {"hr", "rr", "rsc", "power", "stride", "session", "readiness", "daily", "flag", "simulated"}
    assert written >= {"gateway", "device_state"}


def flag(**changes) -> Flag:
    base = dict(athlete="A01", signal="hrv_suppressed", family="recovery", severity="act", value=-0.61)
    base |= dict(threshold=-0.5, window="7d mean vs 60d normal range", since=dt.date(2024, 3, 2), reason="low")
    return Flag(**(base | changes))


def test_flag_attributes_are_the_flag_measurement_names():
    assert set(Flag.__dataclass_fields__) == set(model.FLAG.tag_names) | set(model.FLAG.field_names)


def test_a_flag_round_trips_through_a_store_point(tmp_path):
    day = 1_709_424_000_000  # 2024-03-03T00:00Z
    kept, nan_value = flag(), flag(signal="rhr_elevated", severity="watch", value=math.nan)
    muted = flag(post_visit=True)
    batches = flag_batches_of([(day, kept), (day, nan_value), (day + DAY_MS, muted)])
    assert [len(b) for b in batches] == [2, 1] and "value" not in batches[1].fields  # NaN is never written
    assert all(model.batch_problems(b) == [] for b in batches)
    store = SQLiteStore(tmp_path / "flags.sqlite")
    store.write(batches)
    points = read_flags(store)
    store.close()
    assert [(p.time_ms, p.signal, p.value, p.since, p.post_visit) for p in points] == [
        (day, "hrv_suppressed", -0.61, "2024-03-02", False),
        (day, "rhr_elevated", None, "2024-03-02", False),
        (day + DAY_MS, "hrv_suppressed", -0.61, "2024-03-02", True),
    ]
    assert batches[0].fields["post_visit"].tolist() == [False, True], "false is written too: a re-analysis clears it"
    tags, fields = flag_point(muted)
    assert fields["post_visit"] is True and flag_from_point(tags, fields) == muted
    del fields["post_visit"]
    assert flag_from_point(tags, fields).post_visit is False, "a point written before visits existed"
    tags, fields = flag_point(nan_value)
    back = flag_from_point(tags, fields)
    assert math.isnan(back.value) and back == flag_from_point(*flag_point(nan_value)) and back.since == kept.since
    assert flag_from_point(*flag_point(kept)) == kept


def test_a_flag_point_with_a_bad_since_is_one_clear_error():
    tags, fields = flag_point(flag())
    with pytest.raises(ValueError, match="flag point of 'A01' 'hrv_suppressed': since '2024-3-2' is not a YYYY-MM-DD"):
        flag_from_point(tags, fields | {"since": "2024-3-2"})


def test_production_readers_name_measurements_from_the_model():
    """No `store.read("name", …)` with a literal measurement name outside the store package: readers take names
    from ingest.model, so a rename is one edit."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    literal = []
    for path in [*root.glob("ingest/**/*.py"), *root.glob("monitor/**/*.py"), *root.glob("dashboards/**/*.py")]:
        if "store" in path.relative_to(root).parts[:2]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("read", "read_many", "count")
                and "store" in ast.unparse(node.func.value)
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                literal.append(f"{path.relative_to(root)}:{node.lineno}")
    assert literal == [], literal

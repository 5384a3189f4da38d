"""Visit records (ingest/visits.py) and the region vocabulary (ingest/regions.py), on both stores."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from ingest.model import VISIT
from ingest.regions import REGION_NAMES, REGIONS, UnknownRegionError, parse_regions, region
from ingest.store.base import Store
from ingest.visits import (
    MAX_AHEAD_API_MS,
    MAX_AHEAD_CLI_MS,
    FutureVisitError,
    UnknownVisitRegionError,
    Visit,
    VisitError,
    VisitNotFoundError,
    find_visit,
    new_visit,
    read_visits,
    remove_visit,
    visit_id_for,
    write_visits,
)

T0 = int(dt.datetime(2024, 3, 4, 9, 30, 15, tzinfo=dt.UTC).timestamp() * 1000)
NOW = T0 + 7 * 86_400_000
REQUIRED_SIDED = ("calf", "soleus", "tibialis_anterior", "peroneals", "plantar_fascia", "achilles", "hamstring")
REQUIRED_SIDED += (
    "quadriceps",
    "adductor",
    "glute_max",
    "glute_med",
    "hip_flexor",
    "tfl_itb",
    "shoulder",
    "upper_trap",
)


def visit(athlete: str = "A01", at_ms: int = T0, regions: str = "calf_l,hamstring_r", **optional) -> Visit:
    return new_visit(athlete, at_ms, regions, now_ms=NOW, **optional)


# -- the vocabulary ------------------------------------------------------------------------------------------


def test_the_vocabulary_has_both_sides_of_each_paired_group_and_the_midline_regions():
    for group in REQUIRED_SIDED:
        assert region(f"{group}_l") == REGIONS[REGION_NAMES.index(f"{group}_l")]
        left, right = region(f"{group}_l"), region(f"{group}_r")
        assert (left.side, right.side, left.group, right.group) == ("l", "r", group, group)
        assert left.view == right.view and left.label.endswith(", left") and right.label.endswith(", right")
    for name in ("lumbar", "thoracic", "cervical", "abdominals"):
        assert region(name).side is None and region(name).group == name
    assert region("calf_l").label == "Calf (gastrocnemius), left" and region("calf_l").view == "back"
    assert region("abdominals").view == "front" and region("lumbar").label == "Lumbar spine"
    assert len(set(REGION_NAMES)) == len(REGIONS) == 2 * 17 + 4
    for r in REGIONS:
        assert re.fullmatch(r"[a-z][a-z_]*[a-z]", r.name) and r.view in ("front", "back")
        assert r.name == (r.group if r.side is None else f"{r.group}_{r.side}")


def test_parse_regions_validates_deduplicates_and_sorts():
    assert parse_regions("hamstring_r, calf_l,CALF_L,") == ("calf_l", "hamstring_r")
    assert parse_regions(["lumbar", "calf_r"]) == ("calf_r", "lumbar")
    assert parse_regions(("lumbar",)) == ("lumbar",)
    for empty in ("", " , ", []):
        with pytest.raises(ValueError, match="no region given"):
            parse_regions(empty)
    with pytest.raises(UnknownRegionError) as caught:
        parse_regions("calf_l,calf,knee_l")
    assert caught.value.unknown == ("calf", "knee_l") and caught.value.allowed == REGION_NAMES
    message = str(caught.value)
    assert message.startswith("unknown regions 'calf', 'knee_l': allowed are calf_l, calf_r, soleus_l")
    assert "\n" not in message and message.endswith("lumbar, abdominals")
    with pytest.raises(UnknownRegionError, match=r"^unknown region 'knee': "):
        region("knee")


def test_docs_regions_md_lists_exactly_the_vocabulary():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "regions.md").read_text(encoding="utf-8")
    rows = [
        [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        for line in doc.splitlines()
        if line.startswith("| `")
    ]
    in_code = [[r.name, r.label, r.side or "—", r.view, r.group] for r in REGIONS]
    assert rows == in_code


# -- the visit ID and validation -----------------------------------------------------------------------------


def test_the_visit_id_is_fixed_by_athlete_and_second():
    # sha256("A01\n1709544615"): stored IDs must never change with a new release
    assert visit_id_for("A01", T0) == "v-2d242da57803"
    assert visit_id_for("A01", T0) == visit_id_for("A01", T0 + 999)
    assert visit_id_for("A01", T0) != visit_id_for("A01", T0 + 1000)
    assert visit_id_for("A01", T0) != visit_id_for("A02", T0)
    v = visit(at_ms=T0 + 999)
    assert v.at_ms == T0 and v.visit_id == visit_id_for("A01", T0) and v.regions == ("calf_l", "hamstring_r")


def test_a_visit_may_be_now_but_not_later_than_the_allowed_lead():
    assert visit(at_ms=NOW).at_ms == NOW
    assert visit(at_ms=NOW + 999).at_ms == NOW  # the same second as now
    future = r"^visit time 2024-03-11T09:30:16Z is in the future \(now 2024-03-11T09:30:15Z\)$"
    with pytest.raises(FutureVisitError, match=future):
        visit(at_ms=NOW + 1000)
    ahead = NOW + MAX_AHEAD_API_MS
    assert new_visit("A01", ahead, "lumbar", now_ms=NOW, max_ahead_ms=MAX_AHEAD_API_MS).at_ms == ahead
    with pytest.raises(FutureVisitError):
        new_visit("A01", ahead + 1000, "lumbar", now_ms=NOW, max_ahead_ms=MAX_AHEAD_API_MS)
    assert MAX_AHEAD_API_MS == 86_400_000
    assert new_visit("A01", NOW + MAX_AHEAD_CLI_MS, "lumbar", now_ms=NOW, max_ahead_ms=MAX_AHEAD_CLI_MS).at_ms > NOW
    with pytest.raises(FutureVisitError):
        new_visit("A01", NOW + MAX_AHEAD_CLI_MS + 1000, "lumbar", now_ms=NOW, max_ahead_ms=MAX_AHEAD_CLI_MS)
    assert MAX_AHEAD_CLI_MS == 300_000


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"athlete": "A 01"}, r"^athlete 'A 01': not a pseudonymous ID"),
        ({"athlete": "A01\n"}, r"^athlete 'A01\\n': not a pseudonymous ID"),
        ({"athlete": "x" * 33}, "not a pseudonymous ID"),
        ({"therapist": "Dr. Jane Doe"}, r"^therapist 'Dr. Jane Doe': not a pseudonymous code"),
        ({"regions": ""}, "^no region given"),
        ({"regions": "calf_l,knee"}, r"^unknown region 'knee': allowed are calf_l"),
        ({"needles": -1}, r"^needles: -1 is outside 0-1000$"),
        ({"needles": 1001}, r"^needles: 1001 is outside 0-1000$"),
        ({"needles": True}, r"^needles: True is not a whole number$"),
        ({"needles": 2.0}, r"^needles: 2.0 is not a whole number$"),
        ({"note": "x" * 501}, r"^note: 501 characters, at most 500 allowed$"),
        ({"note": "sore\nafter"}, r"^note: control character or line break '\\n' not allowed"),
        ({"note": "a\x00b"}, "control character"),
        ({"note": "a\u2028b"}, "line break"),
        ({"at_ms": -1000}, "before 1970"),
        ({"at_ms": 1.5e12}, "not integer milliseconds"),
    ],
)
def test_bad_visits_are_refused_with_one_line(changes, problem):
    with pytest.raises(VisitError, match=problem) as caught:
        visit(**changes)
    assert "\n" not in str(caught.value)


def test_region_errors_are_visit_errors_with_the_vocabulary():
    with pytest.raises(UnknownVisitRegionError) as caught:
        visit(regions="calf_l,knee")
    assert isinstance(caught.value, UnknownRegionError) and isinstance(caught.value, VisitError)
    assert caught.value.unknown == ("knee",) and caught.value.allowed == REGION_NAMES


def test_optional_values_at_their_limits_are_accepted_and_blanks_are_none():
    v = visit(needles=0, note="  " + "n" * 500 + "  ", therapist="T1")
    assert (v.needles, len(v.note or ""), v.therapist) == (0, 500, "T1")
    assert visit(needles=1000).needles == 1000
    blank = visit(note="   ", therapist=" ")
    assert (blank.note, blank.therapist, blank.needles) == (None, None, None)
    assert visit(note="tab\tinside").note == "tab\tinside"


# -- both stores ---------------------------------------------------------------------------------------------


def test_visits_round_trip(each_store: Store):
    full = visit("A01", T0, "lumbar,calf_l", therapist="T1", needles=12, note='quads "tight", \\ = ok; ✓ né')
    bare = visit("A01", T0 + 86_400_000, "glute_med_r")
    other = visit("B-2.x", T0 + 1000, "upper_trap_l,upper_trap_r")
    assert write_visits(each_store, [bare, full, other]) == 3
    assert read_visits(each_store) == [full, other, bare]
    assert read_visits(each_store, "A01") == [full, bare]
    assert read_visits(each_store, "B-2.x") == [other]
    assert read_visits(each_store, "nobody") == []
    assert read_visits(each_store, "A01", start_ms=T0 + 1, end_ms=T0 + 86_400_000) == []
    assert read_visits(each_store, "A01", start_ms=T0, end_ms=T0 + 86_400_001) == [full, bare]
    assert find_visit(each_store, full.visit_id) == full
    assert find_visit(each_store, "v-000000000000") is None
    assert find_visit(each_store, "") is None
    assert full.note == 'quads "tight", \\ = ok; ✓ né' and full.regions == ("calf_l", "lumbar")


def test_reading_an_empty_store_gives_no_visits(each_store: Store):
    assert read_visits(each_store) == [] and find_visit(each_store, visit_id_for("A01", T0)) is None
    with pytest.raises(VisitNotFoundError, match=r"^visit 'v-123': no such visit"):
        remove_visit(each_store, "v-123")
    assert each_store.count(VISIT.name) == 0


def test_the_same_visit_twice_is_one_visit(each_store: Store):
    first = visit(note="first", needles=4, therapist="T1")
    write_visits(each_store, [first])
    again = visit(at_ms=T0 + 500, regions="lumbar")  # same second: same visit, new regions, no optional fields
    assert again.visit_id == first.visit_id
    write_visits(each_store, [again, again])
    assert each_store.count(VISIT.name) == 1
    # the regions are replaced; optional fields the second write left out are kept (both stores merge fields)
    assert read_visits(each_store) == [Visit(first.visit_id, "A01", T0, ("lumbar",), "T1", 4, "first")]
    write_visits(each_store, [visit(regions="lumbar", note="second", needles=0)])
    assert read_visits(each_store) == [Visit(first.visit_id, "A01", T0, ("lumbar",), "T1", 0, "second")]


def test_remove_writes_a_tombstone_and_a_re_add_revives(each_store: Store):
    kept, removed = visit(at_ms=T0 - 60_000, regions="lumbar"), visit(note="n", needles=3)
    write_visits(each_store, [kept, removed])
    assert remove_visit(each_store, removed.visit_id) == removed
    assert read_visits(each_store) == [kept] and find_visit(each_store, removed.visit_id) is None
    assert each_store.count(VISIT.name) == 2  # nothing deleted
    (series,) = [s for s in each_store.series("A01") if s.tags.get("visit_id") == removed.visit_id]
    assert series.fields["removed"] == "boolean" and series.points == 1
    with pytest.raises(VisitNotFoundError, match=rf"^visit '{removed.visit_id}': no such visit"):
        remove_visit(each_store, removed.visit_id)
    write_visits(each_store, [visit(regions="calf_l,hamstring_r")])
    assert read_visits(each_store) == [kept, removed]  # revived with its note and needles
    assert each_store.count(VISIT.name) == 2


def test_a_visit_whose_id_does_not_match_is_not_written(each_store: Store):
    good = visit()
    forged = Visit("v-000000000000", good.athlete, good.at_ms, good.regions)
    with pytest.raises(VisitError, match="the ID does not match"):
        write_visits(each_store, [good, forged])
    assert each_store.count(VISIT.name) == 0


def test_writing_and_removing_a_visit_marks_the_analysis_due_from_its_time(each_store):
    """A visit mutes the flags of its quiet window, so the days from the visit on are analysed again."""
    from ingest.analysis_due import clear_due, read_due

    earlier = new_visit("A01", T0, "calf_l", now_ms=NOW)
    later = new_visit("A01", T0 + 3_600_000, "lumbar", now_ms=NOW)
    write_visits(each_store, [later, earlier])
    assert read_due(each_store) == {"A01": T0}
    clear_due(each_store, {"A01": T0})
    remove_visit(each_store, later.visit_id)
    assert read_due(each_store) == {"A01": T0 + 3_600_000}

"""Morning check-in records (ingest/wellness.py, the `wellness` and `soreness` measurements), on both stores."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.model import SORENESS, WELLNESS, batch_problems
from ingest.regions import REGION_NAMES
from ingest.store.base import Store
from ingest.wellness import (
    FutureWellnessError,
    UnknownSoreRegionError,
    Wellness,
    WellnessError,
    find_submission,
    read_wellness,
    validate_wellness,
    wellness_batches,
    write_wellness,
)

T0 = int(dt.datetime(2025, 5, 6, 6, 45, 12, tzinfo=dt.UTC).timestamp() * 1000)
DAY_MS = 86_400_000


def checkin(athlete: str = "A01", time_ms: int = T0, items=(2, 3, 4, 5), **optional) -> Wellness:
    return validate_wellness(athlete, time_ms, *items, **optional)


def test_validate_keeps_the_values_and_sums_the_hooper_index():
    w = checkin(time_ms=T0 + 999, pain=True, aftercare_followed=False, regions={"calf_l": 6, "lumbar": 1, "calf_r": 0})
    assert (w.athlete, w.time_ms, w.sleep_quality, w.fatigue, w.soreness, w.stress) == ("A01", T0, 2, 3, 4, 5)
    assert w.hooper_index == 14 and w.pain is True and w.aftercare_followed is False
    assert w.regions == {"calf_l": 6, "lumbar": 1}  # rated 0 = not sore: left out
    assert w.source == "checkin" and w.submission_id is None
    assert checkin(items=(1, 1, 1, 1)).hooper_index == 4 and checkin(items=(7, 7, 7, 7)).hooper_index == 28
    assert checkin(regions={"calf_l": 1, "calf_r": 10}).regions == {"calf_l": 1, "calf_r": 10}
    assert checkin("A01", np.int64(T0), (np.int64(1), 2, 3, 7)).sleep_quality == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"athlete": "A 01"}, r"^athlete 'A 01': not a pseudonymous ID"),
        ({"athlete": ""}, r"^athlete '': not a pseudonymous ID"),
        ({"time_ms": -1000}, r"^check-in time -1000 ms: before 1970"),
        ({"time_ms": 1.5}, r"^check-in time 1.5: not integer milliseconds"),
        ({"items": (0, 3, 3, 3)}, r"^sleep_quality: 0 is outside 1-7$"),
        ({"items": (3, 8, 3, 3)}, r"^fatigue: 8 is outside 1-7$"),
        ({"items": (3, 3, 2.5, 3)}, r"^soreness: 2.5 is not a whole number$"),
        ({"items": (3, 3, 3, True)}, r"^stress: True is not a whole number$"),
        ({"pain": "yes"}, r"^pain: 'yes' is not yes/no"),
        ({"aftercare_followed": 1}, r"^aftercare_followed: 1 is not yes/no"),
        ({"regions": {"calf_l": 11}}, r"^region calf_l: 11 is outside 0-10$"),
        ({"regions": {"calf_l": -1}}, r"^region calf_l: -1 is outside 0-10$"),
        ({"regions": ["calf_l"]}, r"^regions: must map region names to ratings, not list$"),
        ({"submission_id": ""}, r"^submission_id: '' is not a non-empty text$"),
        ({"submission_id": "a" * 65}, r"^submission_id: at most 64 letters"),
        ({"submission_id": "a b"}, r"^submission_id: at most 64 letters"),
        ({"source": "ble"}, r"^source 'ble': not one of checkin, csv, history$"),
        ({"note": "a\nb"}, r"^note: control character or line break '\\n' not allowed"),
        ({"note": "x" * 501}, r"^note: 501 characters, at most 500 allowed$"),
        ({"note": 5}, r"^note: must be text, not int$"),
    ],
)
def test_validate_names_the_input_and_the_problem(kwargs, message):
    with pytest.raises(WellnessError, match=message):
        checkin(**kwargs)


def test_unknown_regions_are_named_and_the_future_is_refused_exactly_after_the_tolerance():
    with pytest.raises(UnknownSoreRegionError) as caught:
        checkin(regions={"knee_l": 3, "calf_l": 2, "calf": 1})
    assert caught.value.unknown == ("calf", "knee_l") and caught.value.allowed == REGION_NAMES
    assert isinstance(caught.value, ValueError) and str(caught.value).startswith("unknown regions 'calf', 'knee_l'")
    assert checkin(time_ms=T0 + 60_000, now_ms=T0, max_ahead_ms=60_000).time_ms == T0 + 60_000
    with pytest.raises(FutureWellnessError, match=r"^check-in time 2025-05-06T06:46:13Z is in the future"):
        checkin(time_ms=T0 + 61_000, now_ms=T0, max_ahead_ms=60_000)
    assert checkin(submission_id="a" * 64).submission_id == "a" * 64


def test_the_batches_are_declared_by_the_model():
    w = checkin(pain=False, regions={"hamstring_r": 4, "lumbar": 2}, submission_id="f-1")
    batches = wellness_batches(w)
    assert [b.measurement for b in batches] == [WELLNESS.name, SORENESS.name, SORENESS.name]
    assert all(batch_problems(b) == [] for b in batches)
    assert batches[0].fields["hooper_index"].tolist() == [14] and "aftercare_followed" not in batches[0].fields
    assert [b.tags["region"] for b in batches[1:]] == ["hamstring_r", "lumbar"]
    assert all(b.time_ms.tolist() == [T0] for b in batches)


def test_check_ins_round_trip(each_store: Store):
    note = 'legs "heavy" <b>, \\ ✓ né'
    sore = {"calf_l": 7, "calf_r": 3}
    full = checkin(pain=True, aftercare_followed=True, regions=sore, submission_id="s-1", note=note)
    bare = checkin(time_ms=T0 + DAY_MS, items=(1, 1, 1, 1))
    other = checkin("B-2.x", T0 + 1000, (7, 7, 7, 7), regions={"cervical": 10}, source="csv")
    assert write_wellness(each_store, [bare, full, other]) == 3 + 3
    assert read_wellness(each_store, "A01") == [full, bare]
    assert read_wellness(each_store, "B-2.x") == [other]
    assert read_wellness(each_store, "nobody") == []
    assert read_wellness(each_store, "A01", T0 + 1, T0 + DAY_MS) == []
    assert read_wellness(each_store, "A01", T0, T0 + DAY_MS + 1) == [full, bare]
    assert read_wellness(each_store, "A01", T0 + DAY_MS) == [bare]
    assert find_submission(each_store, "A01", "s-1") == full
    assert find_submission(each_store, "A01", "s-1", T0 + 1) is None
    assert find_submission(each_store, "B-2.x", "s-1") is None
    assert each_store.count(WELLNESS.name) == 3 and each_store.count(SORENESS.name, "A01") == 2
    assert full.note == note and bare.note is None and checkin(note="  ").note is None


def test_the_same_check_in_twice_is_stored_once(each_store: Store):
    w = checkin(regions={"calf_l": 5}, submission_id="s-2")
    write_wellness(each_store, [w])
    write_wellness(each_store, [w, w])
    assert read_wellness(each_store, "A01") == [w]
    assert each_store.count(WELLNESS.name) == 1 and each_store.count(SORENESS.name) == 1


def test_points_without_all_four_items_are_skipped(each_store: Store):
    partial = WELLNESS.batch({"athlete": "A01", "source": "csv"}, [T0], {"sleep_quality": [3], "fatigue": [3]})
    each_store.write([partial])
    assert read_wellness(each_store, "A01") == []


@given(
    items=st.tuples(*(st.integers(-2, 10) for _ in range(4))),
    regions=st.dictionaries(st.sampled_from(("calf_l", "lumbar", "knee")), st.integers(-3, 13), max_size=3),
)
def test_validate_either_returns_a_check_in_in_range_or_raises_one_line(items, regions):
    try:
        w = checkin(items=items, regions=regions)
    except WellnessError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert all(1 <= v <= 7 for v in items) and 4 <= w.hooper_index <= 28
    assert all(1 <= r <= 10 for r in w.regions.values()) and set(w.regions) <= set(REGION_NAMES)

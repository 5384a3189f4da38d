"""The episode lifecycle (monitor.lifecycle): quiet windows, post-visit days and how an episode ends, with every
boundary pinned (docs/episodes.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pytest

from ingest.timeline import DAY_MS, day_start_ms
from monitor.alerts import AftercareRecord, EpisodeState, StateError
from monitor.lifecycle import HOUR_MS, Episode, episode_of, episodes, in_quiet, post_visit_days, quiet_ms
from monitor.thresholds import load_thresholds

D0 = dt.date(2026, 3, 1)
QUIET = 24 * HOUR_MS


def day(i: int) -> dt.date:
    return D0 + dt.timedelta(days=i)


def at(i: int, hours: float = 0.0) -> int:
    """Day ``i`` + ``hours`` in ms."""
    return day_start_ms(day(i)) + round(hours * HOUR_MS)


def days(pattern: str) -> dict[dt.date, bool]:
    """'TTF.T' → {D0: True, D0+1: True, D0+2: False, D0+4: True} ('.' = no daily point)."""
    return {day(i): c == "T" for i, c in enumerate(pattern) if c != "."}


def walk(pattern: str, visits=(), *, end_after=3, max_days=28, quiet=QUIET, announced=None) -> list[Episode]:
    return episodes(
        days(pattern),
        list(visits),
        D0,
        day(len(pattern) - 1),
        end_after_days=end_after,
        max_days=max_days,
        quiet_window_ms=quiet,
        announced=announced,
    )


def muted(visit_ms: int, n: int = 5, quiet: int = QUIET) -> list[int]:
    """Indices of the days 0..n-1 that overlap the quiet window of one visit."""
    starts = np.array([at(i) for i in range(n)], np.int64)
    return np.flatnonzero(post_visit_days(starts, np.array([visit_ms], np.int64), quiet)).tolist()


# -- quiet window and post-visit days ------------------------------------------------------------------------


def test_the_default_quiet_window_is_24_hours_and_the_advice_names_nsaids_and_ice():
    idn = load_thresholds().idn
    assert quiet_ms(idn.quiet_hours) == QUIET == 86_400_000 and idn.episode_max_days == 28
    assert "NSAIDs" in idn.aftercare_advice and "ice" in idn.aftercare_advice and "24 h" in idn.aftercare_advice
    assert quiet_ms(1.5) == 5_400_000
    with pytest.raises(ValueError, match="≥ 0"):
        quiet_ms(-1)


def test_a_moment_is_quiet_from_the_visit_up_to_but_not_at_visit_plus_quiet_hours():
    visit = at(2, 10)
    assert not in_quiet(visit - 1, [visit], QUIET)
    assert in_quiet(visit, [visit], QUIET) and in_quiet(visit + QUIET - 1, [visit], QUIET)
    assert not in_quiet(visit + QUIET, [visit], QUIET), "the window is half-open: it ends at visit + 24 h"
    assert not in_quiet(visit, [visit], 0), "quiet_hours = 0: no quiet period"


@pytest.mark.parametrize(
    ("visit", "expected"),
    [
        (at(1, 15), [1, 2]),  # a visit in the afternoon: the visit day and the next
        (at(1, 0), [1]),  # at 00:00: the next day starts exactly at visit + 24 h, so it is not post-visit
        (at(1, 0) + 1000, [1, 2]),  # one second later the window reaches into the next day
        (at(1) - 1000, [0, 1]),  # 23:59:59 the day before
        (at(1, 23) + 59 * 60_000 + 59_000, [1, 2]),
    ],
)
def test_post_visit_days_are_the_days_overlapping_the_quiet_window(visit, expected):
    assert muted(visit) == expected


def test_the_quiet_window_length_is_configurable():
    assert muted(at(1, 15), quiet=48 * HOUR_MS) == [1, 2, 3]
    assert muted(at(1, 15), quiet=9 * HOUR_MS) == [1], "15:00 + 9 h = 24:00: the next day is not reached"
    assert muted(at(1, 15), quiet=0) == []
    assert muted(at(1, 15), quiet=1) == [1]


# -- the lifecycle -------------------------------------------------------------------------------------------


def test_a_visit_while_the_episode_is_open_closes_it_as_treated():
    found = walk("TTTT", [("v-1", at(2, 10))])
    assert found == [Episode(day(0), day(1), "treated", at(2, 10), "v-1")], "days 2 and 3 are post-visit"
    assert walk("TTTTT", [("v-1", at(2, 10))])[0].last == day(4), "the run goes on after the visit"


def test_a_visit_in_a_gap_of_the_run_still_treats_the_open_episode():
    assert walk("TTFF", [("v-1", at(3, 9))])[0].reason == "treated"


@pytest.mark.parametrize(("offset_ms", "treated"), [(-1000, False), (0, True)])
def test_a_visit_treats_only_an_episode_that_began_by_then(offset_ms, treated):
    """Pinned at 00:00 UTC of the episode's first day (quiet_hours = 0 so that no day is post-visit)."""
    found = walk("..TTT", [("v-1", at(2) + offset_ms)], quiet=0)
    assert len(found) == 1 and found[0].start == day(2)
    assert found[0].reason == ("treated" if treated else None)


def test_only_the_first_visit_closes_the_episode():
    found = walk("TTTTT", [("v-2", at(3, 9)), ("v-1", at(1, 9))])
    assert [(e.reason, e.visit_id) for e in found] == [("treated", "v-1")]


def test_an_episode_resolves_on_the_third_day_without_a_recommendation():
    assert walk("TTFF") == [Episode(day(0), day(1))], "two days without: still open"
    assert walk("TTFFF") == [Episode(day(0), day(1), "resolved", at(4))]
    assert walk("TTF.FF") == [Episode(day(0), day(1), "resolved", at(5))], "a missing day neither ends nor extends"
    assert walk("TTFFFT") == [Episode(day(0), day(1), "resolved", at(4)), Episode(day(5), day(5))]


def test_an_episode_expires_after_max_days_unless_a_visit_came_first():
    assert walk("TTTTT", max_days=5) == [Episode(day(0), day(4))], "open on its 5th day"
    assert walk("TTTTTT", max_days=5) == [Episode(day(0), day(5), "expired", at(5))]
    assert walk("T.....", max_days=5)[0].reason == "expired", "expiry needs no data"
    last_second = walk("TTTTTT", [("v-1", at(5) - 1000)], max_days=5, quiet=0)[0]
    assert (last_second.reason, last_second.visit_id) == ("treated", "v-1")
    too_late = walk("TTTTTT", [("v-1", at(5))], max_days=5, quiet=0)[0]
    assert (too_late.reason, too_late.visit_id) == ("expired", None)


def test_a_treated_or_expired_episode_keeps_the_rest_of_its_run():
    """One alert per run: the recommendation continuing after a visit (the 7-day means still hold the days before
    it) opens no new episode until the run has ended."""
    assert len(walk("TTTTTTTTTT", [("v-1", at(1, 9))])) == 1
    assert len(walk("TTTTTTTTTT", max_days=3)) == 1
    after = walk("TTTTFFFTT", [("v-1", at(1, 9))])
    assert [(e.start, e.reason) for e in after] == [(day(0), "treated"), (day(7), None)]


def test_post_visit_days_open_no_episode():
    """A routine visit without an open episode: the soreness of the visit day and the day after is expected."""
    assert walk("...TT", [("v-1", at(3, 15))]) == []
    later = walk("...TTT", [("v-1", at(3, 15))])
    assert [e.start for e in later] == [day(5)], "day 5 starts 33 h after the visit: it counts"


def test_the_day_starting_exactly_at_visit_plus_quiet_hours_opens_an_episode():
    found = walk("...TT", [("v-1", at(3))])
    assert [e.start for e in found] == [day(4)] and found[0].is_open


def test_post_visit_days_neither_extend_nor_end_a_run():
    """Days 3 and 4 are post-visit (visit on day 3 at 15:00): they count as missing."""
    visit = [("v-1", at(3, 15))]
    assert [(e.start, e.reason) for e in walk("TFFFFT", [], quiet=0)] == [(day(0), "resolved"), (day(5), None)]
    assert [(e.start, e.last, e.reason) for e in walk("TFFFFT", visit)] == [(day(0), day(5), "treated")]
    assert [(e.start, e.reason) for e in walk("TFFTTFT", [], quiet=0)] == [(day(0), None)]
    assert [(e.start, e.reason) for e in walk("TFFTTFT", visit)] == [(day(0), "treated"), (day(6), None)], (
        "days 1, 2 and 5 without a recommendation end the run: the post-visit days 3 and 4 do not extend it"
    )


def test_an_announced_episode_is_found_even_when_its_first_day_changed():
    found = walk("FTT", announced=D0)
    assert found == [Episode(day(0), day(2))]
    assert episode_of(found, D0) is found[0] and episode_of(found, day(3)) is None


def test_visits_after_the_last_day_and_an_empty_span_are_ignored():
    assert walk("TT", [("v-1", at(2, 1))])[0].is_open
    assert episodes({}, [], day(3), day(2), end_after_days=3, max_days=28, quiet_window_ms=QUIET) == []
    with pytest.raises(ValueError, match="≥ 1"):
        walk("T", end_after=0)


def test_the_walk_matches_a_brute_force_rule_for_every_visit_hour():
    """Over a week of recommendations, a visit at every hour of days 0–5: no episode starts on a day overlapping
    the quiet window, and an episode open at the visit is treated by it."""
    pattern = "FTTTTTTFFFTT"
    for hour in range(0, 6 * 24):
        visit = at(0) + hour * HOUR_MS
        found = walk(pattern, [("v", visit)])
        for e in found:
            start = day_start_ms(e.start)
            assert not (visit < start + DAY_MS and start < visit + QUIET), (hour, e)
        open_at_visit = [e for e in found if day_start_ms(e.start) <= visit and (e.is_open or e.closed_ms >= visit)]
        assert all(e.reason == "treated" and e.closed_ms == visit for e in open_at_visit), (hour, found)


def test_a_clinic_sets_its_quiet_hours_expiry_and_advice_and_bad_values_are_one_clear_error(tmp_path):
    custom = tmp_path / "clinic.toml"
    custom.write_text('[idn]\nquiet_hours = 36.5\nepisode_max_days = 14\naftercare_advice = "Rest the calf."\n')
    idn = load_thresholds(custom).idn
    assert (idn.quiet_hours, idn.episode_max_days, idn.aftercare_advice) == (36.5, 14, "Rest the calf.")
    assert load_thresholds(custom).idn.watch_window_days == load_thresholds().idn.watch_window_days
    custom.write_text(f'[idn]\naftercare_advice = "{"x" * 1000}"\n')
    assert len(load_thresholds(custom).idn.aftercare_advice) == 1000, "the longest advice allowed"
    custom.write_text('[idn]\naftercare_advice = "  Rest the calf.\\n"\n')
    assert load_thresholds(custom).idn.aftercare_advice == "Rest the calf.", "trimmed once, where it is loaded"
    custom.write_text("[idn]\nquiet_hours = 0\n")
    assert quiet_ms(load_thresholds(custom).idn.quiet_hours) == 0, "0 turns the quiet period off"
    bad = {
        "[idn]\nquiet_hours = -1\n": "idn.quiet_hours must be a number of hours ≥ 0, not -1.0",
        "[idn]\nquiet_hours = inf\n": "idn.quiet_hours must be a number of hours ≥ 0, not inf",
        '[idn]\nquiet_hours = "24"\n': "idn.quiet_hours must be a number",
        "[idn]\nepisode_max_days = 0\n": "idn.episode_max_days and idn.watch_window_days must be ≥ 1",
        "[idn]\nepisode_max_days = 7.5\n": "whole number",
        '[idn]\naftercare_advice = "  "\n': "idn.aftercare_advice must be text of 1 to 1000 characters",
        f'[idn]\naftercare_advice = "{"x" * 1001}"\n': "1 to 1000 characters",
        "[idn]\naftercare_advice = 3\n": "idn.aftercare_advice must be a string",
    }
    for text, message in bad.items():
        custom.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_thresholds(custom)


def test_the_state_file_keeps_episode_ends_and_recent_reminders(tmp_path):
    path = tmp_path / "serve-state.json"
    open_record = {"athlete": "A1", "episode_id": "idn/A1/2026-03-01", "episode_start": "2026-03-01"}
    path.write_text(json.dumps({"version": 1, "athletes": {"A1": open_record | {"sent_ms": 5, "http_status": 200}}}))
    state = EpisodeState(path)  # a version-1 file, written before episode ends and reminders
    first = state.last("A1")
    assert first is not None and not first.closed and state.aftercare("v-1") is None
    ended = dataclasses.replace(first, closed_reason="treated", closed_ms=at(1, 9), visit_id="v-1", closed_status=202)
    state.record(ended)
    state.record(first)  # the same episode without its end never wins
    old = AftercareRecord("A1", "v-0", at(-40), at(-39), at(-40), 200)
    new = AftercareRecord("A1", "v-1", at(1, 9), at(2, 9), at(1, 9) + 60_000, 200)
    state.record_aftercare(old)
    state.record_aftercare(new)  # the old reminder's window ended more than 30 days before: dropped
    state.close()
    reopened = EpisodeState(path)
    try:
        assert reopened.last("A1") == ended and reopened.aftercare("v-1") == new and reopened.aftercare("v-0") is None
        assert json.loads(path.read_text())["version"] == 2
    finally:
        reopened.close()
    path.write_text(json.dumps({"version": 2, "athletes": {}, "aftercare": {"v-1": {"athlete": "A1"}}}))
    with pytest.raises(StateError, match="unexpected content"):
        EpisodeState(path)

"""Sessions found in BLE heart-rate streams: the detection rule's boundaries, and the load job writing strap sessions
(hand-checked figures, TRIMP against an independent sum, idempotent, never beside another session) in both stores."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from fit_tool_writer import write_run_fit
from store_contract import CountingStore

from ingest.importer import import_file
from ingest.store.base import PointBatch
from ingest.store.sqlite import SQLiteStore
from monitor.history import plan_update
from monitor.hr_profile import set_profile
from monitor.hr_sessions import SESSION_GAP_MAX_S, SESSION_MIN_S, find_hr_sessions
from monitor.session_loads import update_session_loads

S = 1000  # ms per second
MIN = 60 * S


# --- the pure rule -----------------------------------------------------------------------------------------------


def test_limits_are_the_documented_ones():
    assert SESSION_GAP_MAX_S == 300 and SESSION_MIN_S == 600


def test_a_gap_of_exactly_5_min_keeps_the_session_and_one_ms_more_splits_it():
    first = np.arange(0, 11 * MIN + 1, 30 * S)  # 11 min, a sample every 30 s
    for gap_ms, sessions in ((5 * MIN, 1), (5 * MIN + 1, 2)):
        t = np.r_[first, first[-1] + gap_ms + first]
        found = find_hr_sessions(t, np.full(len(t), 120.0))
        assert len(found) == sessions
    found = find_hr_sessions(t, np.full(len(t), 120.0))
    np.testing.assert_array_equal(found.start_ms, [0, 16 * MIN + 1])
    np.testing.assert_array_equal(found.duration_s, [660.0, 660.0])


def test_a_session_lasts_longer_than_10_min():
    for duration_ms, sessions in ((10 * MIN, 0), (10 * MIN + 1, 1)):  # exactly 10 min: a morning reading's length
        t = np.r_[np.arange(0, 10 * MIN, S), duration_ms]
        assert len(find_hr_sessions(t, np.full(len(t), 130.0))) == sessions


def test_figures_are_per_session_and_a_dropped_run_does_not_leak():
    # 11 min at 100 bpm + one 150, a 4-min reading at 190 bpm 6 min later, then 11 min at 140 bpm + one 160
    a = np.arange(0, 11 * MIN + 1, 60 * S)
    t = np.r_[a, 17 * MIN + np.arange(0, 4 * MIN + 1, 60 * S), 27 * MIN + a]
    hr = np.r_[np.full(11, 100.0), 150.0, np.full(5, 190.0), np.full(11, 140.0), 160.0]
    found = find_hr_sessions(t, hr)
    np.testing.assert_array_equal(found.start_ms, [0, 27 * MIN])
    np.testing.assert_array_equal(found.end_ms, [11 * MIN, 38 * MIN])
    np.testing.assert_array_equal(found.samples, [12, 12])
    np.testing.assert_allclose(found.avg_hr_bpm, [(11 * 100 + 150) / 12, (11 * 140 + 160) / 12])
    np.testing.assert_array_equal(found.max_hr_bpm, [150.0, 160.0])  # not the reading's 190 between them


def test_samples_without_hr_are_ignored_and_do_not_bridge_a_gap():
    t = np.r_[np.arange(0, 11 * MIN + 1, MIN), 14 * MIN, 17 * MIN + np.arange(0, 11 * MIN + 1, MIN)]
    hr = np.r_[np.full(12, 120.0), np.nan, np.full(12, 130.0)]  # the 14-min sample has no HR: a 6-min gap
    assert len(find_hr_sessions(t, hr)) == 2
    hr[12] = 0.0  # a strap's 0 bpm (no contact) is no HR either
    assert len(find_hr_sessions(t, hr)) == 2
    hr[12] = 125.0
    assert len(find_hr_sessions(t, hr)) == 1


def test_empty_and_unsorted_streams():
    assert len(find_hr_sessions(np.zeros(0, np.int64), np.zeros(0))) == 0
    with pytest.raises(ValueError, match="not sorted"):
        find_hr_sessions(np.array([2, 1]), np.array([100.0, 100.0]))


# --- the load job on strap streams -------------------------------------------------------------------------------

DAY = dt.datetime(2026, 4, 6, tzinfo=dt.UTC)
MORNING_MS = int((DAY + dt.timedelta(hours=6)).timestamp() * 1000)
TRAINING_MS = int((DAY + dt.timedelta(hours=17)).timestamp() * 1000)
HR_MAX, HR_REST = 190.0, 50.0


@pytest.fixture
def store(each_store):
    return each_store


def _ble_hr(athlete: str, start_ms: int, bpm: np.ndarray) -> PointBatch:
    """A gateway's strap stream: one `hr` point a second."""
    tags = {"athlete": athlete, "device": "strap", "source": "ble"}
    return PointBatch("hr", tags, start_ms + np.arange(len(bpm)) * S, {"bpm": bpm.astype(np.int64)})


def _training_hr() -> np.ndarray:
    """40 min at 1 Hz: 20 min at 120 bpm, 20 min at 160 bpm, and a last sample at 180 bpm (2401 samples)."""
    return np.r_[np.full(1200, 120.0), np.full(1200, 160.0), 180.0]


def _banister_male(minutes_at: dict[float, float]) -> float:
    """Banister's TRIMP by hand: Σ minutes · x · 0.64 e^(1.92 x), x = HR reserve fraction."""
    total = 0.0
    for bpm, minutes in minutes_at.items():
        x = (bpm - HR_REST) / (HR_MAX - HR_REST)
        total += minutes * x * 0.64 * math.exp(1.92 * x)
    return total


FIELDS = ["duration_s", "elapsed_s", "avg_hr_bpm", "max_hr_bpm", "hr_samples", "trimp", "load_hr_max_bpm"]


def test_strap_training_becomes_a_session_with_its_load(store):
    set_profile(store, "S1", MORNING_MS - 86_400_000, hr_max_bpm=HR_MAX, hr_rest_bpm=HR_REST, sex="male")
    morning = 55.0 + np.arange(240) % 3  # a 4-min morning HRV reading: not a training session
    store.write([_ble_hr("S1", MORNING_MS, morning), _ble_hr("S1", TRAINING_MS, _training_hr())])

    counts = update_session_loads(store)  # S1 has HR but no session yet: still in the roster
    assert (counts.sessions_found, counts.sessions_grown, counts.updated) == (1, 0, 1)
    assert counts.first_updated_ms == {"S1": TRAINING_MS}
    frame = store.read("session", "S1", FIELDS, with_tags=["source", "sport"])
    assert frame.time_ms.tolist() == [TRAINING_MS]
    assert (frame.columns["source"][0], frame.columns["sport"][0]) == ("ble", "other")
    got = {name: frame.columns[name][0] for name in FIELDS}
    assert got["duration_s"] == got["elapsed_s"] == 2400.0 and got["hr_samples"] == 2401
    assert got["avg_hr_bpm"] == pytest.approx((1200 * 120 + 1200 * 160 + 180) / 2401)  # 140.0167 bpm
    assert got["max_hr_bpm"] == 180.0
    # each sample stands 1 s, the last one 0 s: 20 min at 120 and 20 min at 160 bpm
    assert got["trimp"] == pytest.approx(_banister_male({120.0: 20.0, 160.0: 20.0}))
    assert got["trimp"] == pytest.approx(62.1758, abs=1e-4)
    assert got["load_hr_max_bpm"] == HR_MAX

    counting = CountingStore(store)
    again = update_session_loads(counting, ["S1"])
    assert counting.writes == 0 and (again.sessions_found, again.sessions_grown, again.updated) == (0, 0, 0)
    assert again.unchanged == 1 and again.first_updated_ms == {}

    # the session goes on for 5 more minutes at 170 bpm: same point, longer, load recomputed
    store.write([_ble_hr("S1", TRAINING_MS + 2401 * S, np.full(300, 170.0))])
    grown = update_session_loads(store, ["S1"])
    assert (grown.sessions_found, grown.sessions_grown, grown.updated) == (0, 1, 1)
    assert grown.first_updated_ms == {"S1": TRAINING_MS}
    frame = store.read("session", "S1", FIELDS)
    assert frame.time_ms.tolist() == [TRAINING_MS]
    assert frame.columns["duration_s"][0] == 2700.0 and frame.columns["hr_samples"][0] == 2701
    assert frame.columns["max_hr_bpm"][0] == 180.0
    assert frame.columns["trimp"][0] == pytest.approx(_banister_male({120.0: 20.0, 160.0: 20.0, 180.0: 1 / 60,
                                                                      170.0: 299 / 60}))  # fmt: skip
    assert update_session_loads(CountingStore(store), ["S1"]).updated == 0


def test_no_strap_session_beside_another_session(store, tmp_path):
    run_start = dt.datetime(2026, 4, 6, 17, 0, tzinfo=dt.UTC)
    path = write_run_fit(tmp_path / "run.fit", run_start, np.full(1200, 150.0))
    assert import_file(store, path, "F1").status == "imported"  # a 20-min watch run
    strap_ms = int(run_start.timestamp() * 1000) - 5 * MIN  # the strap ran 5 min before and 20 min after it
    demo_ms = TRAINING_MS + 86_400_000
    store.write(
        [
            _ble_hr("F1", strap_ms, np.full(45 * 60, 140.0)),
            # a ble session written by someone else (the demo) with its own TRIMP, at the stream's first sample
            PointBatch("session", {"athlete": "F1", "source": "ble", "sport": "other"}, np.array([demo_ms]),
                       {"duration_s": np.array([900.0]), "trimp": np.array([21.5])}),
            _ble_hr("F1", demo_ms, np.full(15 * 60 + 1, 130.0)),
        ]
    )  # fmt: skip
    set_profile(store, "F1", strap_ms - 86_400_000, hr_max_bpm=HR_MAX, hr_rest_bpm=HR_REST)
    counting = CountingStore(store)
    counts = update_session_loads(counting, ["F1"])
    assert (counts.sessions_found, counts.sessions_grown, counts.kept, counts.updated) == (0, 0, 1, 1)
    assert counting.writes == 1  # the FIT run's load only
    frame = store.read("session", "F1", ["trimp", "hr_samples"], with_tags=["source"])
    assert frame.time_ms.tolist() == [int(run_start.timestamp() * 1000), demo_ms]
    assert frame.columns["source"].tolist() == ["fit", "ble"]
    assert np.isnan(frame.columns["hr_samples"]).all() and frame.columns["trimp"][1] == 21.5


def test_a_session_ending_where_the_stream_starts_counts_as_overlapping(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    tags = {"athlete": "E1", "source": "csv", "sport": "run"}
    ends_at = {"E1": TRAINING_MS, "E2": TRAINING_MS - 1}  # a logged session ending at the first sample, 1 ms before
    for athlete, end_ms in ends_at.items():
        store.write(
            [
                PointBatch("session", {**tags, "athlete": athlete}, np.array([end_ms - 30 * MIN]),
                           {"duration_s": np.array([1800.0])}),
                _ble_hr(athlete, TRAINING_MS, np.full(900, 130.0)),
            ]
        )  # fmt: skip
    assert update_session_loads(store, ["E1"]).sessions_found == 0
    assert update_session_loads(store, ["E2"]).sessions_found == 1
    store.close()


def test_analyze_plans_the_strap_only_athlete(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.write([_ble_hr("B1", TRAINING_MS, _training_hr())])
    set_profile(store, "B1", TRAINING_MS, hr_max_bpm=HR_MAX, hr_rest_bpm=HR_REST, sex="male")
    update = plan_update(store, DAY.date() + dt.timedelta(days=1))
    assert update.loads.sessions_found == 1 and update.loads.updated == 1
    assert update.loads.first_updated_ms == {"B1": TRAINING_MS}
    assert store.read("session", "B1", ["trimp"]).columns["trimp"][0] == pytest.approx(62.1758, abs=1e-4)
    store.close()


def test_a_new_session_is_due_for_analysis_even_without_a_load(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.write([_ble_hr("N1", TRAINING_MS, np.full(900, 95.0))])  # HRmax estimate 95 bpm: below 100, unusable
    counts = update_session_loads(store)
    assert (counts.sessions_found, counts.no_profile, counts.updated) == (1, 1, 0)
    assert counts.first_updated_ms == {"N1": TRAINING_MS}
    store.close()


def test_a_watch_file_imported_after_the_strap_session_supersedes_it(tmp_path):
    """A strap worn with a watch: the strap session is found first; the FIT file of the same run imported later
    marks it `superseded`, and the analysis counts the run once (the watch file's TRIMP)."""
    from monitor.analyze import analyze

    store = SQLiteStore(tmp_path / "s.sqlite")
    run_start = dt.datetime(2026, 4, 6, 17, 0, tzinfo=dt.UTC)
    start_ms = int(run_start.timestamp() * 1000)
    store.write([_ble_hr("W1", start_ms, np.full(30 * 60, 150.0))])
    set_profile(store, "W1", start_ms - 86_400_000, hr_max_bpm=HR_MAX, hr_rest_bpm=HR_REST)
    first = update_session_loads(store, ["W1"])
    assert (first.sessions_found, first.sessions_superseded) == (1, 0)
    path = write_run_fit(tmp_path / "run.fit", run_start + dt.timedelta(seconds=20), np.full(1790, 150.0))
    assert import_file(store, path, "W1").status == "imported"
    second = update_session_loads(store, ["W1"])
    assert (second.sessions_found, second.sessions_superseded) == (0, 1)
    assert second.first_updated_ms["W1"] == start_ms  # the day is analysed again
    assert update_session_loads(CountingStore(store), ["W1"]).sessions_superseded == 0  # marked once
    frame = store.read("session", "W1", ["trimp", "superseded"], with_tags=["source"])
    assert frame.columns["source"].tolist() == ["ble", "fit"] and frame.columns["superseded"][0] == 1
    day = run_start.date()
    result = analyze(store, day, athletes=["W1"])
    assert result.athletes[0].indicators["daily_load"] == pytest.approx(frame.columns["trimp"][1])
    store.close()

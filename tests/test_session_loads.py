"""Session loads from HR streams: hand-worked TRIMP, zones and gap rule; the job on FIT runs in both stores."""

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
from monitor import load as ld
from monitor.hr_load import highest_rolling_mean_bpm, sample_intervals, session_hr_loads
from monitor.session_loads import update_session_loads

S = 1000  # ms per second
# no session in a ble HR stream (tests/test_hr_sessions.py)
NO_BLE = {"sessions_found": 0, "sessions_grown": 0, "sessions_superseded": 0}


def test_sample_intervals_cap_gaps_at_5_s_and_end_sessions():
    t = np.r_[np.arange(10), 14, 20, 100, 101] * S  # gap of exactly 5 s (kept), of 6 s (capped); new session
    session = np.r_[np.zeros(12, int), 1, 1]
    dt_s, continuous = sample_intervals(t, session, 2)
    np.testing.assert_array_equal(dt_s, np.r_[np.ones(9), 5.0, 5.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(continuous, np.r_[np.ones(10, bool), False, False, True, False])


def test_sample_intervals_follow_smart_recording():
    t = np.r_[0, 7, 14, 21, 28, 58] * S  # Garmin smart recording every 7 s, then a 30 s pause
    dt_s, continuous = sample_intervals(t, np.zeros(6, int), 1)
    np.testing.assert_array_equal(dt_s, [7, 7, 7, 7, 14, 0])  # cap = 2 × median interval = 14 s
    assert continuous.tolist() == [True, True, True, True, False, False]


def test_session_loads_hand_worked():
    rest, top = 50.0, 200.0
    # session 0: 61 samples at x = 0.5 (125 bpm), 1 Hz: 60 s counted (the last sample stands for 0 s)
    # session 1: one sample at each Edwards edge 100/120/140/160/180 bpm (50..90 % of 200) and one at 99 bpm,
    # 10 s apart with a cap of 20 s (median 10 s), the last one (200 bpm) standing for 0 s
    hr = np.r_[np.full(61, 125.0), 99.0, 100.0, 120.0, 140.0, 160.0, 180.0, 200.0]
    t = np.r_[np.arange(61), 1000 + 10 * np.arange(7)] * S
    session = np.r_[np.zeros(61, int), np.ones(7, int)]
    dt_s, _ = sample_intervals(t, session, 2)
    for sex in ("male", "female", "unspecified"):
        a, b = ld.TRIMP_COEFFICIENTS[sex]
        loads = session_hr_loads(hr, dt_s, session, 2, rest, top, sex)  # type: ignore[arg-type]
        assert loads.trimp[0] == pytest.approx(1.0 * 0.5 * a * math.exp(b * 0.5))
        x = np.array([49, 50, 70, 90, 110, 130]) / 150  # HR-reserve fractions of the samples that count
        assert loads.trimp[1] == pytest.approx(np.sum(10 / 60 * x * a * np.exp(b * x)))
    assert ld.TRIMP_COEFFICIENTS["unspecified"] == (0.75, 1.795)
    np.testing.assert_allclose(loads.zone_s[0], [0, 60, 0, 0, 0])  # 62.5 % HRmax: 60-70 %
    np.testing.assert_allclose(loads.zone_s[1], [10, 10, 10, 10, 10])  # each edge starts its zone; 99 bpm: none
    np.testing.assert_allclose(loads.trimp_edwards, [2.0, 10 / 60 * (1 + 2 + 3 + 4 + 5)])
    np.testing.assert_allclose(loads.hr_time_s, [60, 60])
    # the per-session sums are the scalar functions of monitor.load on each session's samples
    for k in (0, 1):
        m = session == k
        assert loads.trimp[k] == pytest.approx(ld.trimp_banister(hr[m], dt_s[m], rest, top, "unspecified"))
        assert loads.trimp_edwards[k] == pytest.approx(ld.trimp_edwards(hr[m], dt_s[m], top))


def test_edwards_edge_is_not_moved_by_floating_point():
    assert 100.0 * 135.45 / 150.5 < 90.0  # 89.99999999999999 without rounding
    assert ld.edwards_zone(np.array([135.45, 135.44, 75.25, 75.24]), 150.5).tolist() == [4, 3, 0, -1]


def test_highest_rolling_mean_needs_a_covered_window():
    def stream(hr: np.ndarray) -> float:
        t = np.arange(len(hr)) * S
        _, continuous = sample_intervals(t, np.zeros(len(hr), int), 1)
        return highest_rolling_mean_bpm(hr, t, continuous)

    base = np.full(120, 100.0)
    assert stream(np.r_[base[:40], np.full(30, 180.0), base[:50]]) == 180.0  # 30 samples in (t − 30 s, t]
    assert stream(np.r_[base[:40], np.full(29, 180.0), base[:51]]) == pytest.approx((29 * 180 + 100) / 30)
    # at the very start no window is covered (no sample 30 s before): the first covered window holds 29 × 180
    assert stream(np.r_[np.full(30, 180.0), base[:90]]) == pytest.approx((29 * 180 + 100) / 30)
    assert math.isnan(stream(np.full(30, 180.0)))
    t = np.r_[np.arange(40), np.arange(50, 90)] * S  # a 10 s gap: windows across it are not covered
    hr = np.r_[np.full(40, 100.0), np.full(40, 180.0)]
    _, continuous = sample_intervals(t, np.zeros(80, int), 1)
    assert highest_rolling_mean_bpm(hr, t, continuous) == 180.0  # 30 s after the gap, fully at 180
    # up to t = 79 s: 30 samples after the gap, but the sample 30 s before the last is across it: 100 bpm only
    assert highest_rolling_mean_bpm(hr[:70], t[:70], continuous[:70]) == 100.0


# --- the job on imported FIT runs -------------------------------------------------------------------------------

HR_MAX, HR_REST = 191.0, 47.0
DAY0 = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
RUN_DAYS = (0, 1, 3, 5, 8, 10, 12, 15, 17, 19)


def _run_hr(day: int, rng: np.random.Generator) -> np.ndarray:
    """20 min at 1 Hz between 55 and 80 % of HR reserve; every third run ends with 60 s flat out."""
    n = 1200
    x = 0.55 + 0.25 * (np.arange(n) / n) + rng.normal(0.0, 0.01, n)
    if day % 3 == 0:
        x[-60:] = 1.0
    return np.round(HR_REST + np.clip(x, 0, 1) * (HR_MAX - HR_REST))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[tuple[dt.datetime, np.ndarray, object]]:
    folder = tmp_path_factory.mktemp("runs")
    rng = np.random.default_rng(7)
    out = []
    for day in RUN_DAYS:
        start = DAY0 + dt.timedelta(days=day)
        hr = _run_hr(day, rng)
        hr[300:320] = np.nan  # 20 s without HR (strap lost): the gap rule caps it at 5 s
        out.append((start, hr, write_run_fit(folder / f"run-{day:02d}.fit", start, hr, serial_number=500 + day)))
    return out


def _mornings(rng: np.random.Generator) -> PointBatch:
    days = np.arange(21)
    t = int((DAY0 - dt.timedelta(hours=1)).timestamp() * 1000) + days * 86_400_000
    return PointBatch("readiness", {"athlete": "W1"}, t, {"mean_hr_bpm": HR_REST + rng.normal(0.0, 1.5, len(days))})


@pytest.fixture
def store(each_store):
    return each_store


def _expected_trimp(hr: np.ndarray, rest: float, top: float, sex: str) -> float:
    """Independent of the job: 1 s per sample, the 20 s HR gap counts 5 s at the HR before it, last sample 0 s."""
    present = np.isfinite(hr)
    t = np.flatnonzero(present)
    dt_s = np.minimum(np.diff(t), 5).astype(float)
    return ld.trimp_banister(hr[present][:-1], dt_s, rest, top, sex)  # type: ignore[arg-type]


def test_watch_only_runner_gets_loads_from_estimated_profile(store, runs):
    for _, _, path in runs:
        assert import_file(store, path, "W1").status == "imported"
    store.write([_mornings(np.random.default_rng(3))])
    session = store.read("session", "W1", ["duration_s", "trimp"])
    assert len(session) == len(RUN_DAYS) and np.isnan(session.columns["trimp"]).all()  # the import alone: none

    counts = update_session_loads(store)
    assert counts.to_json() == {"updated": 10, "unchanged": 0, "without_hr": 0, "kept": 0, "no_profile": 0} | NO_BLE
    fields = ["trimp", "trimp_edwards", "hr_time_s", "load_hr_max_bpm", "load_hr_rest_bpm", "load_sex"]
    got = store.read("session", "W1", fields + [f"hr_zone{i}_s" for i in range(1, 6)])
    est_max, est_rest = got.columns["load_hr_max_bpm"][0], got.columns["load_hr_rest_bpm"][0]
    assert abs(est_max - HR_MAX) <= 5 and abs(est_rest - HR_REST) <= 5
    assert est_max == HR_MAX  # 60 s flat out at exactly HRmax
    assert got.columns["load_sex"].tolist() == ["unspecified"] * 10
    for k, (start, hr, _) in enumerate(runs):
        assert got.time_ms[k] == int(start.timestamp() * 1000)
        assert got.columns["trimp"][k] == pytest.approx(_expected_trimp(hr, est_rest, est_max, "unspecified"))
        assert got.columns["hr_time_s"][k] == 1199 - 21 + 5  # the 21 s from the last HR before the gap → 5 s
        zones = sum(got.columns[f"hr_zone{i}_s"][k] for i in range(1, 6))
        assert zones == pytest.approx(got.columns["hr_time_s"][k])  # every sample is above 50 % HRmax here

    counting = CountingStore(store)
    again = update_session_loads(counting, ["W1"])
    assert again.updated == 0 and again.unchanged == 10 and counting.writes == 0  # idempotent: nothing written

    from monitor.hr_profile import set_profile

    set_profile(store, "W1", 1_800_000_000_000, hr_max_bpm=195.0, sex="male")
    assert update_session_loads(store).updated == 10
    changed = store.read("session", "W1", ["trimp", "load_hr_max_bpm", "load_sex"])
    assert changed.columns["load_sex"].tolist() == ["male"] * 10
    for k, (_, hr, _) in enumerate(runs):
        assert changed.columns["trimp"][k] == pytest.approx(_expected_trimp(hr, est_rest, 195.0, "male"))
    assert update_session_loads(store).updated == 0


def test_other_sources_and_foreign_trimp_are_left_alone(store, runs):
    start, _, path = runs[0]
    import_file(store, path, "W2")
    t0 = int(start.timestamp() * 1000)
    store.write(
        [
            PointBatch("session", {"athlete": "W2", "source": "csv", "sport": "run"}, np.array([t0]),
                       {"duration_s": np.array([1200.0]), "trimp": np.array([77.0])}),
            PointBatch("session", {"athlete": "W2", "source": "ble", "sport": "other"}, np.array([t0 + 5000]),
                       {"duration_s": np.array([600.0]), "trimp": np.array([12.5])}),
            PointBatch("hr", {"athlete": "W2", "device": "strap", "source": "ble"}, t0 + 5000 + np.arange(600) * S,
                       {"bpm": np.full(600, 150, np.int64)}),
            PointBatch("session", {"athlete": "W2", "source": "fit", "sport": "ride"}, np.array([t0 + 86_400_000]),
                       {"duration_s": np.array([900.0]), "rr_count": np.array([0])}),
        ]
    )  # fmt: skip
    counts = update_session_loads(store, ["W2"])
    assert counts.to_json() == {"updated": 1, "unchanged": 0, "without_hr": 1, "kept": 1, "no_profile": 0} | NO_BLE
    frame = store.read("session", "W2", ["trimp", "load_hr_max_bpm", "duration_s"], with_tags=["source", "sport"])
    c = frame.columns
    rows = {(s, p): (v, m) for s, p, v, m in zip(c["source"], c["sport"], c["trimp"], c["load_hr_max_bpm"])}
    assert rows[("csv", "run")][0] == 77.0 and math.isnan(rows[("csv", "run")][1])
    assert rows[("ble", "other")][0] == 12.5 and math.isnan(rows[("ble", "other")][1])
    assert math.isnan(rows[("fit", "ride")][0])  # no HR: nothing written
    assert rows[("fit", "run")][0] > 0


def test_garmin_load_fields_are_kept(tmp_path):
    hr = np.full(120, 140.0)
    extra = {"total_training_effect": 3.1, "total_anaerobic_training_effect": 1.2, "training_stress_score": 77.5,
             "intensity_factor": 0.812}  # fmt: skip
    path = write_run_fit(tmp_path / "te.fit", DAY0, hr, session_fields=extra)
    store = SQLiteStore(tmp_path / "s.sqlite")
    import_file(store, path, "G1")
    names = ["device_training_effect", "device_anaerobic_training_effect", "device_tss", "device_intensity_factor"]
    frame = store.read("session", "G1", names)
    assert [frame.columns[n][0] for n in names] == pytest.approx([3.1, 1.2, 77.5, 0.812])
    store.close()


def test_fit_tool_run_reads_back_exactly(tmp_path):
    """The importer reads the independent encoder's file back: every HR value at its time, nothing else."""
    rng = np.random.default_rng(11)
    time_s = np.r_[np.arange(100), np.arange(130, 200, 2)]  # 1 Hz, a 30 s pause, then every 2 s
    hr = rng.integers(60, 200, len(time_s)).astype(float)
    hr[[5, 50]] = np.nan  # records without heart_rate
    start = dt.datetime(2026, 2, 1, 6, 30, 15, tzinfo=dt.UTC)
    path = write_run_fit(tmp_path / "exact.fit", start, hr, time_s=time_s, speed_mps=2.5)
    store = SQLiteStore(tmp_path / "s.sqlite")
    assert import_file(store, path, "X1").status == "imported"
    frame = store.read("hr", "X1", ["bpm"], with_tags=["source"])
    present = np.isfinite(hr)
    t0 = int(start.timestamp()) * 1000
    np.testing.assert_array_equal(frame.time_ms, t0 + time_s[present] * 1000)
    np.testing.assert_array_equal(frame.columns["bpm"], hr[present])
    assert set(frame.columns["source"]) == {"fit"}
    session = store.read("session", "X1", ["duration_s", "distance_m", "max_hr_bpm"], with_tags=["sport"])
    assert session.time_ms.tolist() == [t0] and session.columns["sport"].tolist() == ["run"]
    assert session.columns["duration_s"][0] == 198.0 and session.columns["distance_m"][0] == 2.5 * 198
    assert session.columns["max_hr_bpm"][0] == np.nanmax(hr)
    store.close()

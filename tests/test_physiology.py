"""Physiology simulator behind the virtual heart-rate straps (ingest.virtual.physiology)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ingest.virtual.physiology import (
    AthleteProfile,
    daily_ln_rmssd,
    daily_resting_hr_bpm,
    interval_workload,
    make_squad,
    morning_rr_ms,
    session_hr,
    simulate_morning_reading,
)
from monitor.hrv import rmssd_ms


def _profile(**kw) -> AthleteProfile:
    base = dict(
        athlete_id="A01", sex="female", resting_hr_bpm=50.0, max_hr_bpm=190.0, ln_rmssd_mean=4.1, ln_rmssd_daily_sd=0.1
    )
    return AthleteProfile(**(base | kw))


def test_make_squad_ids_conditions_and_ranges():
    squad = make_squad(9, 90, np.random.default_rng(1))
    assert [p.athlete_id for p in squad] == [f"A{i:02d}" for i in range(1, 10)]
    suppressed = [p for p in squad if p.condition == "hrv_suppressed"]
    assert len(suppressed) == 3 and all(p.suppression_start_day == 83 for p in suppressed)
    for p in squad:
        assert 3.6 <= p.ln_rmssd_mean <= 4.6 and 0.08 <= p.ln_rmssd_daily_sd <= 0.15
        assert 40 < p.resting_hr_bpm < 70 < 160 < p.max_hr_bpm < 215
    for n in (2, 3, 5):
        conditions = {p.condition for p in make_squad(n, 30, np.random.default_rng(n))}
        assert conditions == {"healthy", "hrv_suppressed"}


def test_profile_validation():
    with pytest.raises(ValueError):
        _profile(condition="hrv_suppressed")  # no start day
    with pytest.raises(ValueError):
        _profile(resting_hr_bpm=200.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        _profile().resting_hr_bpm = 40.0  # type: ignore[misc]


def test_daily_ln_rmssd_stationary_and_suppressed():
    rng = np.random.default_rng(2)
    healthy = daily_ln_rmssd(_profile(), 2000, rng)
    assert healthy.mean() == pytest.approx(4.1, abs=0.01)
    assert healthy.std() == pytest.approx(0.1, rel=0.05)
    sick = _profile(condition="hrv_suppressed", suppression_start_day=1000, suppression_ln_drop=0.35)
    x = daily_ln_rmssd(sick, 2000, rng)
    assert x[:1000].mean() - x[1000:].mean() == pytest.approx(0.35, abs=0.02)
    hr = daily_resting_hr_bpm(sick, 2000, rng)
    assert hr[1000:].mean() - hr[:1000].mean() == pytest.approx(4.0, abs=0.3)


def test_clean_morning_rmssd_matches_target():
    rng = np.random.default_rng(3)
    for p in make_squad(12, 30, rng):
        targets = daily_ln_rmssd(p, 30, rng)
        for day in (0, 10, 29):
            r = simulate_morning_reading(p, day, targets[day], rng)
            assert rmssd_ms(r.clean_rr_ms) == pytest.approx(np.exp(targets[day]), rel=0.10)
            assert 60_000 / r.clean_rr_ms.mean() == pytest.approx(r.hr_bpm, rel=0.03)
            assert r.clean_rr_ms.sum() == pytest.approx(180_000, abs=2_500)
            assert np.all((r.clean_rr_ms > 300) & (r.clean_rr_ms < 2000))


def test_morning_reading_has_realistic_artifacts():
    rng = np.random.default_rng(4)
    p = _profile()
    events = beats = 0
    for day in range(60):
        r = simulate_morning_reading(p, day, 4.1, rng)
        assert r.rr_ms.shape == r.artifact_mask.shape
        missed = r.clean_rr_ms.size - r.rr_ms.size
        ectopic_beats = r.artifact_mask.sum() - missed
        assert ectopic_beats % 2 == 0  # short + compensatory long interval
        events += missed + ectopic_beats // 2
        beats += r.clean_rr_ms.size
        assert r.rr_ms.sum() == pytest.approx(r.clean_rr_ms.sum())  # artifacts move beats, not time
    assert 0.004 < events / beats < 0.012  # ~0.5–1 % per beat


def test_morning_reading_deterministic_with_seed():
    p = _profile()
    a = morning_rr_ms(p, 3, 4.0, np.random.default_rng(7))
    b = morning_rr_ms(p, 3, 4.0, np.random.default_rng(7))
    c = morning_rr_ms(p, 3, 4.0, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
    squad_a = make_squad(5, 30, np.random.default_rng(9))
    assert squad_a == make_squad(5, 30, np.random.default_rng(9))


def test_session_hr_tracks_workload():
    p = _profile(resting_hr_bpm=48.0, max_hr_bpm=188.0)
    rng = np.random.default_rng(5)
    workload = interval_workload(3600, rng)
    assert workload.shape == (3600,) and workload.min() >= 0 and workload.max() <= 1
    hr, rr = session_hr(p, workload, rng)
    assert hr.shape == workload.shape
    assert np.all((hr >= p.resting_hr_bpm) & (hr <= p.max_hr_bpm))
    assert hr[0] < p.resting_hr_bpm + 10
    # HR lags the workload by about tau: compare with the steady-state target shifted by 30 s.
    target = p.resting_hr_bpm + workload * (p.max_hr_bpm - p.resting_hr_bpm)
    assert np.corrcoef(hr[30:], target[:-30])[0, 1] > 0.9
    hard, easy = workload > 0.8, (workload < 0.4) & (np.arange(3600) > 720)
    assert hr[np.convolve(hard, np.ones(90), "same") >= 90].mean() > hr[easy].mean() + 30  # late in work bouts
    # RR consistent with HR: same number of beats and total time, and per-minute means agree.
    assert rr.size == pytest.approx(hr.sum() / 60, abs=2)
    assert rr.sum() / 1000 == pytest.approx(3600, abs=3)
    t_beat_s = np.cumsum(rr) / 1000
    for minute in (5, 20, 40, 55):
        in_min = (t_beat_s >= 60 * minute) & (t_beat_s < 60 * (minute + 1))
        assert 60_000 / rr[in_min].mean() == pytest.approx(hr[60 * minute : 60 * (minute + 1)].mean(), rel=0.03)


def test_session_beat_variability_shrinks_with_intensity():
    p = _profile()
    rng = np.random.default_rng(6)
    workload = np.concatenate([np.zeros(300), np.full(600, 0.9)])
    _, rr = session_hr(p, workload, rng)
    t_beat_s = np.cumsum(rr) / 1000
    rest = rmssd_ms(rr[t_beat_s < 280])
    hard = rmssd_ms(rr[t_beat_s > 600])
    assert rest == pytest.approx(np.exp(p.ln_rmssd_mean), rel=0.25)
    assert hard < rest / 5


def test_session_hr_deterministic_with_seed():
    p = _profile()
    w = interval_workload(1200, np.random.default_rng(1))
    np.testing.assert_array_equal(w, interval_workload(1200, np.random.default_rng(1)))
    hr1, rr1 = session_hr(p, w, np.random.default_rng(2))
    hr2, rr2 = session_hr(p, w, np.random.default_rng(2))
    np.testing.assert_array_equal(hr1, hr2)
    np.testing.assert_array_equal(rr1, rr2)


def test_session_hr_empty_workload():
    hr, rr = session_hr(_profile(), np.array([]), np.random.default_rng(0))
    assert hr.size == 0 and rr.size == 0

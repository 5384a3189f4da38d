"""Asymmetry (monitor.asymmetry): symmetry indices, session gait summary, daily SI, baselines and CUSUM."""

from __future__ import annotations

import numpy as np
import pytest

from monitor import asymmetry as asy
from monitor.rolling import window_stats


def test_symmetry_index_sign_convention_left_larger_is_positive():
    assert asy.symmetry_index_pct(110.0, 90.0) == pytest.approx(20.0)  # (110 − 90) / 100 × 100
    assert asy.symmetry_index_pct(90.0, 110.0) == pytest.approx(-20.0)
    assert np.isnan(asy.symmetry_index_pct(0.0, 0.0))
    # from a left share B: SI = 4·(B − 50); Garmin's 52.2 % red zone ≈ 8.8 %
    assert asy.si_from_left_share_pct(52.2) == pytest.approx(8.8)
    assert asy.si_from_left_share_pct(49.4) == pytest.approx(-2.4)
    left, right = 52.2, 47.8  # the same thing expressed as two shares
    assert asy.symmetry_index_pct(left, right) == pytest.approx(asy.si_from_left_share_pct(52.2))


def test_symmetry_angle_is_bounded_and_about_si_over_pi():
    si = asy.symmetry_index_pct(101.0, 99.0)
    sa = asy.symmetry_angle_pct(101.0, 99.0)
    assert sa > 0 and sa == pytest.approx(si / np.pi, rel=0.01)
    assert abs(asy.symmetry_angle_pct(1.0, 1e9)) <= 50.0  # bounded even when one side vanishes


def test_muscle_si_per_muscle():
    left = np.array([[50.0, 40.0, 30.0], [55.0, 40.0, 20.0]])  # sessions × muscles
    right = np.array([[50.0, 44.0, 36.0], [45.0, 40.0, 30.0]])
    si = asy.muscle_symmetry_index_pct(left, right)
    assert si.shape == (2, 3)
    np.testing.assert_allclose(si[1], [20.0, 0.0, -40.0])


def test_pedal_si_averages_only_pedalling_samples():
    share = np.array([50.0, 52.0, 52.0, 0.0, 60.0])
    cadence = np.array([90.0, 90.0, 90.0, 90.0, 0.0])  # a zero share is "no value"; coasting is skipped
    assert asy.pedal_symmetry_index_pct(share, cadence) == pytest.approx(4 * (154 / 3 - 50))
    assert np.isnan(asy.pedal_symmetry_index_pct(np.array([0.0]), None))


def test_gait_summary_cadence_stride_gct_and_trend():
    step_s = np.arange(0, 600, 1 / 3)  # 180 steps/min for 10 minutes
    left = np.arange(step_s.size) % 2 == 0
    minutes = step_s / 60.0
    gct_left = 250.0 + 2.0 * minutes  # left contact grows 2 ms/min: SI trends upwards (left larger)
    contact = np.where(left, gct_left, 250.0)
    g = asy.gait_summary(step_s, contact, left, distance_m=2400.0)
    assert g.cadence_spm == pytest.approx(180.0, rel=1e-3)
    assert g.step_length_m == pytest.approx(2400.0 / step_s.size)
    assert g.stride_length_m == pytest.approx(2 * g.step_length_m)
    assert g.gct_left_ms > g.gct_right_ms and g.gct_symmetry_index_pct > 0
    assert g.gct_si_slope_pct_per_min == pytest.approx(200 * 2.0 / 500, rel=0.05)  # ≈ 0.8 %/min
    with pytest.raises(ValueError):
        asy.gait_summary(step_s[:1], contact[:1], left[:1], 1.0)


def test_cusum_by_hand():
    z = np.array([[0.0, 3.0, np.nan, 3.0, -1.0, 0.0]])
    up, down = asy.cusum(z, k=1.0, h=3.0)
    np.testing.assert_allclose(up[0], [0, 2, 2, 4, 2, 1])  # NaN (no session) carries the state
    np.testing.assert_allclose(down[0], [0, 0, 0, 0, 0, 0])
    up, _ = asy.cusum(z, k=1.0, h=3.0, reset=True)
    np.testing.assert_allclose(up[0], [0, 2, 2, 4, 0, 0])
    up, _ = asy.cusum(z, k=1.0, h=3.0, valid=np.array([[True, True, True, False, True, True]]))
    np.testing.assert_allclose(up[0], [0, 2, 2, 0, 0, 0])


def test_window_stats_match_numpy():
    rng = np.random.default_rng(0)
    si = np.where(rng.random((3, 60)) < 0.6, rng.normal(2.0, 1.5, (3, 60)), np.nan)
    ok = np.isfinite(si)
    s = window_stats(np.where(ok, si, 0), np.where(ok, si * si, 0), ok.astype(int), window=20, lag=7)
    for i in range(3):
        values = si[i, 33:53][ok[i, 33:53]]
        assert s.n[i, 59] == values.size
        assert s.mean[i, 59] == pytest.approx(values.mean())
        assert s.sd[i, 59] == pytest.approx(values.std(ddof=1))


def daily(si: np.ndarray):
    ok = np.isfinite(si)
    return np.where(ok, si, 0.0), np.where(ok, si * si, 0.0), ok.astype(int)


def test_asymmetry_series_detects_an_onset_and_ignores_noise():
    rng = np.random.default_rng(1)
    days = 140
    sessions = rng.random((2, days)) < 0.6
    si = np.where(sessions, rng.normal(1.0, 1.0, (2, days)), np.nan)
    si[1, 120:] -= 7.7  # right-foot contact +8 % from day 120 (SI ≈ −7.7 points)
    s = asy.asymmetry_series(*daily(si))
    assert not s.shift_alarm[0].any()
    first = int(np.argmax(s.shift_alarm[1]))
    assert 120 <= first <= 124 and s.shift_alarm[1, first:].all()
    assert s.shift_pct[1, 130] == pytest.approx(-7.7, abs=1.5)
    assert s.cusum_up[0].max() < 3.0 and s.cusum_down[0].max() < 3.0  # the steady athlete stays below h


def test_asymmetry_needs_sessions_before_it_says_anything():
    si = np.full((1, 90), np.nan)
    si[0, ::10] = 30.0  # one session every 10 days: never 2 in a week
    s = asy.asymmetry_series(*daily(si))
    assert not s.week_ok.any() and not s.shift_alarm.any()
    assert np.isnan(s.shift_pct).all()
    empty = asy.asymmetry_series(*daily(np.full((2, 0), np.nan)))
    assert empty.shift_alarm.shape == (2, 0)


def test_predictive_z_maps_student_t_tails_to_normal_scores():
    # n = 2 baseline values: t with 1 degree of freedom is Cauchy, P(T > 1) = 1/4, and Φ⁻¹(3/4) = 0.67449.
    sd, n = 2.0, 2
    x = 10.0 + np.array([1.0, -1.0]) * sd * np.sqrt(1 + 1 / n)
    np.testing.assert_allclose(asy.predictive_z(x, 10.0, sd, n), [0.674490, -0.674490], atol=1e-6)
    # A large baseline leaves the value almost as it is; a small one shrinks an extreme value a lot.
    assert asy.predictive_z(13.0, 10.0, 1.0, 10_000) == pytest.approx(3.0, abs=0.01)
    assert asy.predictive_z(16.0, 10.0, 1.0, 12) < 4.5
    assert np.isnan(asy.predictive_z(12.0, 10.0, 1.0, 1))


def test_predictive_z_is_calibrated_against_a_sample_baseline():
    # New values standardised against a 12-value baseline of the same normal distribution: as rare as N(0, 1).
    rng = np.random.default_rng(3)
    base = rng.normal(5.0, 2.0, (200_000, 12))
    new = rng.normal(5.0, 2.0, 200_000)
    z = asy.predictive_z(new, base.mean(axis=1), base.std(axis=1, ddof=1), 12)
    assert np.mean(np.abs(z) > 2.0) == pytest.approx(0.0455, abs=0.002)  # raw z-scores: 0.081
    assert np.mean(np.abs(z) > 3.0) == pytest.approx(0.0027, abs=0.0006)  # raw: 0.015

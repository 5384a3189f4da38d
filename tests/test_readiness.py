"""HRV readiness in the rules engine: the 7-day ln rMSSD against the 60-day normal range, its confirmation,
severity with resting HR, and no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.rules import compute_indicators, daily_inputs, evaluate_signals, flags_on
from monitor.thresholds import load_thresholds

FIRST_DAY = np.datetime64("2026-08-01")
N_DAYS = 100
MISSED_MORNINGS = 0.15


def mornings(rng: np.random.Generator, n: int, days: int = N_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """Steady ln rMSSD and resting HR of ``n`` athletes (white noise, 15 % missed mornings)."""
    ln = rng.uniform(3.6, 4.6, (n, 1)) + rng.uniform(0.08, 0.15, (n, 1)) * rng.standard_normal((n, days))
    rhr = rng.uniform(44, 62, (n, 1)) + 1.5 * rng.standard_normal((n, days))
    missed = rng.random((n, days)) < MISSED_MORNINGS
    return np.where(missed, np.nan, ln), np.where(missed, np.nan, rhr)


def engine(ln: np.ndarray, rhr: np.ndarray):
    n, days = ln.shape
    no_sessions = np.full((n, days), np.nan)
    inputs = daily_inputs([f"A{i:03d}" for i in range(n)], FIRST_DAY, no_sessions, ln, rhr, {})
    th = load_thresholds()
    ind = compute_indicators(inputs, th)
    return ind, evaluate_signals(ind, th)


def test_literal_half_sd_rule_would_flag_about_one_day_in_ten():
    """Why the rule needs confirmation: the 7-day mean alone is below mean − 0.5 SD far too often."""
    ind, signals = engine(*mornings(np.random.default_rng(7), 300))
    last = slice(N_DAYS - 30, N_DAYS)
    literal = (ind.hrv_week.mean < ind.hrv_lower)[:, last]
    assert 0.06 < literal.mean() < 0.2
    assert signals["hrv_suppressed"].flagged[:, last].mean() < 0.002
    assert np.all(signals["hrv_suppressed"].flagged <= (ind.hrv_week.mean < ind.hrv_lower))


def test_severity_act_needs_big_drop_and_high_resting_hr():
    rng = np.random.default_rng(3)
    ln = np.tile(4.0 + 0.1 * rng.standard_normal(N_DAYS), (3, 1))
    ln[:, 90:] -= 0.5  # five daily SDs down from day 90
    rhr_up = 50.0 + 1.0 * rng.standard_normal(N_DAYS) + 6.0 * (np.arange(N_DAYS) >= 90)
    rhr_flat = 50.0 + np.sin(np.arange(N_DAYS))  # ordinary day-to-day wobble, no trend
    rhr = np.stack([rhr_up, rhr_flat, np.full(N_DAYS, np.nan)])
    ind, signals = engine(ln, rhr)
    t = 96
    act, watch, no_hr = (flags_on(signals, ind, row, t) for row in range(3))
    by_signal = [{f.signal: f for f in flags} for flags in (act, watch, no_hr)]
    severities = tuple(flags["hrv_suppressed"].severity for flags in by_signal)
    assert severities == ("act", "watch", "act")
    assert "rhr_elevated" in by_signal[0] and "rhr_elevated" not in by_signal[1]
    hrv = by_signal[1]["hrv_suppressed"]
    assert hrv.value == pytest.approx(ind.hrv_week.mean[1, t]) and hrv.threshold == pytest.approx(ind.hrv_lower[1, t])
    assert hrv.since.isoformat() in hrv.reason and "ln rMSSD" in hrv.reason


def test_no_look_ahead():
    ln, rhr = mornings(np.random.default_rng(11), 20)
    ln[:, 80:] -= 0.4
    full_ind, full = engine(ln, rhr)
    for t in (70, 85, 92):
        ind, part = engine(ln[:, : t + 1], rhr[:, : t + 1])
        np.testing.assert_allclose(ind.hrv_week.mean[:, t], full_ind.hrv_week.mean[:, t], equal_nan=True)
        np.testing.assert_allclose(ind.joint_cusum[:, t], full_ind.joint_cusum[:, t], equal_nan=True)
        for name in ("hrv_suppressed", "rhr_elevated"):
            np.testing.assert_array_equal(part[name].flagged[:, t], full[name].flagged[:, t])
    assert full["hrv_suppressed"].flagged[:, 80:].any()  # the drop is seen, so the comparison is not vacuous

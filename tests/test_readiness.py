"""HRV readiness in the rules engine: the 7-day ln rMSSD against the 60-day normal range, its confirmation,
severity with resting HR, and no look-ahead."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from monitor.indicators import compute_indicators, daily_inputs
from monitor.rules import flags_on
from monitor.signals import evaluate_signals
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


def test_severity_act_needs_strong_evidence_whatever_the_resting_hr():
    rng = np.random.default_rng(3)
    ln = np.tile(4.0 + 0.1 * rng.standard_normal(N_DAYS), (4, 1))
    ln[:3, 90:] -= 0.6  # six daily SDs down from day 90
    ln[3, 90:] -= 0.35  # 3.5: by day 92 the evidence passes the watch bound (5 SD), not the act bound (5.75 SD)
    rhr_up = 50.0 + 1.0 * rng.standard_normal(N_DAYS) + 6.0 * (np.arange(N_DAYS) >= 90)
    rhr_flat = 50.0 + np.sin(np.arange(N_DAYS))  # ordinary day-to-day wobble, no trend
    rhr = np.stack([rhr_up, rhr_flat, np.full(N_DAYS, np.nan), rhr_flat])
    ind, signals = engine(ln, rhr)
    t = 92
    by_signal = [{f.signal: f for f in flags_on(signals, ind, row, t)} for row in range(4)]
    severities = tuple(flags["hrv_suppressed"].severity for flags in by_signal)
    assert severities == ("act", "act", "act", "watch")
    assert -th_act() >= ind.hrv_evidence.score[:3, t].max() and -th_act() < ind.hrv_evidence.score[3, t]
    assert "rhr_elevated" in by_signal[0] and "rhr_elevated" not in by_signal[1]
    hr_up, hr_flat, no_hr = (by_signal[row]["hrv_suppressed"].reason for row in range(3))
    assert "resting HR 5" in hr_up and "is above its normal range" in hr_up
    assert "is within its normal range" in hr_flat
    assert "resting HR" not in no_hr  # no HR measured
    watch = by_signal[3]["hrv_suppressed"]
    assert watch.value == pytest.approx(ind.hrv_week.mean[3, t])
    assert watch.threshold == pytest.approx(ind.hrv_lower[3, t])
    assert watch.since.isoformat() in watch.reason and "ln rMSSD" in watch.reason


def th_act() -> float:
    return load_thresholds().recovery.act_z


def test_a_confirmed_flag_stays_up_while_the_week_is_below_the_range():
    ln = np.tile(4.0 + np.where(np.arange(N_DAYS) % 2 == 0, 0.1, -0.1), (1, 1))
    ln[:, 85:] -= 0.3  # three SDs: confirmed on the 3rd morning of the drop ...
    ln[:, 93:] += 0.3  # ... and the week comes back within the range after the drop ends
    ind, signals = engine(ln, np.full_like(ln, np.nan))
    s = signals["hrv_suppressed"]
    confirmed = ind.hrv_evidence.score[0] <= -load_thresholds().recovery.evidence_z
    below = ind.hrv_week.mean[0] < ind.hrv_lower[0]
    first = int(np.argmax(s.flagged[0]))
    assert first == 87 and confirmed[first] and not s.flagged[0, :first].any()
    held_days = np.flatnonzero(s.flagged[0] & ~confirmed)
    assert held_days.size and np.all(below[held_days])  # held without fresh evidence, only below the range
    assert np.array_equal(s.flagged[0, first:], np.cumprod(below[first:]).astype(bool))  # until the week is back
    t = int(held_days[-1])
    flag = next(f for f in flags_on(signals, ind, 0, t) if f.signal == "hrv_suppressed")
    last_confirmed = int(np.flatnonzero(confirmed[: t + 1])[-1])
    day = (FIRST_DAY + last_confirmed).astype(str)
    assert f"Confirmed on {day}: the " in flag.reason and f" up to {day} average ln rMSSD" in flag.reason
    assert "The flag stays up while the 7-day mean is below the range." in flag.reason
    assert flag.since == (FIRST_DAY + first).astype(object)


def test_no_look_ahead():
    ln, rhr = mornings(np.random.default_rng(11), 20)
    ln[:, 80:] -= 0.4
    full_ind, full = engine(ln, rhr)
    for t in (70, 85, 92):
        ind, part = engine(ln[:, : t + 1], rhr[:, : t + 1])
        np.testing.assert_allclose(ind.hrv_week.mean[:, t], full_ind.hrv_week.mean[:, t], equal_nan=True)
        np.testing.assert_allclose(ind.hrv_evidence.score[:, t], full_ind.hrv_evidence.score[:, t], equal_nan=True)
        for name in ("hrv_suppressed", "rhr_elevated"):
            np.testing.assert_array_equal(part[name].flagged[:, t], full[name].flagged[:, t])
    assert full["hrv_suppressed"].flagged[:, 80:].any()  # the drop is seen, so the comparison is not vacuous


def test_act_by_resting_hr_up_and_confirmed_with_the_hrv_drop_at_the_cusum_bound():
    rng = np.random.default_rng(3)
    ln = 4.0 + 0.1 * rng.standard_normal((1, N_DAYS))
    ln[:, 90:] -= 0.35  # watch-level HRV evidence only (5–5.75 SD on day 92)
    rhr = 50.0 + 1.0 * rng.standard_normal((1, N_DAYS)) + 6.0 * (np.arange(N_DAYS) >= 90)
    th = load_thresholds()
    t = 92
    inputs = daily_inputs(["A"], FIRST_DAY, np.full((1, N_DAYS), np.nan), ln, rhr, {})
    ind = compute_indicators(inputs, th)
    assert -th.recovery.act_z < ind.hrv_evidence.score[0, t] <= -th.recovery.evidence_z
    assert ind.rhr_week.mean[0, t] > ind.rhr_upper[0, t]
    bound = float(ind.rhr_cusum[0, t])
    for h, severity in ((np.nextafter(bound, -np.inf), "act"), (bound, "watch")):  # confirmed: CUSUM > h
        at = dataclasses.replace(th, recovery=dataclasses.replace(th.recovery, rhr_cusum_h=h))
        ind = compute_indicators(inputs, at)
        flag = next(f for f in flags_on(evaluate_signals(ind, at), ind, 0, t) if f.signal == "hrv_suppressed")
        assert flag.severity == severity
        if severity == "act":
            assert f"resting HR is up too (CUSUM {bound:.1f} > {h:g})" in flag.reason

"""The load-surge signal: the last 3 days' load against what the athlete's own weekly pattern expects for them."""

from __future__ import annotations

import datetime as dt

import numpy as np

from monitor.load import load_surge
from monitor.rules import compute_indicators, daily_inputs, evaluate_signals, flags_on
from monitor.thresholds import load_thresholds

MONDAY = dt.date(2026, 1, 5)
WEEKS = 6


def pattern(weeks: int = WEEKS) -> np.ndarray:
    """100 AU on Monday, Wednesday, Friday and Saturday; rest on the other days."""
    week = np.array([100.0, 0.0, 100.0, 0.0, 100.0, 100.0, 0.0])
    return np.tile(week, weeks)


def test_a_tripled_load_is_three_times_the_expectation() -> None:
    x = pattern()
    wed, fri = 7 * (WEEKS - 1) + 2, 7 * (WEEKS - 1) + 4
    x[wed : fri + 1] *= 3  # Wednesday to Friday of the last week tripled (Thursday stays a rest day)
    ratio, expected = load_surge(x[None], days=3, weeks=4, chronic_days=28)
    # Same weekdays Wed–Fri in each of the 4 weeks before: 200 AU; 3 × the 28-day daily mean: 3 × 400/7 = 171.4 AU.
    assert expected[0, fri] == 200.0
    assert ratio[0, fri] == 3.0
    assert ratio[0, fri - 7] == 1.0  # the week before: exactly the usual load


def test_a_small_load_on_usual_rest_days_is_measured_against_the_chronic_mean() -> None:
    x = pattern()
    tue = 7 * (WEEKS - 1) + 1
    x[tue] = 60.0  # Mon 100, Tue 60 (usually rest), Wed 100: 260 AU in 3 days
    ratio, expected = load_surge(x[None], days=3, weeks=4, chronic_days=28)
    assert expected[0, tue + 1] == 200.0  # the same weekdays' 200 AU, above 3 × 57.1 AU
    assert ratio[0, tue + 1] == 1.3
    y = np.zeros(7 * WEEKS)
    y[::7] = 100.0  # Mondays only: the same weekdays before hold nothing on Tue–Thu
    thu = 7 * (WEEKS - 1) + 3
    y[thu] = 150.0  # one session on the last Thursday: Tue–Thu held nothing in the weeks before
    ratio, expected = load_surge(y[None], days=3, weeks=4, chronic_days=28)
    assert np.isclose(expected[0, thu], 3 * 400 / 28) and np.isclose(ratio[0, thu], 150 / (1200 / 28))


def test_nothing_is_computed_before_four_weeks_and_three_days_of_history() -> None:
    ratio, _ = load_surge(pattern()[None], days=3, weeks=4, chronic_days=28, start=np.array([0]))
    assert np.isnan(ratio[0, :30]).all() and np.isfinite(ratio[0, 30:]).all()
    ratio, _ = load_surge(np.zeros((1, 5)))
    assert np.isnan(ratio).all()


def _signal_on(x: np.ndarray, day: int):
    th = load_thresholds()
    nan = np.full((1, x.size), np.nan)
    inputs = daily_inputs(["A"], MONDAY, np.where(x > 0, x, np.nan)[None], nan, nan, {}, "trimp")
    ind = compute_indicators(inputs, th)
    signals = evaluate_signals(ind, th)
    return [f for f in flags_on(signals, ind, 0, day) if f.signal == "load_surge"]


def test_the_watch_threshold_is_inclusive_and_the_reason_explains_the_numbers() -> None:
    x = pattern()
    wed, fri = 7 * (WEEKS - 1) + 2, 7 * (WEEKS - 1) + 4
    x[wed], x[fri] = 180.0, 340.0  # 520 AU = 2.6 × the expected 200 AU: exactly at the threshold
    (flag,) = _signal_on(x, fri)
    assert flag.value == 2.6 and flag.threshold == 2.6 and flag.severity == "watch" and flag.family == "load"
    assert "520 AU (TRIMP) is 2.60 × what your own pattern expects for these days (200" in flag.reason
    x[fri] = 339.0  # 519 AU: 2.595 ×, below
    assert _signal_on(x, fri) == []

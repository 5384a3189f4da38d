"""The noise fit (bench/noise_fit.py) on hand-worked series and on the real exports, and the cohort simulator's
output statistics against the fitted targets (docs/analytics.md, "Noise fitted to real athletes")."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from shared_data import require_shared

from ingest.virtual.training_history import FITTED_NOISE, NoiseModel, ar1, simulate_training_history

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("noise_fit", ROOT / "bench" / "noise_fit.py")
nf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nf)
NAN = float("nan")
MONDAY = 4  # 1970-01-05, days since the epoch


def test_lag1_autocorrelation_skips_pairs_with_a_gap():
    # mean 2.5, deviations −1.5 −0.5 · 1.5 0.5: pairs (0,1) and (3,4) give 0.75 each; mean square 5/4 → 0.6
    assert nf.lag1_autocorrelation(np.array([1.0, 2.0, NAN, 4.0, 3.0])) == pytest.approx(0.6, abs=1e-12)
    assert math.isnan(nf.lag1_autocorrelation(np.array([1.0, NAN, 2.0, NAN, 3.0])))  # no consecutive pair
    assert math.isnan(nf.lag1_autocorrelation(np.array([1.0, 2.0])))


def test_correlation_sd_and_missed_rate_by_hand():
    # (1,2), (2,4), (3,7): Sxy = 5, Sxx = 2, Syy = 114/9
    r = nf.paired_correlation(np.array([1.0, 2.0, 3.0, NAN]), np.array([2.0, 4.0, 7.0, 1.0]))
    assert r == pytest.approx(5 / math.sqrt(2 * 114 / 9), abs=1e-12)
    assert nf.daily_sd(np.array([1.0, NAN, 3.0])) == pytest.approx(math.sqrt(2), abs=1e-12)
    # days 1..5 span the readings, 3 of those 5 have one: 2 of 5 missed; the leading/trailing gaps do not count
    assert nf.missed_rate(np.array([NAN, 1.0, NAN, NAN, 2.0, 3.0, NAN])) == pytest.approx(0.4, abs=1e-12)
    assert nf.missed_rate(np.ones(5)) == 0.0


def test_session_pattern_by_hand():
    # weeks 0–3: Mon Wed | Mon Wed Fri | nothing | Mon
    day = MONDAY + np.array([0, 2, 7, 9, 11, 21])
    minutes = np.array([30.0, 40.0, 60.0, 40.0, 50.0, 60.0])
    rpe = np.array([5.0, 4.0, 7.0, 4.0, 8.0, 6.0])
    p = nf.session_pattern(day, minutes, rpe)
    assert (p["sessions"], p["weeks"], p["plan_days"]) == (6, 4, 2)
    assert p["sessions_per_week"] == 1.5 and p["sessions_per_active_week"] == 2.0
    assert p["weeks_without_session"] == 0.25 and p["days_with_two_or_more"] == 0.0
    # active weeks with a session: Mon 3/3, Wed 2/3, Fri 1/3 → plan Mon+Wed 5/6, the other five days 1/15
    assert p["p_plan_day"] == pytest.approx(5 / 6) and p["p_other_day"] == pytest.approx(1 / 15)
    assert p["share_Mon"] == 0.5 and p["share_Sun"] == 0.0 and p["median_duration_min"] == 45.0
    assert p["rpe_sd"] == pytest.approx(math.sqrt(40 / 3 / 5))  # squared deviations from 34/6 sum to 40/3
    assert p["rpe_within_weekday_sd"] == pytest.approx(math.sqrt(2 / 3))  # Mon 5,7,6 around 6; dof 6 − 3
    # Mon ln 30, ln 60, ln 60 around their mean: (4 + 1 + 1)/9 (ln 2)², dof 3
    assert p["ln_duration_within_weekday_sd"] == pytest.approx(math.sqrt(2) / 3 * math.log(2))
    doubled = nf.session_pattern(np.append(day, MONDAY), np.append(minutes, 30.0), np.append(rpe, 5.0))
    assert doubled["days_with_two_or_more"] == pytest.approx(1 / 7)


def test_distribution_reports_quartiles_across_people():
    d = nf.distribution({"a": 1.0, "b": 2.0, "c": NAN, "d": 3.0, "e": 4.0, "f": 5.0})
    assert (d["min"], d["q25"], d["median"], d["q75"], d["max"], d["n"]) == (1.0, 2.0, 3.0, 4.0, 5.0, 5)
    assert d["per_person"]["c"] is None


def test_ar1_is_stationary_with_unit_variance_and_the_given_autocorrelation():
    x = ar1(np.random.default_rng(1), (400, 500), 0.5)
    assert x.var() == pytest.approx(1.0, abs=0.02)
    assert x[:, 0].var() == pytest.approx(1.0, abs=0.15)  # already stationary on day 0
    assert np.mean(x[:, 1:] * x[:, :-1]) == pytest.approx(0.5, abs=0.01)


@pytest.fixture(scope="module")
def simulated():
    return simulate_training_history(2000, 120, np.random.default_rng(2026), noise=FITTED_NOISE)


def _per_athlete(function, *arrays) -> np.ndarray:
    values = np.array([function(*(a[i] for a in arrays)) for i in range(len(arrays[0]))])
    return values[np.isfinite(values)]


def test_simulated_mornings_match_the_fitted_targets(simulated):
    h, noise = simulated, FITTED_NOISE
    # over 2,000 athletes × 120 days; the lag-1 estimator is biased by about −(1 + 3φ)/n ≈ −0.013 at ~110 mornings
    assert np.median(_per_athlete(nf.lag1_autocorrelation, h.ln_rmssd)) == pytest.approx(noise.ln_rmssd_lag1, abs=0.03)
    assert np.median(_per_athlete(nf.lag1_autocorrelation, h.morning_hr_bpm)) == pytest.approx(
        noise.morning_hr_lag1, abs=0.03
    )
    r = _per_athlete(nf.paired_correlation, h.ln_rmssd, h.morning_hr_bpm)
    assert np.median(r) == pytest.approx(noise.ln_rmssd_hr_correlation, abs=0.03)
    q25, q50, q75 = np.percentile(_per_athlete(nf.daily_sd, h.ln_rmssd), [25, 50, 75])
    assert (q25, q50, q75) == pytest.approx(noise.ln_rmssd_sd[1:4], abs=0.02)
    assert np.median(_per_athlete(nf.daily_sd, h.morning_hr_bpm)) == pytest.approx(noise.morning_hr_sd_bpm[2], abs=0.3)
    missed = _per_athlete(nf.missed_rate, h.ln_rmssd)
    assert np.median(missed) == pytest.approx(noise.missed_morning_rate[2], abs=0.01)
    assert np.percentile(missed, 75) == pytest.approx(noise.missed_morning_rate[3], abs=0.01)


def test_simulated_sessions_match_the_fitted_pmdata_pattern(simulated):
    h = simulated
    patterns = []
    for i in range(500):
        m = np.isfinite(h.duration_s[i])
        patterns.append(nf.session_pattern(MONDAY + np.flatnonzero(m), h.duration_s[i, m] / 60, h.rpe[i, m]))

    def median(key: str) -> float:
        return float(np.median([p[key] for p in patterns]))

    # the model at the median rank: 3 planned days × 0.583 + 4 other days × 0.333 = 3.08 a week (PMData: 3.44)
    assert median("sessions_per_active_week") == pytest.approx(3.08, abs=0.2)
    assert median("weeks_without_session") == pytest.approx(FITTED_NOISE.week_without_session[2], abs=0.01)
    # the estimator takes the most used weekdays as the plan: chance lifts p_plan and lowers p_other by ~0.03
    assert median("p_plan_day") == pytest.approx(FITTED_NOISE.p_plan_day[2], abs=0.05)
    assert median("p_other_day") == pytest.approx(FITTED_NOISE.p_other_day[2], abs=0.05)
    assert median("ln_duration_within_weekday_sd") == pytest.approx(FITTED_NOISE.ln_duration_noise_sd[2], abs=0.03)
    assert median("ln_duration_sd") == pytest.approx(FITTED_NOISE.ln_duration_sd, abs=0.03)
    assert median("rpe_within_weekday_sd") == pytest.approx(FITTED_NOISE.rpe_noise_sd[2], abs=0.1)
    assert median("mean_rpe") == pytest.approx(FITTED_NOISE.mean_rpe[2], abs=0.15)


def test_white_noise_model_has_no_autocorrelation_or_hr_coupling():
    """The statistics above come from the model: a model without them gives other values (the test can fail)."""
    white = dataclasses.replace(FITTED_NOISE, ln_rmssd_lag1=0.0, morning_hr_lag1=0.0, ln_rmssd_hr_correlation=0.0)
    h = simulate_training_history(500, 120, np.random.default_rng(3), noise=white, missed_morning_rate=0.0)
    assert abs(np.median(_per_athlete(nf.lag1_autocorrelation, h.ln_rmssd))) < 0.03
    assert abs(np.median(_per_athlete(nf.paired_correlation, h.ln_rmssd, h.morning_hr_bpm))) < 0.03
    assert np.isfinite(h.ln_rmssd).all()  # a rate for everyone overrides the fitted personal rates


def test_fitted_constants_are_what_the_fit_gives_on_the_real_exports():
    data = require_shared()
    fit = nf.fit(data)

    def quantiles(name: str) -> tuple[float, ...]:
        d = fit[name]
        return (d["min"], d["q25"], d["median"], d["q75"], d["max"])

    assert fit["ln_rmssd_sd"]["n"] == 7 and fit["sessions_p_plan_day"]["n"] == 11
    assert fit["mornings"]["per_person"]["2017_7_28_myMeasurements"] == 119.0  # MANIFEST: 119 consecutive
    assert fit["missed_morning_rate"]["per_person"]["2017_7_28_myMeasurements"] == 0.0
    assert fit["mornings"]["per_person"]["hrv_public_rr"] == 23.0  # 23 morning RR files
    expected = {
        "ln_rmssd_sd": quantiles("ln_rmssd_sd"),
        "ln_rmssd_lag1": fit["ln_rmssd_lag1_autocorrelation"]["median"],
        "morning_hr_sd_bpm": quantiles("morning_hr_sd_bpm"),
        "morning_hr_lag1": fit["morning_hr_lag1_autocorrelation"]["median"],
        "ln_rmssd_hr_correlation": fit["ln_rmssd_hr_correlation"]["median"],
        "missed_morning_rate": quantiles("missed_morning_rate"),
        "plan_days": quantiles("sessions_plan_days"),
        "p_plan_day": quantiles("sessions_p_plan_day"),
        "p_other_day": quantiles("sessions_p_other_day"),
        "week_without_session": quantiles("sessions_weeks_without_session"),
        "median_duration_min": quantiles("sessions_median_duration_min"),
        "ln_duration_sd": fit["sessions_ln_duration_sd"]["median"],
        "ln_duration_noise_sd": quantiles("sessions_ln_duration_within_weekday_sd"),
        "mean_rpe": quantiles("sessions_mean_rpe"),
        "rpe_sd": fit["sessions_rpe_sd"]["median"],
        "rpe_noise_sd": quantiles("sessions_rpe_within_weekday_sd"),
    }
    assert set(expected) == {f.name for f in dataclasses.fields(NoiseModel)}
    for name, value in expected.items():
        if name in RR_DEPENDENT:  # one of 7 people: only the median is pinned (see RR_DEPENDENT)
            value = value[2] if isinstance(value, tuple) else value
            fitted = getattr(FITTED_NOISE, name)
            assert (fitted[2] if isinstance(fitted, tuple) else fitted) == pytest.approx(value, abs=0.06), name
        else:
            assert getattr(FITTED_NOISE, name) == pytest.approx(value, abs=1e-4), name


RR_DEPENDENT = {"ln_rmssd_sd", "ln_rmssd_lag1", "morning_hr_sd_bpm", "morning_hr_lag1", "ln_rmssd_hr_correlation"}
"""Fields that include the hrv_public RR files' readings, whose rMSSD follows the product's artifact handling
(docs/validation.md §4 defines it): their quartiles move by a few hundredths with it; refit with bench/noise_fit.py."""

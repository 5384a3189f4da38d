"""Magnitude-scaled evidence (monitor.evidence): a large HRV drop or asymmetry shift is flagged after one or two
readings, a smaller one after more, pinned at each threshold's boundary, and the reason says which evidence fired."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from monitor import asymmetry as asy
from monitor.evidence import (
    deviations,
    joint_score,
    paired_correlation,
    predictive_z,
    recent_score,
    window_evidence,
)
from monitor.indicators import compute_indicators, daily_inputs
from monitor.rules import flags_on
from monitor.signals import evaluate_signals
from monitor.thresholds import load_thresholds

DAYS, ONSET = 100, 90


def test_recent_score_by_hand():
    z = np.array([[1.0, np.nan, 3.0, -1.0, np.nan, 2.0]])
    np.testing.assert_allclose(recent_score(z, 2)[0] * np.sqrt(2), [np.nan, np.nan, 4, 2, 2, 1])  # NaN carries
    np.testing.assert_allclose(recent_score(z, 1)[0], [1, 1, 3, -1, -1, 2])
    valid = np.array([[True, True, True, False, True, True]])
    np.testing.assert_allclose(recent_score(z, 2, valid)[0] * np.sqrt(2), [np.nan, np.nan, 4, np.nan, np.nan, np.nan])


def test_paired_correlation_equals_numpy_on_the_days_both_are_measured():
    rng = np.random.default_rng(4)
    x = rng.normal(4.0, 0.2, (2, 90))
    y = 55.0 - 10.0 * (x - 4.0) + rng.normal(0.0, 2.0, (2, 90))
    x[:, ::5] = np.nan
    y[:, ::7] = np.nan
    r, n = paired_correlation(x, y, 60, lag=7)
    for i in range(2):
        xs, ys = x[i, 23:83], y[i, 23:83]
        both = np.isfinite(xs) & np.isfinite(ys)
        assert n[i, 89] == both.sum()
        assert r[i, 89] == pytest.approx(np.corrcoef(xs[both], ys[both])[0, 1], abs=1e-9)
    assert np.isnan(paired_correlation(x[:, :2], y[:, :2], 60)[0]).all()  # fewer than 3 pairs


def test_joint_score_uses_the_correlation_but_never_sharpens():
    # ρ = −0.5: var(z_up − z_down) = 2 − 2ρ = 3
    assert joint_score(2.0, -1.0, -0.5) == pytest.approx(3.0 / np.sqrt(3.0))
    assert joint_score(2.0, -1.0, 0.6) == pytest.approx(3.0 / np.sqrt(2.0))  # positive ρ counts as 0
    assert joint_score(2.0, -1.0, np.nan) == pytest.approx(3.0 / np.sqrt(2.0))


def test_predictive_z_of_a_mean_by_hand():
    from scipy import stats

    # 3 readings averaging 1.0 below a baseline mean of 2.0 (SD 0.5 from 40 values, the mean from 20 values)
    t = -1.0 / (0.5 * np.sqrt(1 / 3 + 1 / 20))
    expected = -stats.norm.isf(stats.t.sf(-t, 39))
    assert predictive_z(1.0, 2.0, 0.5, 20, readings=3, sd_n=40) == pytest.approx(expected, rel=1e-12)
    single = -stats.norm.isf(stats.t.sf(1.0 / (0.5 * np.sqrt(1 + 1 / 20)), 19))
    assert predictive_z(1.0, 2.0, 0.5, 20) == pytest.approx(single, rel=1e-12)  # one reading, df from n


def test_window_evidence_by_hand():
    x = np.array([[0.0, np.nan, -3.0, -2.0, np.nan, -1.0, 5.0]])
    n = np.full(x.shape, 1e12)  # a baseline without uncertainty, mean 0 and SD 1
    d = deviations(x, np.zeros_like(x), np.ones_like(x))
    e = window_evidence(d, n, n, max_days=3)
    # day 1: no reading today, {0} over 2 days; day 3: {−2}, {−3, −2} = −5/√2 over 2 days; day 4: {−2}, {−3, −2}
    # over 3 days; day 5: {−1}, {−1}, {−2, −1} = −3/√2 over 3 days; day 6: {5}, {−1, 5} = 4/√2 is the lowest
    r2 = np.sqrt(2)
    np.testing.assert_allclose(e.score[0], [0, 0, -3, -5 / r2, -5 / r2, -3 / r2, 4 / r2], atol=1e-6)
    np.testing.assert_array_equal(e.days[0], [1, 2, 1, 2, 3, 3, 2])
    np.testing.assert_array_equal(e.readings[0], [1, 1, 1, 2, 2, 2, 2])
    np.testing.assert_allclose(e.mean[0], [0, 0, -3, -2.5, -2.5, -1.5, 2])
    two = window_evidence(d, n, n, max_days=3, min_readings=2)
    np.testing.assert_allclose(two.score[0], [np.nan, np.nan, -3 / r2, -5 / r2, -5 / r2, -3 / r2, 4 / r2], atol=1e-6)
    capped = window_evidence(d, n, n, max_days=3, min_readings=2, cap_sd=2.0)  # −3 counts as −2
    assert capped.score[0, 3] == pytest.approx(-4 / r2) and capped.mean[0, 3] == pytest.approx(-2.5)
    assert capped.score[0, 6] == pytest.approx(1 / r2)  # {−1, 5 → 2}
    shifted = deviations(x + 4.0, np.full_like(x, 4.0), np.full_like(x, 2.0))  # readings in SDs of their baseline
    np.testing.assert_allclose(window_evidence(shifted, n, n, max_days=3).score[0], e.score[0] / 2, atol=1e-6)
    up = window_evidence(d, n, n, max_days=3, direction=1.0)
    assert up.score[0, 6] == pytest.approx(5.0) and up.days[0, 6] == 1
    valid = np.array([[True, True, True, False, True, True, True]])
    assert np.isnan(window_evidence(d, n, n, max_days=3, valid=valid).score[0, 3])


def mornings(drop_ln: float, n: int = 1):
    """Athletes with a fixed 0.1 ln-rMSSD SD, mornings alternating ±1 SD, then ``drop_ln`` on mornings from ONSET."""
    pattern = np.where(np.arange(DAYS) % 2 == 0, 0.1, -0.1)
    ln = np.tile(4.0 + pattern, (n, 1))
    ln[:, ONSET:] = 4.0 + drop_ln
    rhr = np.tile(50.0 + 10.0 * pattern, (n, 1))  # uncorrelated HR would change nothing: keep it steady
    rhr[:, ONSET:] = 50.0
    return ln, rhr


def engine(ln, rhr, th):
    n, d = ln.shape
    inputs = daily_inputs([f"A{i}" for i in range(n)], "2025-01-06", np.full((n, d), np.nan), ln, rhr, {})
    ind = compute_indicators(inputs, th)
    return ind, evaluate_signals(ind, th)


def with_recovery(th, **changes):
    return dataclasses.replace(th, recovery=dataclasses.replace(th.recovery, **changes))


def test_hrv_evidence_confirms_at_its_bound_and_not_below_it():
    th = load_thresholds()
    ln, rhr = mornings(-0.45)
    ind, _ = engine(ln, rhr, th)
    t = ONSET + 1  # the second morning of the drop
    score = ind.hrv_evidence.score[0, t]
    assert ind.hrv_evidence.days[0, t] == 2 and ind.hrv_evidence.readings[0, t] == 2
    assert -th.recovery.act_z < score < -th.recovery.evidence_z  # 4.5 × 0.1 below a mean of 4.0 twice
    at_bound = with_recovery(th, evidence_z=-score)
    ind, signals = engine(ln, rhr, at_bound)
    assert signals["hrv_suppressed"].flagged[0, t] and not signals["hrv_suppressed"].flagged[0, : ONSET + 1].any()
    flag = next(f for f in flags_on(signals, ind, 0, t) if f.signal == "hrv_suppressed")
    assert flag.severity == "watch"
    noise = ind.hrv_noise
    assert noise.n[0, t] == t + 1 - th.recovery.window_days and noise.sd[0, t] == pytest.approx(0.1, rel=0.01)
    assert (
        f"the last 2 mornings average ln rMSSD 3.55, {-score:.1f} SD below your 60-day mean (day-to-day SD 0.10 "
        f"from {noise.n[0, t]} mornings in {th.recovery.noise_days} days; watch from {-score:g} SD"
    ) in flag.reason
    assert "nan" not in flag.reason
    just_above = with_recovery(th, evidence_z=np.nextafter(-score, np.inf))
    assert not engine(ln, rhr, just_above)[1]["hrv_suppressed"].flagged[0, t]


def test_act_needs_the_act_evidence_at_its_bound():
    th = load_thresholds()
    ln, rhr = mornings(-0.45)
    t = ONSET + 1
    score = engine(ln, rhr, th)[0].hrv_evidence.score[0, t]
    for act_z, severity in ((-score, "act"), (np.nextafter(-score, np.inf), "watch")):
        ind, signals = engine(ln, rhr, with_recovery(th, evidence_z=4.0, act_z=act_z))
        assert ind.hrv_week.mean[0, t] < ind.hrv_base.mean[0, t] - th.recovery.act_sd * ind.hrv_base.sd[0, t]
        flag = next(f for f in flags_on(signals, ind, 0, t) if f.signal == "hrv_suppressed")
        assert flag.severity == severity
        if severity == "act":
            assert flag.threshold == pytest.approx(ind.hrv_base.mean[0, t] - ind.hrv_base.sd[0, t])
            assert f"Act: evidence of {act_z:g} SD or more" in flag.reason


def test_joint_evidence_confirms_at_its_bound_and_names_the_correlation():
    th = with_recovery(load_thresholds(), evidence_z=1e9, act_z=1e9)  # the HRV evidence alone never confirms
    ln, rhr = mornings(-0.3)
    rng = np.random.default_rng(1)
    rhr = 50.0 - 30.0 * (ln - 4.0) + rng.normal(0.0, 1.0, ln.shape)  # HR falls when HRV rises: ρ < 0
    rhr[:, ONSET:] = 66.0
    ind, _ = engine(ln, rhr, th)
    t = ONSET + 1
    score, rho = ind.joint_evidence.score[0, t], ind.hrv_rhr_correlation[0, t]
    assert score > 5 and -1 < rho < -0.5 and ind.joint_evidence.readings[0, t] == 2
    for bound, fires in ((score, True), (np.nextafter(score, np.inf), False)):
        ind, signals = engine(ln, rhr, with_recovery(th, joint_evidence_z=bound))
        assert signals["hrv_suppressed"].flagged[0, t] == fires
        if fires:
            flag = next(f for f in flags_on(signals, ind, 0, t) if f.signal == "hrv_suppressed")
            assert (
                f"HRV down and resting HR up together: the joint score of the last 2 mornings {score:.1f} "
                f"(≥ {score:g}; your HRV–HR correlation {rho:+.2f})"
            ) in flag.reason
            assert "SD below your 60-day mean" not in flag.reason and "nan" not in flag.reason


def test_one_morning_never_confirms_however_low_and_larger_drops_need_fewer_mornings():
    th = load_thresholds()
    ln, rhr = mornings(-2.0)  # 20 SD, as a bad reading could be: it counts as 6 SD (evidence_cap_sd), and with the
    ind, signals = engine(ln, rhr, th)  # normal morning before it the 2-day window stays below 5 SD
    flagged = signals["hrv_suppressed"].flagged[0]
    assert ind.hrv_evidence.score[0, ONSET] > -th.recovery.evidence_z and ind.hrv_evidence.mean[0, ONSET] < 3.0
    assert not flagged[ONSET] and flagged[ONSET + 1] and signals["hrv_suppressed"].act[0, ONSET + 1]
    uncapped = engine(ln, rhr, with_recovery(th, evidence_cap_sd=np.inf))[1]["hrv_suppressed"].flagged[0]
    assert uncapped[ONSET]
    first = {}
    for drop_sd in (8.0, 3.5, 3.0, 2.5, 2.0):
        flagged = engine(*mornings(-0.1 * drop_sd), th)[1]["hrv_suppressed"].flagged[0, ONSET:]
        first[drop_sd] = int(np.argmax(flagged)) if flagged.any() else None
    assert first == {8.0: 1, 3.5: 2, 3.0: 3, 2.5: 5, 2.0: None}  # the 2nd, 3rd, 4th, 6th morning; a 2-SD drop
    # stays below 5 SD of evidence in a week: 2·√7 before the baseline's own uncertainty


def sessions(shift: float, sd: float = 2.0):
    """One athlete with a session every day, SI alternating ±sd around 0, then ``shift`` points from ONSET."""
    si = np.where(np.arange(DAYS) % 2 == 0, sd, -sd)[None].astype(float)
    si[:, ONSET:] = shift
    return si


def test_asymmetry_jump_fires_at_its_bound_and_names_the_evidence():
    th = load_thresholds()
    at = dataclasses.replace(th.asymmetry, cusum_h=1e9)
    si = sessions(-12.0)
    s = asy.asymmetry_series(*daily(si), baseline_days=at.baseline_days, min_sessions_baseline=10, cusum_h=1e9)
    t = ONSET + 1
    score = s.jump_z[0, t]
    assert score < -at.jump_z and np.isnan(s.jump_z[0, 0])
    for bound, fires in ((-score, True), (np.nextafter(-score, np.inf), False)):
        th2 = dataclasses.replace(th, asymmetry=dataclasses.replace(at, jump_z=bound))
        inputs = daily_inputs(["A0"], "2025-01-06", np.full(si.shape, np.nan), si * np.nan, si * np.nan, {"gct": si})
        ind = compute_indicators(inputs, th2)
        signals = evaluate_signals(ind, th2)
        assert bool(signals["asymmetry_shift"].flagged[0, t]) == fires
        assert not signals["asymmetry_shift"].flagged[0, :ONSET].any()
        if fires:
            flag = next(f for f in flags_on(signals, ind, 0, t) if f.signal == "asymmetry_shift")
            assert flag.value == pytest.approx(-score) and flag.threshold == pytest.approx(-score)
            assert f"the SI of the last 2 session days is {-score:.1f} SD from your baseline" in flag.reason
            assert flag.window.startswith("ground-contact time SI of the last 2 session days")
            assert "CUSUM" not in flag.reason and "nan" not in flag.reason


def test_a_large_shift_is_seen_in_two_sessions_a_week_or_more_apart():
    th = load_thresholds()
    at = th.asymmetry
    si = sessions(-12.0)
    gap = at.window_days + 2  # the 2nd session 9 days after the 1st: never 2 sessions in one 7-day window
    si[:, ONSET + 1 :] = np.nan
    si[:, ONSET + gap] = -12.0
    s = asy.asymmetry_series(
        *daily(si), window_days=at.window_days, baseline_days=at.baseline_days,
        min_sessions_baseline=at.min_baseline_sessions, cusum_h=1e9, jump_z=at.jump_z,
    )  # fmt: skip
    assert not s.week_ok[0, ONSET + at.window_days :].any()  # the 7-day SI never has the 2 shifted sessions ...
    assert s.jump_z[0, ONSET + gap] < -at.jump_z  # ... the 2 sessions' evidence is there
    alarm = s.jump_alarm[0]
    assert not alarm[: ONSET + gap].any() and alarm[ONSET + gap]
    last = ONSET + gap + at.window_days - 1  # held while the last session is in the week, not after
    assert alarm[ONSET + gap : last + 1].all() and not alarm[last + 1 :].any()


def test_a_cusum_alarm_still_says_cusum():
    th = load_thresholds()
    si = sessions(-12.0)
    inputs = daily_inputs(["A0"], "2025-01-06", np.full(si.shape, np.nan), si * np.nan, si * np.nan, {"gct": si})
    ind = compute_indicators(inputs, th)
    signals = evaluate_signals(ind, th)
    t = ONSET + 3
    assert ind.asymmetry["gct"].cusum_alarm[0, t]
    flag = next(f for f in flags_on(signals, ind, 0, t) if f.signal == "asymmetry_shift")
    assert f"> {th.asymmetry.cusum_h:g} baseline SDs" in flag.reason and flag.threshold == th.asymmetry.cusum_h


def daily(si):
    ok = np.isfinite(si)
    return np.where(ok, si, 0.0), np.where(ok, si * si, 0.0), ok.astype(int)


def test_reading_counts_must_be_at_least_one_and_act_at_least_the_watch(tmp_path):
    bad = tmp_path / "t.toml"
    for text, error in (
        ("[asymmetry]\njump_sessions = 0\n", "jump_sessions must be ≥ 1"),
        ("[recovery]\nevidence_min_mornings = 0\n", "evidence_min_mornings and asymmetry.jump_sessions must be ≥ 1"),
        ("[recovery]\nact_z = 4.9\n", "recovery.act_z must not be below recovery.evidence_z"),
        ("[recovery]\nnoise_days = 120\n", "recent_lookback_days must cover"),
    ):
        bad.write_text(text)
        with pytest.raises(ValueError, match=error):
            load_thresholds(bad)
    bad.write_text("[recovery]\nact_z = 5.0\nnoise_days = 113\n")  # act = watch and 113 + 7 = 120: allowed
    assert load_thresholds(bad).recovery.act_z == load_thresholds(bad).recovery.evidence_z

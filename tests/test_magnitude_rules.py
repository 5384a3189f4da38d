"""Magnitude-scaled evidence (monitor.evidence): a large HRV drop or asymmetry shift is flagged after one or two
readings, pinned at each new threshold's boundary, and the reason says which evidence fired."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from monitor import asymmetry as asy
from monitor.evidence import joint_score, paired_correlation, recent_score
from monitor.rules import compute_indicators, daily_inputs, evaluate_signals, flags_on
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


def test_hrv_jump_confirms_at_its_bound_and_not_below_it():
    th = load_thresholds()
    th = dataclasses.replace(th, recovery=dataclasses.replace(th.recovery, hrv_cusum_h=1e9, joint_cusum_h=1e9))
    ln, rhr = mornings(-0.5)
    ind, _ = engine(ln, rhr, th)
    t = ONSET + 1  # the second morning of the drop
    score = ind.hrv_jump[0, t]
    assert score < -th.recovery.hrv_jump_z  # 5 × 0.1 below a mean of 4.0 twice
    assert ind.joint_jump[0, t] < th.recovery.joint_jump_z
    rt = th.recovery
    at_bound = dataclasses.replace(th, recovery=dataclasses.replace(rt, hrv_jump_z=-score))
    ind, signals = engine(ln, rhr, at_bound)
    assert signals["hrv_suppressed"].flagged[0, t] and not signals["hrv_suppressed"].flagged[0, ONSET - 1]
    flag = next(f for f in flags_on(signals, ind, 0, t) if f.signal == "hrv_suppressed")
    assert f"a large drop: ln rMSSD of the last 2 mornings {-score:.1f} SD below (≥ {-score:g})" in flag.reason
    assert "CUSUM" not in flag.reason and "nan" not in flag.reason
    just_above = dataclasses.replace(th, recovery=dataclasses.replace(rt, hrv_jump_z=np.nextafter(-score, np.inf)))
    assert not engine(ln, rhr, just_above)[1]["hrv_suppressed"].flagged[0, t]


def test_joint_jump_confirms_at_its_bound():
    th = load_thresholds()
    rt = dataclasses.replace(th.recovery, hrv_cusum_h=1e9, joint_cusum_h=1e9, hrv_jump_z=1e9)
    ln, rhr = mornings(-0.3)
    rhr[:, ONSET:] = 58.0
    ind, _ = engine(ln, rhr, dataclasses.replace(th, recovery=rt))
    t = ONSET + 1
    score = ind.joint_jump[0, t]
    assert score > 0
    for bound, fires in ((score, True), (np.nextafter(score, np.inf), False)):
        at = dataclasses.replace(th, recovery=dataclasses.replace(rt, joint_jump_z=bound))
        ind, signals = engine(ln, rhr, at)
        assert signals["hrv_suppressed"].flagged[0, t] == fires
        if fires:
            flag = next(f for f in flags_on(signals, ind, 0, t) if f.signal == "hrv_suppressed")
            assert f"joint HRV-down/HR-up score of the last 2 mornings {score:.1f} (≥ {score:g})" in flag.reason
            assert "a large drop" not in flag.reason and "nan" not in flag.reason


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


def test_jump_counts_must_be_at_least_one(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text("[asymmetry]\njump_sessions = 0\n")
    with pytest.raises(ValueError, match="jump_sessions must be ≥ 1"):
        load_thresholds(bad)

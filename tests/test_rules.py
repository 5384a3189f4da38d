"""The flag engine (monitor.indicators, .signals, .rules): signals, explainable flags, the IDN rule, thresholds
and missing data."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from engine_replay import history_inputs

from ingest.virtual.training_history import simulate_training_history
from monitor.indicators import compute_indicators, daily_inputs
from monitor.rolling import rolling_stats
from monitor.rules import flags_on, idn_reasons, idn_series
from monitor.signals import SIGNALS, evaluate_signals, run_length
from monitor.thresholds import DEFAULTS_PATH, load_thresholds

FIRST_DAY = np.datetime64("2025-01-06")


def inputs_of(h):
    return history_inputs(h, FIRST_DAY)


def run(h, th=None):
    th = th or load_thresholds()
    ind = compute_indicators(inputs_of(h), th)
    signals = evaluate_signals(ind, th)
    return ind, signals, idn_series(signals, th)


def test_rolling_stats_per_row_equal_numpy_on_each_window():
    rng = np.random.default_rng(3)
    x = np.where(rng.random((4, 120)) < 0.8, rng.normal(4.0, 0.1, (4, 120)), np.nan)
    x[2] = np.nan  # an athlete without readings
    both = rolling_stats(x, 60, lag=7)
    for i in range(4):
        one = rolling_stats(x[i], 60, lag=7)  # a single series gives the same as its row
        np.testing.assert_array_equal(both.n[i], one.n)
        np.testing.assert_allclose(both.mean[i], one.mean, equal_nan=True, rtol=1e-10)
        for t in (10, 70, 119):
            values = x[i, max(0, t - 66) : t - 6]
            values = values[np.isfinite(values)]
            assert both.n[i, t] == values.size
            if values.size > 1:
                assert both.mean[i, t] == pytest.approx(values.mean(), rel=1e-10)
                assert both.sd[i, t] == pytest.approx(values.std(ddof=1), rel=1e-8)
            else:
                assert np.isnan(both.sd[i, t])


def test_run_length():
    np.testing.assert_array_equal(run_length(np.array([[1, 1, 0, 1, 1, 1]], bool))[0], [1, 2, 0, 1, 2, 3])


def test_flags_carry_value_threshold_window_since_and_reason():
    n, onset = 4, 120
    h = simulate_training_history(
        n, 150, np.random.default_rng(8), hrv_drop_day=[-1, onset, -1, -1], spike_day=[-1, -1, onset, -1]
    )
    ind, signals, _ = run(h)
    t = 149
    hrv = [f for f in flags_on(signals, ind, 1, t) if f.signal == "hrv_suppressed"]
    assert len(hrv) == 1
    f = hrv[0]
    assert f.family == "recovery" and f.value < f.threshold and f.window == "7d mean vs 60d normal range"
    assert onset <= (f.since - dt.date(2025, 1, 6)).days <= onset + 7  # a drop of ~2 of its baseline SDs: 6 days
    assert "normal range" in f.reason and f"since {f.since.isoformat()}" in f.reason
    load = {f.signal: f for f in flags_on(signals, ind, 2, onset + 6)}
    assert {"acwr_spike", "strain_high", "load_surge"} & set(load)
    for f in load.values():
        assert f.family == "load" and f.value >= f.threshold
        assert "injury risk" not in f.reason.lower().replace("not an injury-risk", "")
    assert flags_on(signals, ind, 0, t) == []  # the steady athlete
    assert set(signals) == set(SIGNALS)


def test_idn_rule_any_act_or_watch_in_two_families_within_seven_days():
    h = simulate_training_history(2, 150, np.random.default_rng(8))
    ind, signals, _ = run(h)
    th = load_thresholds()
    for s in signals.values():  # start from a clean slate, then place flags by hand
        s.flagged[:] = False
        s.act[:] = False
    signals["monotony_high"].flagged[0, 100] = True  # load watch on day 100
    assert not idn_series(signals, th)[0, 100]  # one family, watch only
    signals["asymmetry_shift"].flagged[0, 106] = True  # asymmetry watch 6 days later: two families within 7 days
    idn = idn_series(signals, th)
    assert idn[0, 106] and not idn[0, 105] and not idn[0, 107]
    reasons = idn_reasons(signals, ind, th, 0, 106)
    assert len(reasons) == 2 and any(r.startswith("watch (load)") for r in reasons)
    signals["asymmetry_shift"].flagged[0, 106] = False
    signals["asymmetry_shift"].flagged[0, 107] = True  # 7 days later: outside the window
    assert not idn_series(signals, th)[0, 107]
    signals["hrv_suppressed"].flagged[1, 90] = signals["hrv_suppressed"].act[1, 90] = True  # any act flag
    idn = idn_series(signals, th)
    assert idn[1, 90] and not idn[1, 91]


def test_missing_data_gives_insufficient_data_not_flags_or_crashes():
    th = load_thresholds()
    n_days = 40
    empty = daily_inputs(["A"], FIRST_DAY, np.full((1, n_days), np.nan), np.full((1, n_days), np.nan),
                         np.full((1, n_days), np.nan), {"gct": np.full((1, n_days), np.nan)})  # fmt: skip
    ind = compute_indicators(empty, th)
    signals = evaluate_signals(ind, th)
    assert not any(s.flagged.any() for s in signals.values())
    for name in ("acwr", "monotony", "strain", "ctl", "tsb"):
        assert np.isnan(getattr(ind, name)).all(), name
    assert not ind.hrv_ok.any()
    short = simulate_training_history(1, 20, np.random.default_rng(1))  # 20 days: no ACWR, no baseline
    ind, signals, idn = run(short)
    assert np.isnan(ind.acwr).all() and np.isnan(ind.ctl).all() and not ind.hrv_ok.any()
    assert np.isfinite(ind.monotony[0, 19]) or not np.isfinite(short.srpe_load[0]).any()
    assert not idn.any()
    nobody = np.zeros((0, n_days))
    ind = compute_indicators(daily_inputs([], FIRST_DAY, nobody, nobody, nobody, {"gct": nobody}), th)
    signals = evaluate_signals(ind, th)
    assert ind.acwr.shape == (0, n_days) and idn_series(signals, th).shape == (0, n_days)


def test_thresholds_defaults_overrides_and_errors(tmp_path):
    th = load_thresholds()
    assert th.load.acwr_watch == 1.5 and th.load.monotony_act == float("inf")
    assert th.recovery.baseline_days == 60 and th.asymmetry.watch_pct == 10.0 and th.asymmetry.act_pct == 15.0
    custom = tmp_path / "mine.toml"
    custom.write_text('[load]\nacwr_watch = 1.3\nacwr_variant = "uncoupled"\n[idn]\nmin_watch_families = 3\n')
    mine = load_thresholds(custom)
    assert mine.load.acwr_watch == 1.3 and mine.load.acwr_variant == "uncoupled" and mine.idn.min_watch_families == 3
    assert mine.load.acwr_act == th.load.acwr_act  # everything else keeps the default
    bad = {
        "[load]\nacwr_wach = 1.3\n": "unknown key load.acwr_wach",
        "[loads]\nx = 1\n": "unknown section",
        '[load]\nacwr_watch = "high"\n': "must be a number",
        "[load]\nacute_days = 7.5\n": "whole number",
        '[load]\nacwr_variant = "median"\n': "acwr_variant",
        "[asymmetry]\nact_pct = 5.0\n": "must not be below",
        "[asymmetry]\ncusum_h = -1.0\n": "asymmetry.cusum_h must be a number ≥ 0",
        "[recovery]\nrange_sd = -0.5\n": "recovery.range_sd must be a number ≥ 0",
        "[load\n": "not valid TOML",
    }
    for text, message in bad.items():
        custom.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_thresholds(custom)
    with pytest.raises(ValueError, match="No such file"):
        load_thresholds(tmp_path / "missing.toml")
    assert DEFAULTS_PATH.is_file()


def test_thresholds_change_the_rules():
    h = simulate_training_history(30, 150, np.random.default_rng(2))
    th = load_thresholds()
    strict = dataclasses.replace(th, load=dataclasses.replace(th.load, acwr_watch=0.5, heavy_week_units=0.0))
    _, signals, _ = run(h, strict)
    assert signals["acwr_spike"].flagged.any()  # a ratio above 0.5 and any week is every ordinary day
    coupled = dataclasses.replace(th, load=dataclasses.replace(th.load, acwr_variant="coupled"))
    ind, _, _ = run(h, coupled)
    np.testing.assert_array_equal(ind.acwr, ind.acwr_coupled)


def test_asymmetry_level_must_clear_the_threshold_by_its_standard_error():
    days = 120
    si = np.empty((2, days))
    si[0] = np.where(np.arange(days) % 2, 8.5, 12.5)  # 7-day mean ≈ 10.5, SD 2.1: within noise of 10 %
    si[1] = np.where(np.arange(days) % 2, 11.0, 13.0)  # 7-day mean ≈ 12, SE ≈ 0.6: clearly beyond 10 %
    nothing = np.full((2, days), np.nan)
    inputs = daily_inputs(["A", "B"], FIRST_DAY, np.full((2, days), 300.0), nothing, nothing, {"gct": si})
    th = load_thresholds()
    level = evaluate_signals(compute_indicators(inputs, th), th)["asymmetry_gct"]
    assert not level.flagged[0].any()
    first = int(np.argmax(level.flagged[1]))
    assert first == 2 + th.asymmetry.persistence_days - 1  # 3 sessions by day 2, then held for 5 days
    assert not level.act[1].any()
    assert level.value[1, 100] == pytest.approx(12.0, abs=0.15)

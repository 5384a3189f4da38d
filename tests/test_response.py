"""Treatment response numerics (monitor.response) and the simulator's visit: windows, Welch interval, verdicts and
their boundaries, minimum days, regions → muscles, the combined level score and the simulated treatment effect."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ingest.ble.muscle_load import MUSCLES
from ingest.regions import REGION_NAMES, REGIONS
from ingest.virtual.training_history import FITTED_NOISE, simulate_training_history
from monitor import response as rs

VISIT = 80  # day index of the visit on a 100-day grid


def one_series(values: dict[int, float], n_days: int = 100) -> np.ndarray:
    """A (1, n_days) series with ``values`` at offsets from the visit day, NaN elsewhere."""
    x = np.full((1, n_days), np.nan)
    for offset, value in values.items():
        x[0, VISIT + offset] = value
    return x


def test_windows_are_days_minus_7_to_minus_1_and_2_to_8_after_a_baseline_of_60_days():
    days = np.arange(100, dtype=float)[None]
    w = rs.visit_windows(days, np.array([VISIT]))
    assert w.pre[0].tolist() == list(range(VISIT - 7, VISIT))  # day 0 (the visit day) left out
    assert w.post[0].tolist() == list(range(VISIT + 2, VISIT + 9))  # day 1 (first 24 h) left out, day 8 in
    assert w.baseline[0].tolist() == list(range(VISIT - 67, VISIT - 7))
    # outside the grid: NaN, not wrapped or clipped values
    early = rs.visit_windows(days, np.array([10]))
    assert np.isnan(early.baseline[0, :57]).all() and early.baseline[0, 57:].tolist() == [0.0, 1.0, 2.0]
    late = rs.visit_windows(days, np.array([95]))
    assert late.post[0, :3].tolist() == [97.0, 98.0, 99.0] and np.isnan(late.post[0, 3:]).all()


def test_the_welch_interval_equals_scipys():
    rng = np.random.default_rng(4)
    pre, post = rng.normal(0, 1, (5, 7)), rng.normal(1, 2, (5, 7))
    pre[1, :3] = np.nan  # NaN days are left out
    diff, low, high = rs.welch_interval(pre, post)
    for v in range(5):
        a, b = pre[v][np.isfinite(pre[v])], post[v]
        ref = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
        assert diff[v] == pytest.approx(b.mean() - a.mean())
        assert (low[v], high[v]) == pytest.approx((ref.low, ref.high), rel=1e-12)


def test_windows_without_spread_give_a_point_interval_and_one_value_none():
    diff, low, high = rs.welch_interval(np.array([[2.0, 2.0, 2.0]]), np.array([[1.0, 1.0, 1.0]]))
    assert (diff[0], low[0], high[0]) == (-1.0, -1.0, -1.0)
    diff, low, high = rs.welch_interval(np.array([[2.0, np.nan]]), np.array([[1.0, 3.0]]))
    assert diff[0] == 0.0 and np.isnan(low[0]) and np.isnan(high[0])


def test_verdict_boundaries_a_bound_exactly_at_zero_is_unchanged():
    ok = np.ones(6, bool)
    low = np.array([-2.0, -2.0, -1e-12, 0.0, 1e-12, -1.0])
    high = np.array([-1e-12, 0.0, 3.0, 3.0, 3.0, 1.0])
    down = rs.verdict(low, high, "down", ok).tolist()
    assert down == ["improved", "unchanged", "unchanged", "unchanged", "worse", "unchanged"]
    up = rs.verdict(low, high, "up", ok).tolist()
    assert up == ["worse", "unchanged", "unchanged", "unchanged", "improved", "unchanged"]
    assert rs.verdict(low, high, "up", ~ok).tolist() == ["insufficient data"] * 6


def _days(n_base: int, n_pre: int, n_post: int) -> np.ndarray:
    values = {-8 - k: 10.0 + (k % 3) for k in range(n_base)}
    values |= {-1 - k: 12.0 + k % 2 for k in range(n_pre)}
    values |= {2 + k: 5.0 + k % 2 for k in range(n_post)}
    values[0] = values[1] = 99.0  # the visit day and the first 24 h count nowhere
    return one_series(values)


@pytest.mark.parametrize(
    ("n_base", "n_pre", "n_post", "enough"),
    [(10, 3, 3, True), (9, 3, 3, False), (10, 2, 3, False), (10, 3, 2, False), (60, 7, 7, True)],
)
def test_minimum_days_three_in_each_window_and_ten_in_the_baseline(n_base, n_pre, n_post, enough):
    assert (rs.MIN_WINDOW_DAYS, rs.MIN_BASELINE_DAYS) == (3, 10)
    c = rs.compare(rs.visit_windows(_days(n_base, n_pre, n_post), np.array([VISIT])), "down", 1.5)
    assert bool(c.sufficient[0]) is enough
    assert c.verdict[0] == ("improved" if enough else "insufficient data")
    assert (int(c.n_baseline[0]), int(c.n_pre[0]), int(c.n_post[0])) == (n_base, n_pre, n_post)


def test_the_change_is_in_baseline_sds_with_the_floor():
    c = rs.compare(rs.visit_windows(_days(12, 4, 4), np.array([VISIT])), "down", 1.5)
    base = np.array([10.0 + (k % 3) for k in range(12)])
    assert c.unit[0] == pytest.approx(max(base.std(ddof=1), 1.5)) and c.unit[0] == 1.5  # SD 0.85 → floor
    assert c.change[0] == pytest.approx(5.5 - 12.5)
    assert c.change_sd[0] == pytest.approx(-7.0 / 1.5)
    _, low, high = rs.welch_interval(np.array([[12.0, 13, 12, 13]]), np.array([[5.0, 6, 5, 6]]))
    assert (c.ci_low_sd[0], c.ci_high_sd[0]) == pytest.approx((low[0] / 1.5, high[0] / 1.5))


def test_a_level_combines_its_metrics_as_signed_baseline_scores():
    """ln rMSSD up 1 SD and resting HR down 1 SD: the systemic score improves by 1 SD; one metric missing after
    the visit leaves the level to the other."""
    rng = np.random.default_rng(1)
    n = 100
    ln = 4.0 + 0.1 * rng.standard_normal((2, n))
    hr = 50.0 + 2.0 * rng.standard_normal((2, n))
    ln[:, VISIT + 2 :] += 0.3
    hr[:, VISIT + 2 :] -= 6.0
    hr[1, VISIT + 2 :] = np.nan
    r = rs.visit_responses(np.array([VISIT, VISIT]), {"ln_rmssd": ln, "resting_hr_bpm": hr})
    assert set(r) == {"systemic"}
    sys_ = r["systemic"]
    assert sys_.metrics["ln_rmssd"].verdict.tolist() == ["improved", "improved"]
    assert sys_.metrics["resting_hr_bpm"].verdict.tolist() == ["improved", "insufficient data"]
    assert sys_.score.verdict.tolist() == ["improved", "improved"]
    # the score is the mean of the standardised metrics, sign turned for resting HR (down = better)
    z = []
    for name, sign in (("ln_rmssd", 1.0), ("resting_hr_bpm", -1.0)):
        c = sys_.metrics[name]
        z.append(sign * (c.post_mean[0] - c.pre_mean[0]) / c.unit[0])
    assert sys_.score.change_sd[0] == pytest.approx(np.mean(z))
    assert sys_.score.change_sd[1] == pytest.approx(sys_.metrics["ln_rmssd"].change_sd[1])
    with pytest.raises(KeyError, match="unknown response metric"):
        rs.visit_responses(np.array([VISIT]), {"hrv": ln[:1]})


def test_worse_and_json_of_a_level():
    x = _days(20, 5, 5)
    worse = np.where(np.isfinite(x), x, np.nan)
    worse[0, VISIT + 2 : VISIT + 9] = 30.0 + np.arange(7) % 2  # |SI| up
    r = rs.visit_responses(np.array([VISIT]), {"gct_si_abs_pct": worse})
    out = rs.level_json(r["segmental"], 0)
    assert out["verdict"] == "worse" and out["improvement_sd"] < 0 and out["ci95_sd"][1] < 0
    assert out["metrics_used"] == ["gct_si_abs_pct"]
    metric = out["metrics"]["gct_si_abs_pct"]
    assert metric["verdict"] == "worse" and metric["change_sd"] > 0 and metric["good_direction"] == "down"
    assert metric["days"] == {"baseline": 20, "pre": 5, "post": 7}


def test_insufficient_data_shows_no_change_or_interval():
    r = rs.visit_responses(np.array([VISIT]), {"pedal_si_abs_pct": _days(20, 2, 5)})
    out = rs.level_json(r["segmental"], 0)
    assert out["verdict"] == "insufficient data" and out["improvement_sd"] is None and out["ci95_sd"] == [None, None]
    metric = out["metrics"]["pedal_si_abs_pct"]
    assert metric["change_sd"] is None and metric["ci95_sd"] == [None, None] and metric["pre_mean"] == 12.5


def test_regions_map_to_pod_muscles():
    assert rs.muscles_for_regions(["calf_l"]) == ("gastrocnemius lateralis", "gastrocnemius medialis")
    assert rs.muscles_for_regions(["calf_r", "calf_l", "soleus_r"]) == (
        "gastrocnemius lateralis",
        "gastrocnemius medialis",
        "soleus",
    )
    assert rs.muscles_for_regions(["lumbar", "plantar_fascia_l", "hip_flexor_r"]) == ()
    hamstring_glute = ("biceps femoris", "gluteus medius", "semitendinosus")
    assert rs.muscles_for_regions(["hamstring_l", "glute_med_r"]) == hamstring_glute


def test_the_mapping_uses_the_region_vocabulary_and_the_pods_muscle_names():
    groups = {r.group for r in REGIONS}
    assert set(rs.REGION_MUSCLES) <= groups
    assert {rs.region_group(name) for name in REGION_NAMES} == groups
    pod_muscles = set(MUSCLES.values()) - {"unspecified"}
    mapped = {m for muscles in rs.REGION_MUSCLES.values() for m in muscles}
    assert mapped == pod_muscles  # every pod muscle is reachable from a region, and no name is misspelt


def test_daily_left_right_si_from_strides():
    day = np.array([0, 0, 0, 1, 2, 2])
    left = np.array([True, True, False, True, True, False])
    emg = np.array([30.0, 50.0, 30.0, 40.0, 20.0, 20.0])
    si = rs.daily_left_right_si_pct(day, left, emg, 4)
    assert si[0] == pytest.approx(200 * (40 - 30) / 70) and si[2] == 0.0
    assert np.isnan(si[1]) and np.isnan(si[3])  # one side only / no strides


def test_squad_summary_counts_verdicts_per_level():
    def visit(local: str, segmental: str, systemic: str) -> dict:
        return {"local": {"verdict": local}, "segmental": {"verdict": segmental}, "systemic": {"verdict": systemic}}

    summary = rs.squad_summary(
        [visit("improved", "worse", "insufficient data"), visit("unchanged", "improved", "insufficient data")]
    )
    assert summary["local"] == {
        "visits_judged": 2, "improved": 1, "unchanged": 1, "worse": 0, "insufficient data": 0, "improved_share": 0.5,
    }  # fmt: skip
    assert summary["systemic"]["improved_share"] is None and summary["systemic"]["insufficient data"] == 2


# --- the simulator's visit ------------------------------------------------------------------------------------


def _history(**kwargs):
    return simulate_training_history(
        8, 130, np.random.default_rng(7), hrv_drop_day=100, muscle_onset_day=100, noise=FITTED_NOISE, **kwargs
    )


def test_no_visit_leaves_every_draw_and_output_unchanged():
    plain, none = _history(), _history(visit_day=-1)
    for name in ("ln_rmssd", "morning_hr_bpm", "muscle_load_left", "muscle_load_right", "gct_left_ms", "srpe_load"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(none, name))
    assert plain.pod_muscle is None and (plain.visit_day == -1).all()


def test_a_visit_with_effect_fades_the_episode_and_without_effect_only_the_next_morning_dips():
    plain = _history()
    effect = _history(visit_day=110, visit_effect=True, visit_effect_days=3.0)
    none = _history(visit_day=110, visit_effect=False)
    # no effect: identical except the morning after the visit, lower by the athlete's SD (post-needling soreness)
    same = np.ones(130, bool)
    same[111] = False
    np.testing.assert_array_equal(none.ln_rmssd[:, same], plain.ln_rmssd[:, same])
    np.testing.assert_array_equal(none.morning_hr_bpm, plain.morning_hr_bpm)
    np.testing.assert_array_equal(none.muscle_load_left, plain.muscle_load_left)
    ln_sd = plain.ln_rmssd[:, 111] - none.ln_rmssd[:, 111]
    assert np.nanmin(ln_sd) > 0.05 and np.isfinite(ln_sd).sum() >= 6
    # effect: the muscle SI shift (−15 points) and the HRV drop (3 SD) fade as exp(−days after the visit / 3)
    si = lambda h: 200 * (h.muscle_load_left - h.muscle_load_right) / (h.muscle_load_left + h.muscle_load_right)  # noqa: E731
    for t in (110, 111, 113, 119):
        gone = 1 - np.exp(-max(t - 110, 0) / 3.0)
        back = (si(effect) - si(plain))[:, t]
        assert back[np.isfinite(back)] == pytest.approx(15.0 * gone, abs=1e-9) and np.isfinite(back).any()
        lifted = (effect.ln_rmssd - none.ln_rmssd)[:, t] / ln_sd
        assert lifted[np.isfinite(lifted)] == pytest.approx(3.0 * gone, abs=1e-9)
    np.testing.assert_array_equal(effect.ln_rmssd[:, :111], plain.ln_rmssd[:, :111])
    assert (effect.morning_hr_bpm[:, 119] < plain.morning_hr_bpm[:, 119]).sum() >= 6  # the resting-HR rise fades
    assert effect.visit_effect.all() and not none.visit_effect.any() and (effect.visit_day == 110).all()


def test_an_episode_that_begins_after_the_visit_does_not_fade():
    late = simulate_training_history(4, 60, np.random.default_rng(2), muscle_onset_day=40, visit_day=30)
    plain = simulate_training_history(4, 60, np.random.default_rng(2), muscle_onset_day=40)
    np.testing.assert_array_equal(late.muscle_load_left, plain.muscle_load_left)


def test_a_strap_athletes_suppression_fades_after_a_visit_with_effect():
    """The demo's strap mornings (ingest.virtual.physiology): the same treatment effect and next-morning dip."""
    from dataclasses import replace

    from ingest.virtual.physiology import AthleteProfile, daily_ln_rmssd, daily_resting_hr_bpm

    sick = AthleteProfile("demo-02", "female", 52.0, 190.0, 4.0, 0.1, "hrv_suppressed", 30, 0.35, 4.0)
    treated = replace(sick, visit_day=35)
    untreated = replace(sick, visit_day=35, visit_effect=False)

    def ln(profile: AthleteProfile) -> np.ndarray:
        return daily_ln_rmssd(profile, 45, np.random.default_rng(1))

    day = np.arange(45)
    gone = np.where(day > 35, 1 - np.exp(-(day - 35) / 3.0), 0.0)
    dip = 0.1 * (day == 36)
    np.testing.assert_allclose(ln(treated) - ln(sick), 0.35 * gone - dip, atol=1e-12)
    np.testing.assert_allclose(ln(untreated) - ln(sick), -dip, atol=1e-12)
    hr = daily_resting_hr_bpm(treated, 45, np.random.default_rng(2)) - daily_resting_hr_bpm(
        sick, 45, np.random.default_rng(2)
    )
    np.testing.assert_allclose(hr, -4.0 * gone, atol=1e-12)
    early = replace(sick, suppression_start_day=40, visit_day=35)  # a suppression after the visit does not fade
    np.testing.assert_array_equal(early.suppression(day), early.suppressed(day).astype(float))
    with pytest.raises(ValueError, match="visit_day >= 0"):
        replace(sick, visit_day=-1)

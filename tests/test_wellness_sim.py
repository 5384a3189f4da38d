"""Simulated check-ins (ingest/virtual/wellness_history.py): the fit on PMData (bench/wellness_fit.py) by hand and
on the real files, the simulator's statistics against it, its responses, and that a history without check-ins is
unchanged by their existence."""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from shared_data import require_shared

from ingest.regions import REGION_NAMES
from ingest.virtual.training_history import simulate_training_history, training_history_batches
from ingest.virtual.wellness_history import (
    FITTED_WELLNESS,
    correlated_items,
    load_ratio_terms,
)
from ingest.wellness import HOOPER_ITEMS, read_wellness

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # wellness_fit imports its neighbour noise_fit
_spec = importlib.util.spec_from_file_location("wellness_fit", ROOT / "bench" / "wellness_fit.py")
wf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wf)
NAN = math.nan


def test_pmsys_answers_map_to_the_hooper_scale_by_their_anchors():
    np.testing.assert_array_equal(
        wf.hooper_from_pmsys(np.array([5, 4, 3, 2, 1, 0, NAN])), [1, 2.5, 4, 5.5, 7, NAN, NAN]
    )


def test_latent_values_undo_the_rounding_of_the_answers():
    assert wf.latent_sd(1.0) == pytest.approx(math.sqrt(1 - 2.25 / 12))
    assert wf.latent_sd(0.1) == wf.MIN_LATENT_SD
    assert wf.latent_lag1(0.2, 1.0) == pytest.approx(0.2 / (1 - 2.25 / 12))
    c = wf.latent_correlation(np.array([[1.0, 0.3], [0.3, 1.0]]), np.array([1.0, 1.0]))
    assert c[0, 1] == pytest.approx(0.3 / (1 - 2.25 / 12)) and c[0, 0] == 1.0


def test_load_response_and_area_statistics_by_hand():
    rng = np.random.default_rng(5)
    load = rng.choice([0.0, 300.0, 600.0], size=400)
    prev = np.concatenate([[np.nan], load[:-1]]) / load.mean()
    item = 4.0 + 0.5 * np.nan_to_num(prev) + rng.normal(0, 0.01, 400)  # responds to yesterday's load only
    previous, week = wf.load_response(item, load)
    sd = item[8:].std()
    assert previous == pytest.approx(0.5 / sd, rel=0.02) and abs(week) < 0.05
    areas = [set(), {wf.LEFT_LOWER_LEG}, {wf.LEFT_LOWER_LEG, wf.RIGHT_LOWER_LEG}, {"12921003"}]
    a = wf.area_stats(areas)
    assert a["sore_area_share"] == 0.75 and a["lower_leg_share"] == 0.5
    assert a["one_sided_leg_share"] == 0.5 and a["one_sided_checkin_share"] == 0.25


def test_the_fit_on_pmdata_gives_the_model_s_numbers():
    data = require_shared("pmdata").parent
    fit = wf.fit(data)
    m = FITTED_WELLNESS
    for i, item in enumerate(HOOPER_ITEMS):
        quantiles = (fit[f"{item}_mean"][k] for k in ("min", "q25", "median", "q75", "max"))
        assert tuple(quantiles) == pytest.approx(m.item_mean[i], abs=0.001)
        assert tuple(fit["latent"]["item_sd_quantiles"][item]) == pytest.approx(m.item_sd[i], abs=0.001)
        assert fit["latent"]["item_lag1"][item] == pytest.approx(m.item_lag1[i], abs=0.001)
        assert fit[f"{item}_load_beta_previous_day"]["median"] == pytest.approx(m.load_beta_previous_day[i], abs=0.001)
        assert fit[f"{item}_load_beta_7d"]["median"] == pytest.approx(m.load_beta_7d[i], abs=0.001)
    assert np.array(fit["latent"]["item_correlation"]) == pytest.approx(np.array(m.item_correlation), abs=0.001)
    for name in ("missed_checkin_rate", "sore_area_share", "one_sided_checkin_share"):
        d = fit[name]
        assert (d["min"], d["q25"], d["median"], d["q75"], d["max"]) == pytest.approx(getattr(m, name), abs=0.001)
    assert fit["hooper_index_sd"]["median"] == pytest.approx(2.46, abs=0.01)
    assert fit["sore_area_share"]["n"] == 16 and fit["fatigue_load_beta_7d"]["n"] == 11


@pytest.fixture(scope="module")
def simulated():
    return simulate_training_history(1500, 130, np.random.default_rng(2026), wellness=FITTED_WELLNESS)


def _per_athlete(function, x: np.ndarray) -> np.ndarray:
    values = np.array([function(row) for row in x])
    return values[np.isfinite(values)]


def test_simulated_check_ins_match_the_fitted_answers(simulated):
    w, m = simulated.wellness, FITTED_WELLNESS
    # rounded to the answers' 1.5-point grid, the simulated values give the statistics fitted on PMData back
    rng = np.random.default_rng(1)
    mean = np.stack([m.draw(q, rng, 1500) for q in m.item_mean])
    sd = np.stack([m.draw(q, rng, 1500) for q in m.item_sd])
    latent = mean[:, :, None] + sd[:, :, None] * correlated_items(
        rng, (1500, 130), m.item_lag1, np.array(m.item_correlation)
    )
    on_grid = np.clip(1 + 1.5 * np.rint((latent - 1) / 1.5), 1, 7)
    fitted_sd = (1.059, 0.923, 0.728, 0.963)  # bench/wellness_fit.py: median SD of the mapped answers
    for i, target in enumerate(fitted_sd):
        assert np.median(_per_athlete(wf.daily_sd, on_grid[i])) == pytest.approx(target, abs=0.04)
    assert np.median(_per_athlete(wf.daily_sd, on_grid.sum(axis=0))) == pytest.approx(2.46, abs=0.2)
    # the product's whole-number answers: 1–7, the fitted means, missed check-ins and sore-area reports
    for i, item in enumerate(HOOPER_ITEMS):
        x = w.items[item]
        assert set(np.unique(x[np.isfinite(x)])) <= set(range(1, 8))
        assert np.median(_per_athlete(np.nanmean, x)) == pytest.approx(m.item_mean[i][2], abs=0.1)
    missed = _per_athlete(wf.missed_rate, w.items["fatigue"])
    assert np.percentile(missed, [25, 50, 75]) == pytest.approx(m.missed_checkin_rate[1:4], abs=0.015)
    checked = w.checked_in
    sore = w.soreness.max(axis=2) > 0
    share = np.array([sore[i][checked[i]].mean() for i in range(len(checked))])
    assert np.percentile(share, [25, 50, 75]) == pytest.approx(m.sore_area_share[1:4], abs=0.02)
    assert not w.soreness[~checked].any() and np.isnan(w.pain[~checked]).all()


def test_soreness_follows_load_and_an_hrv_drop_worsens_fatigue():
    prev, week = load_ratio_terms(np.array([[np.nan, 300.0, np.nan, 300.0]]), np.array([150.0]))
    np.testing.assert_allclose(prev, [[-1.0, -1.0, 1.0, -1.0]])  # yesterday's load / usual − 1 (day 0: no day before)
    np.testing.assert_allclose(week, [[0.0, -1.0, 0.0, -1 / 3]])  # mean of the days before (up to 7) / usual − 1
    rng = lambda: np.random.default_rng(11)  # noqa: E731 — the same draws for both cohorts
    base = simulate_training_history(800, 150, rng(), wellness=FITTED_WELLNESS)
    camp = simulate_training_history(800, 150, rng(), wellness=FITTED_WELLNESS, spike_day=120)
    drop = simulate_training_history(800, 150, rng(), wellness=FITTED_WELLNESS, hrv_drop_day=120)
    after = slice(127, 134)

    def change(h, item):
        return np.nanmean(h.wellness.items[item][:, after]) - np.nanmean(base.wellness.items[item][:, after])

    # β of the 7-day load ratio: soreness 0.31 SD per unit, sleep 0.07: a camp week (≈ 3 × the usual load) moves
    # soreness by about half a point and sleep by about a seventh
    assert change(camp, "soreness") > 0.4 and abs(change(camp, "sleep_quality")) < 0.25
    assert change(drop, "fatigue") > 0.6 and abs(change(drop, "soreness")) < 0.1  # the assumed 1 SD of fatigue


def test_soreness_episode_names_one_side_of_its_region():
    h = simulate_training_history(
        200, 60, np.random.default_rng(3), wellness=FITTED_WELLNESS, soreness_onset_day=40, soreness_group="hamstring",
        soreness_side="l",
    )  # fmt: skip
    w = h.wellness
    assert set(w.episode_region["soreness_onset"]) == {"hamstring_l"} and (h.events["soreness_onset"] == 40).all()
    left, right = w.rating("hamstring_l"), w.rating("hamstring_r")
    on = w.checked_in[:, 40:]
    assert (left[:, 40:][on] >= 2).all()  # rated 2–10 on every check-in of the episode
    assert np.nanmean(left[:, 40:] - right[:, 40:]) > 3


def test_a_history_without_check_ins_is_unchanged_by_them():
    kwargs = {"spike_day": 50, "hrv_drop_day": 60, "gct_onset_day": 70, "muscle_onset_day": 80, "visit_day": 85}
    plain = simulate_training_history(30, 100, np.random.default_rng(9), **kwargs)
    with_checkins = simulate_training_history(30, 100, np.random.default_rng(9), wellness=FITTED_WELLNESS, **kwargs)
    assert plain.wellness is None and with_checkins.wellness is not None
    for f in dataclasses.fields(plain):
        a, b = getattr(plain, f.name), getattr(with_checkins, f.name)
        if f.name == "wellness":
            continue
        if f.name == "events":
            assert set(b) == set(a) | {"soreness_onset", "wellness_drop"}
            for kind in a:
                np.testing.assert_array_equal(a[kind], b[kind])
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b, f.name
    with pytest.raises(ValueError, match="need check-ins"):
        simulate_training_history(3, 10, np.random.default_rng(1), soreness_onset_day=5)


def test_simulated_check_ins_are_stored_and_read_back(each_store):
    h = simulate_training_history(3, 20, np.random.default_rng(4), wellness=FITTED_WELLNESS, soreness_onset_day=5)
    first_day_ms = 1_767_225_600_000  # 2026-01-01
    each_store.write(training_history_batches(h, first_day_ms))
    w = h.wellness
    for row, athlete in enumerate(h.athlete_ids):
        stored = read_wellness(each_store, athlete)
        days = np.flatnonzero(w.checked_in[row])
        assert [c.time_ms for c in stored] == [first_day_ms + int(d) * 86_400_000 + 7 * 3_600_000 for d in days]
        for c, d in zip(stored, days):
            assert [getattr(c, k) for k in HOOPER_ITEMS] == [int(w.items[k][row, d]) for k in HOOPER_ITEMS]
            assert c.source == "history" and c.pain == bool(w.pain[row, d])
            expected = {REGION_NAMES[r]: int(w.soreness[row, d, r]) for r in np.flatnonzero(w.soreness[row, d])}
            assert dict(c.regions) == expected

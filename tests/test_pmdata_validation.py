"""bench/pmdata_validation.py: the people bootstrap, the matched windows, and the documented PMData numbers."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from shared_data import require_shared

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("pmdata_validation", ROOT / "bench" / "pmdata_validation.py")
pv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pv)


@pytest.fixture(scope="module")
def result() -> dict:
    return pv.validate(require_shared("pmdata"))


def test_identical_groups_give_a_zero_difference_and_an_interval_holding_it():
    onsets = np.array([1, 3, 2, 5, 1])
    hits = np.array([1, 1, 0, 2, 1])
    out = pv.bootstrap_difference(onsets, hits, hits.astype(float))
    assert out["difference"] == 0.0 and out["difference_ci95"] == [0.0, 0.0]
    assert out["share_with_flag"] == out["matched_chance_share"] == pytest.approx(5 / 12, abs=0.0005)
    lo, hi = out["share_ci95"]
    assert lo < 5 / 12 < hi


def test_bootstrap_on_a_hand_made_example():
    # two people: 2 onsets both flagged, chance 0.5 each (expected 1); 2 onsets none flagged, chance 0 (expected 0)
    out = pv.bootstrap_difference(np.array([2, 2]), np.array([2, 0]), np.array([1.0, 0.0]), resamples=4000)
    assert (out["onsets"], out["onsets_with_flag"]) == (4, 2)
    assert (out["share_with_flag"], out["matched_chance_share"], out["difference"]) == (0.5, 0.25, 0.25)
    # resamples are {A,A}: +0.5, {A,B} either order: +0.25, {B,B}: 0 → the 2.5 / 97.5 percentiles are 0 and 0.5
    assert out["difference_ci95"] == [0.0, 0.5]
    same_seed = pv.bootstrap_difference(np.array([2, 2]), np.array([2, 0]), np.array([1.0, 0.0]), resamples=4000)
    assert same_seed == out


def test_control_days_exclude_every_window_touching_an_injury_window():
    evaluable = np.ones(60, bool)
    evaluable[:5] = False
    controls = pv.control_days(evaluable, [30], window=14)
    # injury window = days 16 … 30; a reference day t looks at t−14 … t−1: t ≤ 16 or t ≥ 45 (window 31 … 44)
    assert np.flatnonzero(controls).tolist() == [*range(5, 17), *range(45, 60)]


def test_matched_windows_never_overlap_an_injury_window(result):
    checked = 0
    for person in result["per_person"]:
        if not person["usable"]:
            continue
        onsets = [dt.date.fromisoformat(d) for d in person["onset_days"]]
        for family in ("load", "recovery"):
            days = [dt.date.fromisoformat(d) for d in person["families"][family]["control_days"]]
            assert len(days) == person["families"][family]["control_windows"]
            for t in days:
                window = (t - dt.timedelta(days=pv.WINDOW_DAYS), t - dt.timedelta(days=1))
                for onset in onsets:
                    assert window[1] < onset - dt.timedelta(days=pv.WINDOW_DAYS) or window[0] > onset
                checked += 1
    assert checked == 872 + 714


def test_pmdata_validation_regenerates_the_documented_numbers(result):
    assert result["people"] == 16 and result["people_with_sessions"] == 15
    assert (result["injury_onsets"], result["injury_onsets_evaluable"]) == (46, 30)
    assert result["onsets_with_load_flag_14d_before"] == 0  # docs/validation.md (18 when unlogged days were rest)
    assert result["chance_share_of_14d_windows_with_load_flag"] == pytest.approx(0.014, abs=0.0005)
    load, recovery = result["families"]["load"], result["families"]["recovery"]
    assert load["onsets_without_control_windows"] == 17  # p12: every window touches an injury window
    assert load["matched"]["onsets"] == 13 and load["matched"]["onsets_with_flag"] == 0
    assert load["matched"]["matched_chance_share"] == pytest.approx(0.019, abs=0.0005)
    assert load["matched"]["difference_ci95"] == [-0.083, 0.0]
    assert (load["flag_days"], load["person_days"]) == (3, 1753)  # 241 when a day without a log was rest
    assert (recovery["matched"]["onsets"], recovery["matched"]["onsets_with_flag"]) == (7, 0)
    assert result["families"]["asymmetry"]["evaluable"] is False

"""Time-domain HRV and RR artifact filtering (monitor.hrv)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import SHARED_DATA, require_shared

from ingest.virtual.physiology import clean_morning_rr_ms, make_squad, simulate_morning_reading
from monitor.hrv import HrvMetrics, artifact_mask, hrv_metrics, rmssd_ms, sdnn_ms, split_readings

RR_DIR = SHARED_DATA / "rr"


def _require_data() -> None:
    require_shared("rr")


def _read_kubios(path: Path) -> tuple[np.ndarray, dict[str, float]]:
    """RR listing (ms) and time-domain results of a Kubios HRV report (CSV-like text)."""
    lines = path.read_text(encoding="latin-1").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("RR INTERVAL DATA"))
    results = {}
    for line in lines[:start]:
        m = re.match(r"\s*(Mean RR|STD RR|Mean HR|RMSSD)\s.*?:\s*,\s*([-\d.]+)", line)
        if m and m.group(1) not in results:
            results[m.group(1)] = float(m.group(2))
    rr_s = []
    for line in lines[start + 5 :]:
        fields = [f.strip() for f in line.split(",")]
        if len(fields) > 2 and fields[2]:
            rr_s.append(float(fields[2]))
    return np.asarray(rr_s) * 1000.0, results


# --- hand-worked vectors -------------------------------------------------------------------------------------


def test_rmssd_and_sdnn_hand_worked():
    rr = np.array([1000.0, 1010.0, 990.0, 1000.0])  # differences 10, -20, 10
    assert rmssd_ms(rr) == pytest.approx(math.sqrt((100 + 400 + 100) / 3))
    assert sdnn_ms(rr) == pytest.approx(math.sqrt(200 / 3))  # deviations 0, 10, -10, 0; ddof=1


def test_rmssd_uses_only_differences_between_valid_beats():
    rr = np.array([800.0, 810.0, 1600.0, 820.0, 830.0])
    valid = np.array([True, True, False, True, True])
    assert rmssd_ms(rr, valid) == pytest.approx(10.0)  # 800→810 and 820→830 only; no 810→820 bridge
    assert sdnn_ms(rr, valid) == pytest.approx(np.std([800, 810, 820, 830], ddof=1))


def test_rmssd_nan_with_fewer_than_two_usable_differences():
    assert math.isnan(rmssd_ms(np.array([1000.0, 1010.0])))
    assert math.isnan(rmssd_ms(np.array([1000.0, 1010.0, 2500.0, 990.0]), np.array([True, True, False, True])))
    assert math.isnan(rmssd_ms(np.array([])))
    assert math.isnan(sdnn_ms(np.array([1000.0])))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(400, 1800), min_size=3, max_size=60),
    st.floats(-200, 200),
    st.floats(0.5, 2.0),
)
def test_rmssd_shift_invariant_and_scale_equivariant(rr, shift, scale):
    rr = np.asarray(rr)
    assert rmssd_ms(rr + shift) == pytest.approx(rmssd_ms(rr), abs=1e-6)
    assert rmssd_ms(rr * scale) == pytest.approx(rmssd_ms(rr) * scale, rel=1e-9, abs=1e-9)


def test_artifact_mask_range_and_local_median():
    rr = np.array([1000, 1010, 990, 1005, 995, 2400, 1000, 250, 1002, 998, 1500, 1001, 999, 1003, np.nan], float)
    mask = artifact_mask(rr)
    assert mask.dtype == bool and mask.shape == rr.shape
    assert np.flatnonzero(mask).tolist() == [5, 7, 10, 14]  # > 2000, < 300, +50 % from the local median, NaN


def test_artifact_mask_ectopic_pair_and_missed_beat():
    base = np.full(30, 1000.0) + 15 * np.sin(np.arange(30))
    ectopic = base.copy()
    ectopic[10], ectopic[11] = 720.0, base[11] + (base[10] - 720.0)  # premature beat + compensatory pause
    assert np.flatnonzero(artifact_mask(ectopic)).tolist() == [10, 11]
    missed = np.delete(base, 21)
    missed[20] = base[20] + base[21]
    assert np.flatnonzero(artifact_mask(missed)).tolist() == [20]
    assert not artifact_mask(base).any()


def test_default_hrv_leaves_out_the_unclassifiable_ends():
    """The default (exclude) on a clean reading: no artifact, and the first interval and the last two (which the
    detector cannot classify) left out; otherwise the plain formulas (Kubios conventions)."""
    rr = np.round(clean_morning_rr_ms(58.0, 40.0, np.random.default_rng(4), duration_s=120))  # no false positive
    m = hrv_metrics(rr)
    assert isinstance(m, HrvMetrics)
    assert (m.n_beats, m.n_used, m.artifacts.total, m.artifact_pct) == (rr.size, rr.size - 3, 0, 0.0)
    kept = rr[1:-2]
    d = np.diff(kept)
    assert m.rmssd_ms == pytest.approx(math.sqrt(float(np.sum(d * d)) / d.size), rel=1e-12)
    assert m.mean_rr_ms == pytest.approx(float(np.sum(kept)) / kept.size, rel=1e-12)
    assert m.mean_hr_bpm == pytest.approx(60_000 / m.mean_rr_ms)
    assert m.sdnn_ms == pytest.approx(math.sqrt(float(np.sum((kept - kept.mean()) ** 2)) / (kept.size - 1)))
    assert m.ln_rmssd == pytest.approx(math.log(m.rmssd_ms))


def test_split_readings_at_gaps():
    t = np.array([0, 1000, 2000, 2000 + 31 * 60_000, 2000 + 31 * 60_000 + 900, 10**9], float)
    assert split_readings(t) == [slice(0, 3), slice(3, 5), slice(5, 6)]
    assert split_readings(t, gap_ms=10**10) == [slice(0, 6)]
    assert split_readings(np.array([])) == []


# --- real reference data: Kubios HRV Premium reports (no artifact correction) -------------------------------


@pytest.mark.parametrize("series", [1, 2, 3, 4, 5])
def test_matches_kubios_reference(series):
    _require_data()
    rr, ref = _read_kubios(RR_DIR / f"pyhrv__kubios_series_{series}_hrv.txt")
    assert rr.size > 3000 and set(ref) == {"Mean RR", "STD RR", "Mean HR", "RMSSD"}
    # Kubios was run without artifact correction, so compare the unfiltered computation.
    assert rmssd_ms(rr) == pytest.approx(ref["RMSSD"], rel=0.02, abs=1.0)
    assert rmssd_ms(rr) == pytest.approx(ref["RMSSD"], abs=0.01)  # in fact identical to 4 decimals
    unfiltered = hrv_metrics(rr, "none")
    assert unfiltered.mean_rr_ms == pytest.approx(ref["Mean RR"], abs=0.01)
    assert unfiltered.sdnn_ms == pytest.approx(ref["STD RR"], abs=0.01)
    assert unfiltered.mean_hr_bpm == pytest.approx(ref["Mean HR"], abs=0.01)


# --- simulated readings with injected artifacts ------------------------------------------------------------


def _simulated_readings(n_athletes: int, per_athlete: int, seed: int, artifact_rate: float):
    rng = np.random.default_rng(seed)
    for profile in make_squad(n_athletes, 60, rng):
        for day in range(per_athlete):
            target = profile.ln_rmssd_mean + profile.ln_rmssd_daily_sd * rng.standard_normal()
            yield simulate_morning_reading(profile, day, target, rng, artifact_rate=artifact_rate)


def test_artifact_mask_sensitivity_and_false_positive_rate():
    tp = fn = fp = tn = 0
    for r in _simulated_readings(20, 5, seed=11, artifact_rate=0.01):
        found = artifact_mask(r.rr_ms)
        tp += np.count_nonzero(found & r.artifact_mask)
        fn += np.count_nonzero(~found & r.artifact_mask)
        fp += np.count_nonzero(found & ~r.artifact_mask)
        tn += np.count_nonzero(~found & ~r.artifact_mask)
    assert tp + fn >= 100  # enough injected artifacts to measure
    assert tp / (tp + fn) >= 0.90
    assert fp / (fp + tn) < 0.01


def test_filtered_rmssd_close_to_clean():
    errors, raw_errors = [], []
    for r in _simulated_readings(20, 5, seed=12, artifact_rate=0.0075):
        if not r.artifact_mask.any():
            continue
        clean = rmssd_ms(r.clean_rr_ms)
        errors.append(abs(hrv_metrics(r.rr_ms).rmssd_ms / clean - 1))
        raw_errors.append(abs(rmssd_ms(r.rr_ms) / clean - 1))
    errors = np.asarray(errors)
    assert errors.size >= 40
    assert np.median(raw_errors) > 0.3  # unfiltered artifacts inflate rMSSD badly ...
    assert np.median(errors) < 0.01  # ... the filter brings it back
    assert np.mean(errors < 0.05) >= 0.95


def test_one_reading_with_ectopic_and_missed_beats():
    clean = clean_morning_rr_ms(55.0, 60.0, np.random.default_rng(4), duration_s=300)
    rr = clean.copy()
    rr[50], rr[51] = 0.65 * clean[50], clean[51] + 0.35 * clean[50]  # ectopic beat + compensatory pause
    rr[150] += rr[151]  # missed beat: two intervals merged
    rr = np.delete(rr, 151)
    found = artifact_mask(rr)
    assert found[[50, 51, 150]].all() and found.sum() <= 5
    m = hrv_metrics(rr)
    assert rmssd_ms(rr) > 1.5 * rmssd_ms(clean)
    assert m.rmssd_ms == pytest.approx(rmssd_ms(clean), rel=0.05)
    assert m.n_beats == clean.size - 1 and (m.artifacts.ectopic, m.artifacts.missed) == (1, 1)
    assert m.n_beats - m.n_used <= 10  # the artifacts, their neighbours, the ends and a few long/short beats

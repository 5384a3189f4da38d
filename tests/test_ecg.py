"""RR from ECG (monitor.ecg) against beats known exactly: the synthetic H10-like ECG, a lone Gaussian R wave, the
sample-rate boundary, and the alignment of two RR series of the same beats."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.virtual.ecg_waveform import ECG_SAMPLE_RATE_HZ, beat_times_s, ecg_uv
from ingest.virtual.physiology import make_squad, session_hr
from monitor.ecg import MIN_SAMPLE_RATE_HZ, ecg_rr_ms, r_peak_indices, r_peak_times_s, rr_agreement_ms

FS = ECG_SAMPLE_RATE_HZ


def synthetic(workload: float, seconds: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(true RR ms, ECG µV at 130 Hz rounded to whole µV) for one simulated athlete at a steady workload."""
    rng = np.random.default_rng(seed)
    profile = make_squad(1, 28, rng)[0]
    _, rr = session_hr(profile, np.full(seconds, workload), rng)
    beats = beat_times_s(rr, first_beat_s=0.5)
    t = np.arange(0.0, beats[-1] + 0.5, 1 / FS)
    return rr, np.rint(ecg_uv(t, beats, rng))


@pytest.mark.parametrize(("workload", "min_bpm"), [(0.0, 45), (0.95, 150)])
def test_rr_from_ecg_matches_the_beats_to_a_fraction_of_a_sample(workload, min_bpm):
    rr, ecg = synthetic(workload, 90, seed=4)
    found = ecg_rr_ms(ecg, FS)
    assert found.size == rr.size  # every beat found, nothing else
    assert 60_000 / rr[-10:].mean() > min_bpm  # the rate reached
    error = np.abs(found - rr)
    assert np.median(error) < 0.3 and error.max() < 1.5  # the sample grid alone: up to 7.7 ms
    grid_only = np.abs(np.diff(r_peak_indices(ecg, FS)) * 1000 / FS - rr)
    assert np.median(grid_only) > 1.0


def test_a_gaussian_r_wave_between_samples_is_placed_exactly():
    t = np.arange(0.0, 4.0, 1 / FS)
    peaks_s = np.array([1.0031, 2.0107, 3.0049])  # three phases against the 7.7-ms sample grid
    ecg = sum(1500.0 * np.exp(-0.5 * ((t - p) / 0.011) ** 2) for p in peaks_s)
    assert r_peak_times_s(ecg, FS) == pytest.approx(peaks_s, abs=5e-5)


def test_sample_rate_boundary_and_degenerate_input():
    assert r_peak_times_s(np.zeros(10), MIN_SAMPLE_RATE_HZ).size == 0  # exactly 60 Hz is accepted
    with pytest.raises(ValueError, match=r"59\.9 Hz"):
        r_peak_times_s(np.zeros(1000), 59.9)
    assert r_peak_times_s(np.zeros(2000), FS).size == 0  # flat line: no beats
    assert ecg_rr_ms(np.zeros(3), FS).size == 0


def test_agreement_aligns_two_rr_series_of_the_same_beats():
    reference = 800 + 40 * np.sin(np.arange(60) / 3.0)  # e.g. the strap's, 60 beats
    ecg = reference[5:45] + np.tile([0.2, -0.4], 20)  # the ECG started 5 beats later and stopped earlier
    agreement = rr_agreement_ms(reference, ecg)
    assert (agreement.lag, agreement.pairs) == (5, 40)
    assert agreement.median_abs_diff_ms == pytest.approx(0.3)
    assert agreement.max_abs_diff_ms == pytest.approx(0.4)
    with pytest.raises(ValueError, match="do not overlap"):
        rr_agreement_ms(np.zeros(0), ecg)

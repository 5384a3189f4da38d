"""RR intervals from a single-lead ECG (e.g. a Polar H10 at 130 Hz), and their agreement with a strap's RR.

Pure numpy/scipy functions on one contiguous, uniformly sampled stretch of ECG in µV (a gap in the samples would
shift every later beat: split the series at gaps first).

R peaks (:func:`r_peak_times_s`): a zero-phase 5–25 Hz band-pass (2nd-order Butterworth, ``filtfilt``) brings out
the QRS complexes; ``scipy.signal.find_peaks`` keeps maxima above 40 % of the typical QRS height (the median of
the band-passed maxima in 2-s windows) and at least 60/``max_hr_bpm`` s apart. Each peak is then placed to a
fraction of a sample on the baseline-free ECG (zero-phase 0.5 Hz high-pass): the highest sample within ±2 samples
and a parabola through the logarithms of it and its neighbours (exact for a Gaussian-shaped R wave; a plain
parabola where a neighbour is not positive). At 130 Hz the sample grid alone would put each R peak anywhere within
±3.8 ms; with this refinement RR from a simulated H10 ECG agrees with the strap's 1/1024-s RR of the same beats to
a median absolute difference of about 0.25 ms, which is the strap's own rounding
(tests/test_third_party_ble.py, docs/virtual-wearables.md). Assumes upright R waves (the H10's lead).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

BAND_HZ = (5.0, 25.0)
HIGH_PASS_HZ = 0.5
MIN_SAMPLE_RATE_HZ = 60.0
"""The band-pass needs a Nyquist frequency above 25 Hz; 60 Hz keeps room for the filter's roll-off."""
PEAK_HEIGHT_SHARE = 0.4
WINDOW_S = 2.0
REFINE_SAMPLES = 2


def _check_rate(sample_rate_hz: float) -> None:
    if not np.isfinite(sample_rate_hz) or sample_rate_hz < MIN_SAMPLE_RATE_HZ:
        raise ValueError(f"ECG sample rate {sample_rate_hz} Hz: expected at least {MIN_SAMPLE_RATE_HZ:g} Hz")


def r_peak_indices(ecg_uv: np.ndarray, sample_rate_hz: float, *, max_hr_bpm: float = 220.0) -> np.ndarray:
    """Indices of the samples nearest each R peak (int array, increasing); empty for a too-short series."""
    _check_rate(sample_rate_hz)
    x = np.asarray(ecg_uv, dtype=float)
    nyquist = sample_rate_hz / 2.0
    b, a = signal.butter(2, [BAND_HZ[0] / nyquist, BAND_HZ[1] / nyquist], "bandpass")
    if x.size <= 3 * max(len(a), len(b)):
        return np.zeros(0, dtype=np.int64)
    band = signal.filtfilt(b, a, x)
    window = max(int(WINDOW_S * sample_rate_hz), 1)
    whole = band.size // window * window
    maxima = band[:whole].reshape(-1, window).max(axis=1) if whole else np.array([band.max()])
    height = PEAK_HEIGHT_SHARE * float(np.median(maxima))
    if height <= 0:
        return np.zeros(0, dtype=np.int64)
    distance = max(int(sample_rate_hz * 60.0 / max_hr_bpm), 1)
    peaks, _ = signal.find_peaks(band, height=height, distance=distance)
    return peaks.astype(np.int64)


def r_peak_times_s(ecg_uv: np.ndarray, sample_rate_hz: float, *, max_hr_bpm: float = 220.0) -> np.ndarray:
    """R peak times in s after the first sample, refined to a fraction of a sample (see the module docstring)."""
    peaks = r_peak_indices(ecg_uv, sample_rate_hz, max_hr_bpm=max_hr_bpm)
    if peaks.size == 0:
        return np.zeros(0)
    x = np.asarray(ecg_uv, dtype=float)
    b, a = signal.butter(2, HIGH_PASS_HZ / (sample_rate_hz / 2.0), "highpass")
    flat = signal.filtfilt(b, a, x)
    lo = np.clip(peaks - REFINE_SAMPLES, 1, flat.size - 2)
    span = np.arange(2 * REFINE_SAMPLES + 1)
    candidates = np.clip(lo[:, None] + span[None, :], 1, flat.size - 2)
    top = candidates[np.arange(peaks.size), np.argmax(flat[candidates], axis=1)]
    y0, y1, y2 = flat[top - 1], flat[top], flat[top + 1]
    positive = (y0 > 0) & (y1 > 0) & (y2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        l0, l1, l2 = (np.log(np.where(positive, y, 1.0)) for y in (y0, y1, y2))
        log_shift = 0.5 * (l0 - l2) / (l0 - 2 * l1 + l2)
        plain_shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    shift = np.where(positive, log_shift, plain_shift)
    shift = np.where(np.isfinite(shift), np.clip(shift, -0.5, 0.5), 0.0)
    return np.asarray((top + shift) / sample_rate_hz, dtype=float)


def ecg_rr_ms(ecg_uv: np.ndarray, sample_rate_hz: float, *, max_hr_bpm: float = 220.0) -> np.ndarray:
    """RR intervals in ms between consecutive R peaks of the ECG (one fewer than the peaks)."""
    return np.diff(r_peak_times_s(ecg_uv, sample_rate_hz, max_hr_bpm=max_hr_bpm)) * 1000.0


@dataclass(frozen=True)
class RrAgreement:
    """How two RR series of the same beats agree once aligned: ``rr_ms[i]`` pairs with ``reference[i + lag]``."""

    lag: int
    pairs: int
    median_abs_diff_ms: float
    p95_abs_diff_ms: float
    max_abs_diff_ms: float


def rr_agreement_ms(reference_rr_ms: np.ndarray, rr_ms: np.ndarray, *, max_lag: int = 20) -> RrAgreement:
    """Align ``rr_ms`` (e.g. from an ECG) on ``reference_rr_ms`` (e.g. a strap's) and compare them.

    The lag (−``max_lag``…``max_lag`` intervals) with the smallest median absolute difference over at least half
    of the shorter series wins; ValueError when no lag overlaps that much.
    """
    ref = np.asarray(reference_rr_ms, dtype=float)
    rr = np.asarray(rr_ms, dtype=float)
    need = max(min(ref.size, rr.size) // 2, 1)
    best: tuple[float, int, np.ndarray] | None = None
    for lag in range(-max_lag, max_lag + 1):
        start = max(0, -lag)
        stop = min(rr.size, ref.size - lag)
        if stop - start < need:
            continue
        diff = np.abs(rr[start:stop] - ref[start + lag : stop + lag])
        median = float(np.median(diff))
        if best is None or median < best[0]:
            best = (median, lag, diff)
    if best is None:
        raise ValueError(f"RR series of {ref.size} and {rr.size} intervals do not overlap within ±{max_lag} beats")
    median, lag, diff = best
    return RrAgreement(lag, int(diff.size), median, float(np.percentile(diff, 95)), float(diff.max()))

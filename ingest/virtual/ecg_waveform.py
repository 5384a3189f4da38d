"""A synthetic single-lead chest ECG (as a strap such as the Polar H10 records it), driven by beat times.

Pure numpy, no I/O. Every beat adds P, Q, R, S and T waves as Gaussians placed relative to its R peak, which sits
exactly at the beat time: the time-domain form of the ECGSYN model (McSharry et al., IEEE Trans Biomed Eng 2003,
50:289–294), with the P and T offsets scaled by sqrt(RR / 1 s) as the PR and QT intervals shorten with heart rate
(Bazett). Amplitudes are those of a chest lead (R about 1.5 mV); respiration modulates the R amplitude (±5 %) and
the baseline (±60 µV) at ``RESP_HZ``, and white noise (``noise_uv`` SD) is added. The QRS complex lasts about
90 ms, so at 130 Hz it spans 11–12 samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ECG_SAMPLE_RATE_HZ = 130.0
"""The H10's ECG sample rate."""
RESP_HZ = 0.25

# (offset from the R peak s, amplitude µV, Gaussian SD s, offset scales with sqrt(RR))
WAVES: tuple[tuple[float, float, float, bool], ...] = (
    (-0.160, 120.0, 0.025, True),  # P
    (-0.030, -150.0, 0.010, False),  # Q
    (0.000, 1500.0, 0.011, False),  # R
    (0.030, -350.0, 0.011, False),  # S
    (0.280, 300.0, 0.050, True),  # T
)
_REACH_S = 0.6
"""Beyond this distance from its R peak a beat's waves are below 1e-6 of their amplitude at rest rates."""


def beat_times_s(rr_ms: Sequence[float] | np.ndarray, first_beat_s: float = 0.0) -> np.ndarray:
    """Beat (R peak) times in s from consecutive RR intervals in ms: the first beat at ``first_beat_s``."""
    rr = np.asarray(rr_ms, dtype=float)
    return first_beat_s + np.concatenate(([0.0], np.cumsum(rr) / 1000.0))


def ecg_uv(
    t_s: np.ndarray,
    beats_s: np.ndarray,
    rng: np.random.Generator | None = None,
    *,
    noise_uv: float = 8.0,
    wander_uv: float = 60.0,
) -> np.ndarray:
    """ECG samples in µV at times ``t_s`` (s) for R peaks at ``beats_s`` (s, increasing).

    Noise needs ``rng``; without it the waveform is noiseless (but still breathes).
    """
    t = np.asarray(t_s, dtype=float)
    beats = np.asarray(beats_s, dtype=float)
    out = wander_uv * np.sin(2 * np.pi * RESP_HZ * t)
    if beats.size:
        rr_s = np.diff(beats, prepend=beats[0] - (np.median(np.diff(beats)) if beats.size > 1 else 1.0))
        stretch = np.sqrt(np.clip(rr_s, 0.25, 2.0))
        breathing = 1.0 + 0.05 * np.sin(2 * np.pi * RESP_HZ * beats)
        nearest = np.searchsorted(beats, t)
        for shift in (-2, -1, 0, 1):
            index = nearest + shift
            valid = (index >= 0) & (index < beats.size)
            k = np.clip(index, 0, beats.size - 1)
            dt = np.where(valid, t - beats[k], np.inf)
            near = np.abs(dt) < _REACH_S
            for offset_s, amplitude_uv, width_s, scales in WAVES:
                centre = offset_s * stretch[k] if scales else offset_s
                scale = amplitude_uv * (breathing[k] if amplitude_uv > 1000 else 1.0)
                out += np.where(near, scale * np.exp(-0.5 * ((dt - centre) / width_s) ** 2), 0.0)
    if rng is not None and noise_uv > 0:
        out += rng.normal(0.0, noise_uv, t.shape)
    return out

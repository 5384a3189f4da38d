"""Training load of many sessions from one heart-rate stream: per-sample durations with gaps capped, Banister and
Edwards TRIMP, time in the five Edwards zones, and the highest 30 s mean HR (an HRmax estimate).

Pure numpy on arrays of samples sorted by time within each session (``session`` = the session index of each
sample, non-decreasing). The session weighting is ``monitor.load`` (``banister_weight``, ``edwards_zone``).

Gap rule: each sample stands for the time until the next sample of its session, capped at
``max(HR_GAP_CAP_S, 2 × the session's median interval)``; the last sample of a session stands for 0 s. A pause
or a lost signal therefore adds at most the cap at the last HR seen, never the whole pause. The cap follows the
recording: 5 s for 1 Hz straps and watches, 12–16 s for Garmin "smart recording" (one record every 6–8 s), whose
records would otherwise lose most of their time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.load import HR_GAP_CAP_S, Sex, banister_weight, edwards_zone

HR_MAX_WINDOW_S = 30.0  # HRmax estimate: highest mean HR over a window this long without a gap
N_ZONES = 5


def _session_medians(values: np.ndarray, session: np.ndarray, n_sessions: int) -> np.ndarray:
    """Lower median of ``values`` per session (NaN for a session without values)."""
    counts = np.bincount(session, minlength=n_sessions)
    if not len(values):
        return np.full(n_sessions, np.nan)
    ordered = values[np.lexsort((values, session))]
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    middle = np.minimum(first + np.maximum(counts - 1, 0) // 2, len(values) - 1)
    return np.where(counts > 0, ordered[middle], np.nan)


def sample_intervals(
    time_ms: np.ndarray, session: np.ndarray, n_sessions: int, min_cap_s: float = HR_GAP_CAP_S
) -> tuple[np.ndarray, np.ndarray]:
    """``(dt_s, continuous)`` per sample: the seconds the sample stands for (gap rule of the module docstring), and
    whether the next sample follows in the same session within the cap (False at a gap and at a session's end)."""
    t = np.asarray(time_ms, dtype=np.int64)
    session = np.asarray(session, dtype=np.int64)
    raw_s = np.zeros(len(t))
    same = np.zeros(len(t), bool)
    if len(t) > 1:
        raw_s[:-1] = np.diff(t) / 1000.0
        same[:-1] = session[1:] == session[:-1]
    median_s = _session_medians(raw_s[same], session[same], n_sessions)
    cap_s = np.maximum(min_cap_s, 2.0 * np.nan_to_num(median_s))[session] if len(t) else np.zeros(0)
    continuous = same & (raw_s <= cap_s)
    return np.where(same, np.minimum(raw_s, cap_s), 0.0), continuous


@dataclass(frozen=True)
class SessionHrLoads:
    """Per session (arrays of length n_sessions): loads from its HR samples."""

    trimp: np.ndarray  # Banister TRIMP, AU
    trimp_edwards: np.ndarray  # Edwards TRIMP, AU
    zone_s: np.ndarray  # (n_sessions, 5): seconds in 50–60, 60–70, 70–80, 80–90, ≥ 90 % HRmax
    hr_time_s: np.ndarray  # seconds of HR counted (sum of the capped sample durations)


def session_hr_loads(
    hr_bpm: np.ndarray,
    dt_s: np.ndarray,
    session: np.ndarray,
    n_sessions: int,
    hr_rest_bpm: float,
    hr_max_bpm: float,
    sex: Sex,
) -> SessionHrLoads:
    """Banister TRIMP (``Σ Δt[min]·x·a·e^(b·x)``), Edwards TRIMP and zone times of every session at once."""
    hr = np.asarray(hr_bpm, dtype=float)
    session = np.asarray(session, dtype=np.int64)
    seconds = np.where(np.isfinite(hr), np.asarray(dt_s, dtype=float), 0.0)
    weight = banister_weight(hr, hr_rest_bpm, hr_max_bpm, sex)
    trimp = np.bincount(session, seconds / 60.0 * weight, minlength=n_sessions)
    zone = edwards_zone(hr, hr_max_bpm)
    keep = zone >= 0
    cells = np.bincount(session[keep] * N_ZONES + zone[keep], seconds[keep], minlength=n_sessions * N_ZONES)
    zone_s = cells.reshape(n_sessions, N_ZONES)
    return SessionHrLoads(
        trimp=trimp,
        trimp_edwards=zone_s @ np.arange(1.0, N_ZONES + 1) / 60.0,
        zone_s=zone_s,
        hr_time_s=np.bincount(session, seconds, minlength=n_sessions),
    )


def highest_rolling_mean_bpm(
    hr_bpm: np.ndarray, time_ms: np.ndarray, continuous: np.ndarray, window_s: float = HR_MAX_WINDOW_S
) -> float:
    """Highest mean HR over the samples in ``(t − window_s, t]`` for every sample ``t`` whose window is covered: the
    sample before the window exists and the stream is continuous from it to ``t``. NaN when no window is covered.

    Samples sorted by time, finite HR; ``continuous`` from ``sample_intervals``.
    """
    hr = np.asarray(hr_bpm, dtype=float)
    t = np.asarray(time_ms, dtype=np.int64)
    if len(t) < 2:
        return float("nan")
    first = np.searchsorted(t, t - round(window_s * 1000), side="right")  # first sample inside each window
    before = first - 1
    breaks = np.concatenate([[0], np.cumsum(~np.asarray(continuous, bool))])  # breaks among samples [0, k)
    index = np.arange(len(t))
    covered = (before >= 0) & (breaks[index] - breaks[np.maximum(before, 0)] == 0)
    if not covered.any():
        return float("nan")
    total = np.concatenate([[0.0], np.cumsum(hr)])
    mean = (total[index + 1] - total[first]) / (index + 1 - first)
    return float(mean[covered].max())

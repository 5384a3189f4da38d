"""Training sessions in a heart-rate stream without session markers (a BLE strap through the gateway).

Rule: the valid samples (finite HR > 0) split into runs wherever two consecutive samples are more than
``SESSION_GAP_MAX_S`` (5 min) apart; a gap of exactly 5 min keeps the run going (a rest between sets, a strap that
lost contact for a while). A run is a training session when it lasts longer than ``SESSION_MIN_S`` (10 min, first
to last sample): ``ingest.timeline.MORNING_READING_MAX_S``, the longest a morning HRV reading lasts, so a 3–5 min
(or exactly 10 min) morning reading is never a session. Pure numpy, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.timeline import MORNING_READING_MAX_S

SESSION_GAP_MAX_S = 5 * 60  # a longer gap between two HR samples ends the session
SESSION_MIN_S = MORNING_READING_MAX_S  # a session lasts longer than this (first to last sample)


@dataclass(frozen=True)
class HrSessions:
    """Sessions found in one HR stream, time-sorted; arrays of length ``len(self)``."""

    start_ms: np.ndarray  # int64, first sample
    end_ms: np.ndarray  # int64, last sample
    duration_s: np.ndarray  # (end − start) / 1000, s
    avg_hr_bpm: np.ndarray  # mean of the samples, bpm
    max_hr_bpm: np.ndarray  # highest sample, bpm
    samples: np.ndarray  # int64, HR samples in the session

    def __len__(self) -> int:
        return len(self.start_ms)


def find_hr_sessions(
    time_ms: np.ndarray,
    hr_bpm: np.ndarray,
    gap_max_s: float = SESSION_GAP_MAX_S,
    min_duration_s: float = SESSION_MIN_S,
) -> HrSessions:
    """Training sessions in an HR stream (rule of the module docstring).

    ``time_ms``: sample times, ms since the epoch, sorted (ValueError otherwise); ``hr_bpm``: HR at those times.
    Samples without a valid HR are ignored, so they neither bridge nor split a gap."""
    t = np.asarray(time_ms, dtype=np.int64)
    hr = np.asarray(hr_bpm, dtype=float)
    if t.shape != hr.shape:
        raise ValueError(f"{len(t)} sample times for {len(hr)} HR values")
    if np.any(np.diff(t) < 0):
        raise ValueError("HR sample times are not sorted")
    valid = np.isfinite(hr) & (hr > 0)
    t, hr = t[valid], hr[valid]
    if not len(t):
        return _sessions(t, t, np.zeros(0), np.zeros(0), np.zeros(0, np.int64))
    first = np.flatnonzero(np.r_[True, np.diff(t) > round(gap_max_s * 1000)])  # first sample of each run
    last = np.r_[first[1:] - 1, len(t) - 1]
    samples = last - first + 1
    avg = np.add.reduceat(hr, first) / samples  # the runs partition the samples
    peak = np.maximum.reduceat(hr, first)
    keep = t[last] - t[first] > round(min_duration_s * 1000)
    return _sessions(t[first[keep]], t[last[keep]], avg[keep], peak[keep], samples[keep].astype(np.int64))


def _sessions(start: np.ndarray, end: np.ndarray, avg: np.ndarray, peak: np.ndarray, samples: np.ndarray) -> HrSessions:
    return HrSessions(
        start_ms=start,
        end_ms=end,
        duration_s=(end - start) / 1000.0,
        avg_hr_bpm=avg,
        max_hr_bpm=peak,
        samples=samples,
    )

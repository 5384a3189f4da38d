"""Left/right asymmetry: symmetry indices per session and day, personal baselines and CUSUM change detection.

Sign convention (docs/data-model.md, Robinson 1987): ``SI = (L − R) / (0.5·(L + R)) × 100``, positive = the
**left** value is larger. From a left share ``B`` in % (Garmin GCT balance, pedal balance), ``SI = 4·(B − 50)``.

Daily arrays have days on the last axis (rows = athletes), as in ``monitor.load``. Session values are averaged
per day; NaN = no session that day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.evidence import predictive_z as predictive_z  # re-exported: it standardised asymmetry first
from monitor.evidence import recent_score
from monitor.rolling import RollingStats, window_stats


def symmetry_index_pct(left: np.ndarray | float, right: np.ndarray | float) -> np.ndarray:
    """Robinson symmetry index in %, positive when left is larger; NaN where ``L + R`` is not positive."""
    left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    total = left + right
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 200.0 * (left - right) / total, np.nan)


def si_from_left_share_pct(left_share_pct: np.ndarray) -> np.ndarray:
    """Symmetry index from the left side's share in % (GCT balance, pedal balance): ``4·(B − 50)``."""
    return 4.0 * (np.asarray(left_share_pct, dtype=float) - 50.0)


def symmetry_angle_pct(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Zifchock 2008 symmetry angle in %, bounded, positive when left is larger (≈ SI/π for small asymmetry)."""
    left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        angle = 45.0 - np.degrees(np.arctan2(right, left))
    return angle / 90.0 * 100.0


def muscle_symmetry_index_pct(load_left: np.ndarray, load_right: np.ndarray) -> np.ndarray:
    """SI per muscle: arrays ``(..., n_muscles)`` of left and right load (EMG RMS %MVC or any common scale)."""
    return symmetry_index_pct(load_left, load_right)


def pedal_symmetry_index_pct(left_share_pct: np.ndarray, cadence_rpm: np.ndarray | None = None) -> float:
    """Session pedal-power SI from per-sample left shares, averaging only samples with cadence > 0 (as
    GoldenCheetah's LeftRightBalance does) and a share inside (0, 100)."""
    b = np.asarray(left_share_pct, dtype=float)
    ok = np.isfinite(b) & (b > 0) & (b < 100)
    if cadence_rpm is not None:
        ok &= np.asarray(cadence_rpm, dtype=float) > 0
    return float(si_from_left_share_pct(b[ok].mean())) if ok.any() else float("nan")


@dataclass(frozen=True)
class GaitSummary:
    """Running metrics of one session from per-step data."""

    cadence_spm: float  # steps per minute
    step_length_m: float  # distance / steps
    stride_length_m: float  # two steps
    gct_left_ms: float
    gct_right_ms: float
    gct_symmetry_index_pct: float  # from the mean contact times
    gct_si_slope_pct_per_min: float  # within-session trend of the SI (least-squares slope)


def gait_summary(
    step_time_s: np.ndarray, contact_ms: np.ndarray, is_left: np.ndarray, distance_m: float, window_s: float = 60.0
) -> GaitSummary:
    """Cadence, step/stride length, per-foot ground-contact time, its SI and the SI's within-session trend.

    Steps are given by their initial-contact times (s, sorted), contact times (ms) and foot. The trend is the
    least-squares slope of the SI of consecutive ``window_s`` windows (each needs both feet) against time.
    """
    t = np.asarray(step_time_s, dtype=float)
    gct = np.asarray(contact_ms, dtype=float)
    left = np.asarray(is_left, dtype=bool)
    if t.size < 2:
        raise ValueError("need at least two steps")
    duration_min = (t[-1] - t[0]) / 60.0
    cadence = (t.size - 1) / duration_min if duration_min > 0 else float("nan")
    step_length = distance_m / t.size
    gl, gr = float(np.nanmean(gct[left])), float(np.nanmean(gct[~left]))
    window = ((t - t[0]) // window_s).astype(int)
    n_win = int(window.max()) + 1
    sums = [np.bincount(window[m], weights=gct[m], minlength=n_win) for m in (left, ~left)]
    counts = [np.bincount(window[m], minlength=n_win) for m in (left, ~left)]
    with np.errstate(invalid="ignore", divide="ignore"):
        si = symmetry_index_pct(sums[0] / counts[0], sums[1] / counts[1])
    mid_min = (np.arange(n_win) + 0.5) * window_s / 60.0
    ok = np.isfinite(si)
    slope = float(np.polyfit(mid_min[ok], si[ok], 1)[0]) if ok.sum() >= 2 else float("nan")
    return GaitSummary(
        cadence_spm=float(cadence),
        step_length_m=float(step_length),
        stride_length_m=float(2 * step_length),
        gct_left_ms=gl,
        gct_right_ms=gr,
        gct_symmetry_index_pct=float(symmetry_index_pct(gl, gr)),
        gct_si_slope_pct_per_min=slope,
    )


# --- daily indicators -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AsymmetrySeries:
    """One asymmetry metric for every athlete and day."""

    week: RollingStats  # sessions in the 7-day window
    baseline: RollingStats  # sessions in the baseline window before the 7-day window
    week_ok: np.ndarray  # enough sessions in the week for the 7-day SI
    baseline_ok: np.ndarray  # enough sessions in the baseline
    shift_pct: np.ndarray  # 7-day SI − baseline mean, percentage points
    cusum_up: np.ndarray  # CUSUM statistics (baseline SDs) of upward / downward shifts
    cusum_down: np.ndarray
    cusum_alarm: np.ndarray  # CUSUM above h (with enough sessions in the week and the baseline)
    jump_z: np.ndarray  # normal score of the mean of the last ``jump_sessions`` session days (``recent_score``)
    jump_alarm: np.ndarray  # |jump_z| at or beyond the jump bound (same data requirements)
    shift_alarm: np.ndarray  # either evidence: a shift of any size (CUSUM) or a large one (jump)


def cusum(
    z: np.ndarray, k: float, h: float, valid: np.ndarray | None = None, reset: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided tabular CUSUM of standardised values along the last axis (Page 1954).

    ``S⁺_t = max(0, S⁺_{t−1} + z_t − k)``, ``S⁻_t = max(0, S⁻_{t−1} − z_t − k)``; NaN ``z`` (no session) carries
    the state; where ``valid`` is False the state is 0. With ``reset`` a statistic restarts at 0 after exceeding
    ``h``. Vectorised across rows; one pass over days.
    """
    z = np.asarray(z, dtype=float)
    ok = np.ones(z.shape, bool) if valid is None else np.asarray(valid, bool)
    up, down = np.zeros(z.shape), np.zeros(z.shape)
    s_up, s_down = np.zeros(z.shape[:-1]), np.zeros(z.shape[:-1])
    for t in range(z.shape[-1]):
        zt = z[..., t]
        has = np.isfinite(zt)
        s_up = np.where(has, np.maximum(0.0, s_up + np.where(has, zt, 0.0) - k), s_up)
        s_down = np.where(has, np.maximum(0.0, s_down - np.where(has, zt, 0.0) - k), s_down)
        s_up, s_down = np.where(ok[..., t], s_up, 0.0), np.where(ok[..., t], s_down, 0.0)
        up[..., t], down[..., t] = s_up, s_down
        if reset:
            s_up, s_down = np.where(s_up > h, 0.0, s_up), np.where(s_down > h, 0.0, s_down)
    return up, down


def asymmetry_series(
    si_sum: np.ndarray,
    si_sq_sum: np.ndarray,
    n_sessions: np.ndarray,
    *,
    window_days: int = 7,
    baseline_days: int = 60,
    min_sessions_week: int = 2,
    min_sessions_baseline: int = 20,
    cusum_k: float = 2.0,
    cusum_h: float = 3.0,
    sd_floor_pct: float = 1.5,
    jump_sessions: int = 2,
    jump_z: float = np.inf,
) -> AsymmetrySeries:
    """7-day SI, its personal baseline (the ``baseline_days`` before the week) and CUSUM shift detection.

    Inputs are per (athlete, day) sums of session SI, SI² and session counts (see ``monitor.load.daily_sum``).
    Each day's mean SI is standardised by the baseline as a normal score (``predictive_z``; SD floored at
    ``sd_floor_pct``, so that a very stable athlete's tiny drifts do not count as many SDs) and fed to a
    two-sided CUSUM; the alarm is the CUSUM above ``cusum_h`` while the 7-day SI and the baseline are both
    sufficient. A large shift needs no accumulation: the jump alarm fires when the mean of the last
    ``jump_sessions`` session days is ``jump_z`` or more normal scores from the baseline (``recent_score``), however
    far apart those sessions were, and holds while the latest of them is within the 7-day window.
    """
    n = np.asarray(n_sessions, dtype=float)
    week = window_stats(si_sum, si_sq_sum, n, window_days)
    base = window_stats(si_sum, si_sq_sum, n, baseline_days, lag=window_days)
    week_ok = week.n >= min_sessions_week
    base_ok = base.n >= min_sessions_baseline
    with np.errstate(invalid="ignore", divide="ignore"):
        day_mean = np.where(n > 0, np.asarray(si_sum, float) / np.maximum(n, 1), np.nan)
        z = predictive_z(day_mean, base.mean, np.maximum(np.nan_to_num(base.sd), sd_floor_pct), base.n)
        shift = np.where(week_ok & base_ok, week.mean - base.mean, np.nan)
    up, down = cusum(np.where(base_ok, z, np.nan), cusum_k, cusum_h, valid=base_ok)
    cusum_alarm = week_ok & base_ok & ((up > cusum_h) | (down > cusum_h))
    jump = recent_score(z, jump_sessions, valid=base_ok)
    with np.errstate(invalid="ignore"):
        jump_alarm = (week.n >= 1) & base_ok & (np.abs(jump) >= jump_z)
    return AsymmetrySeries(
        week, base, week_ok, base_ok, shift, up, down, cusum_alarm, jump, jump_alarm, cusum_alarm | jump_alarm
    )

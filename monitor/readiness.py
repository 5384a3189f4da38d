"""HRV readiness windows: mean, SD and count of the valid mornings in trailing windows.

The 7-day value is the mean ln rMSSD of the 7 days ending on a day (Plews 2012–2014); the personal normal range
is the mean ± 0.5 SD of the 60 days before that week (Kiviniemi 2007; HRV4Training). ``monitor.rules`` builds
the ``hrv_suppressed`` and ``rhr_elevated`` signals on these windows (docs/analytics.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.load import rolling_sum


@dataclass(frozen=True)
class RollingStats:
    """Mean, SD (ddof=1) and count of valid values in a trailing window, per day of a regular daily grid."""

    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray


def window_stats(
    value_sum: np.ndarray, value_sq_sum: np.ndarray, n: np.ndarray, window: int, lag: int = 0
) -> RollingStats:
    """Stats of the values in days ``[t − lag − window + 1, t − lag]`` from per-day sums of values, squares and
    counts, along the last axis (several values a day count each, e.g. sessions)."""
    cnt = rolling_sum(n, window, lag)
    s1 = rolling_sum(value_sum, window, lag)
    s2 = rolling_sum(value_sq_sum, window, lag)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, s1 / cnt, np.nan)
        var = np.where(cnt > 1, (s2 - s1 * s1 / np.maximum(cnt, 1)) / np.maximum(cnt - 1, 1), np.nan)
    return RollingStats(n=np.rint(cnt).astype(np.int64), mean=mean, sd=np.sqrt(np.maximum(var, 0.0)))


def rolling_stats(x: np.ndarray, window: int, lag: int = 0) -> RollingStats:
    """Stats of the finite values of ``x[..., t-lag-window+1 .. t-lag]`` for every ``t`` along the last axis
    (windows clipped at the start; one row per athlete or a single series)."""
    x = np.asarray(x, dtype=float)
    valid = np.isfinite(x)
    with np.errstate(invalid="ignore"):  # centring each row keeps the cumulative sums accurate
        centre = np.nanmean(np.where(valid.any(axis=-1, keepdims=True), x, 0.0), axis=-1, keepdims=True)
    z = np.where(valid, x - centre, 0.0)
    stats = window_stats(z, z * z, valid.astype(float), window, lag)
    return RollingStats(n=stats.n, mean=stats.mean + centre, sd=stats.sd)

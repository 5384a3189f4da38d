"""Magnitude-scaled evidence for the recovery and asymmetry flags (docs/analytics.md §3, §5).

A CUSUM accumulates small deviations over several readings; a large deviation should not have to wait for it.
``recent_score`` is the evidence of the last few readings together (one or two sessions), so a large change is
flagged after as few readings as its size allows while steady noise almost never gets there.
``window_evidence`` does the same for every window of the last 1 … N days at once: the mean of the readings in
each window as a normal score against the personal baseline, accounting for how many readings the window and the
baseline hold; the strongest window speaks. A large drop is seen in one or two mornings, a moderate one in three
or four, a small one over the week. ``joint_score`` combines a morning's HRV and resting-HR scores into one,
standardised with the athlete's own HRV–HR correlation (real mornings are negatively correlated: HRV down and HR up
together is partly everyday noise, Buchheit 2014). Pure numpy along the last axis (days), rows = athletes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from monitor.rolling import rolling_sum


def predictive_z(
    x: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
    n: np.ndarray,
    *,
    readings: np.ndarray | float = 1.0,
    sd_n: np.ndarray | None = None,
) -> np.ndarray:
    """A new value standardised against a baseline of ``n`` values (mean, SD), as an equally rare normal score.

    ``(x − mean) / (sd·√(1 + 1/n))`` follows Student's t with ``n − 1`` degrees of freedom when the baseline is a
    sample of the same normal distribution; it is mapped to the normal deviate of the same tail probability, so
    that a baseline of 12 sessions or 28 mornings does not turn its own uncertainty into false alarms.

    ``x`` may be the mean of ``readings`` new values: then ``(x − mean) / (sd·√(1/readings + 1/n))``. ``sd_n`` is
    the number of values the SD was estimated from when that is another window than the mean's (default ``n``);
    the degrees of freedom are ``sd_n − 1``.
    """
    t = _predictive_t(x, mean, sd, n, readings)
    return _normal_score(t, np.asarray(sd_n if sd_n is not None else n, dtype=float) - 1.0)


def _predictive_t(
    x: np.ndarray, mean: np.ndarray | float, sd: np.ndarray | float, n: np.ndarray, readings: np.ndarray | float
) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.sqrt(1.0 / np.asarray(readings, dtype=float) + 1.0 / np.asarray(n, dtype=float))
        return (np.asarray(x, float) - mean) / (np.asarray(sd, float) * scale)


def _normal_score(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """The normal deviate with the tail probability of ``t`` under Student's t with ``df`` (> 0) degrees of freedom
    (NaN where either is NaN or ``df`` ≤ 0); computed only where there is something to compute."""
    from scipy import stats  # imported here: a CLI command that never standardises need not load scipy.stats

    t, df = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(df, dtype=float))
    out = np.full(t.shape, np.nan)
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(t) & (df > 0)
    out[ok] = np.sign(t[ok]) * stats.norm.isf(stats.t.sf(np.abs(t[ok]), df[ok]))
    return out


def recent_score(z: np.ndarray, m: int, valid: np.ndarray | None = None) -> np.ndarray:
    """Normal score of the mean of the last ``m`` readings up to each day, ``(z₁ + … + z_m)/√m``.

    ``z`` holds per-day normal scores (NaN = no reading, which carries the score); NaN until ``m`` readings were
    seen since ``valid`` last was False. The readings need not be on consecutive days. Evidence that needs no
    persistence: ``m`` large deviations together are as rare as one deviation of ``√m`` times their mean.
    """
    z = np.asarray(z, dtype=float)
    m = max(int(m), 1)
    ok = np.ones(z.shape, bool) if valid is None else np.asarray(valid, bool)
    out = np.full(z.shape, np.nan)
    last = np.zeros((m, *z.shape[:-1]))  # the last m readings, newest first
    count = np.zeros(z.shape[:-1], np.int64)
    for t in range(z.shape[-1]):
        zt = z[..., t]
        has = np.isfinite(zt) & ok[..., t]
        last = np.where(has, np.concatenate([np.where(has, zt, 0.0)[None], last[:-1]]), last)
        count = np.where(ok[..., t], count + has, 0)
        out[..., t] = np.where(count >= m, last.sum(axis=0) / np.sqrt(m), np.nan)
    return out


def paired_correlation(x: np.ndarray, y: np.ndarray, window: int, lag: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation of ``x`` and ``y`` over the days of ``[t − lag − window + 1, t − lag]`` on which both
    are finite, and the number of such days (correlation NaN below 3 days or with a constant series)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    both = np.isfinite(x) & np.isfinite(y)
    pairs = np.maximum(both.sum(axis=-1, keepdims=True), 1)  # centring each row keeps the cumulative sums accurate
    cx = np.where(both, x, 0.0).sum(axis=-1, keepdims=True) / pairs
    cy = np.where(both, y, 0.0).sum(axis=-1, keepdims=True) / pairs
    a, b = np.where(both, x - cx, 0.0), np.where(both, y - cy, 0.0)
    n = rolling_sum(both.astype(float), window, lag)
    sa, sb = rolling_sum(a, window, lag), rolling_sum(b, window, lag)
    saa, sbb, sab = rolling_sum(a * a, window, lag), rolling_sum(b * b, window, lag), rolling_sum(a * b, window, lag)
    with np.errstate(invalid="ignore", divide="ignore"):
        nn = np.maximum(n, 1)
        cov, va, vb = sab - sa * sb / nn, saa - sa * sa / nn, sbb - sb * sb / nn
        r = np.where((n >= 3) & (va > 0) & (vb > 0), cov / np.sqrt(va * vb), np.nan)
    return np.clip(r, -1.0, 1.0), np.rint(n).astype(np.int64)


def joint_score(z_up: np.ndarray, z_down: np.ndarray, correlation: np.ndarray) -> np.ndarray:
    """One normal score for "``up`` rose and ``down`` fell": ``(z_up − z_down)/√(2·(1 − ρ))``, where ``ρ`` is the
    correlation of the two series (the variance of ``z_up − z_down`` is ``2 − 2ρ``). A positive or unknown ``ρ``
    counts as 0, so the score is never sharper than for independent series."""
    rho = np.minimum(np.nan_to_num(np.asarray(correlation, dtype=float), nan=0.0), 0.0)
    return (np.asarray(z_up, float) - np.asarray(z_down, float)) / np.sqrt(2.0 * (1.0 - rho))


Deviation = Callable[[int], np.ndarray]
"""``lag ↦`` for every day ``t`` (arrays ``(athletes, days)``), the reading of day ``t − lag`` in SDs from the
baseline of day ``t`` (NaN = no reading): what ``window_evidence`` averages."""


def deviations(x: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> Deviation:
    """The ``Deviation`` of the readings ``x`` (NaN = none) from the baseline ``mean``, in units of ``sd``."""
    x = np.asarray(x, dtype=float)

    def deviation(lag: int) -> np.ndarray:
        earlier = np.full(x.shape, np.nan)
        earlier[..., lag:] = x[..., : x.shape[-1] - lag]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (earlier - mean) / sd

    return deviation


@dataclass(frozen=True)
class WindowEvidence:
    """The strongest window of ``window_evidence`` on each day (arrays ``(athletes, days)``)."""

    score: np.ndarray  # normal score of the window's mean against the baseline (NaN = no window with enough data)
    days: np.ndarray  # the window: the last this many days (0 = none)
    readings: np.ndarray  # readings in the window
    mean: np.ndarray  # mean of those readings, in baseline SDs from the baseline mean


def window_evidence(
    deviation: Deviation,
    mean_n: np.ndarray,
    sd_n: np.ndarray,
    max_days: int,
    min_readings: int = 1,
    direction: float = -1.0,
    valid: np.ndarray | None = None,
    cap_sd: float = np.inf,
) -> WindowEvidence:
    """For each day ``t``, the window of the last ``L`` days (``L`` = 1 … ``max_days``) whose mean reading lies
    furthest from the baseline in ``direction`` (−1: below), as a normal score (``predictive_z``).

    ``deviation`` gives the readings in SDs from the baseline of day ``t`` (``deviations``; a combination of them,
    such as ``joint_score``, for several series). The mean ``d̄`` of the ``k`` readings in days ``[t − L + 1, t]``,
    against a baseline mean of ``mean_n`` values and an SD of ``sd_n`` values, gives ``d̄/√(1/k + 1/mean_n)``, which
    follows Student's t with ``sd_n − 1`` degrees of freedom when nothing changed and is mapped to the normal score of
    the same tail probability. Each reading counts at most ``cap_sd`` SDs, so that one extreme reading cannot carry a
    window of several. Windows with fewer than ``min_readings`` readings, and days where ``valid`` is False, give no
    score. Of equally strong windows the shortest is kept. The baseline of day ``t`` must lie before the longest
    window.
    """
    shape = np.shape(deviation(0))
    ok = np.ones(shape, bool) if valid is None else np.asarray(valid, bool)
    total, capped, count = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    best = WindowEvidence(
        np.full(shape, np.nan), np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.full(shape, np.nan)
    )
    strongest = np.full(shape, -np.inf)
    for lag in range(max(int(max_days), 1)):
        d = np.asarray(deviation(lag), dtype=float)
        has = np.isfinite(d)
        total += np.where(has, d, 0.0)
        capped += np.where(has, np.clip(d, -cap_sd, cap_sd), 0.0)
        count += has
        with np.errstate(invalid="ignore", divide="ignore"):
            t = _predictive_t(capped / count, 0.0, 1.0, mean_n, count)
            stronger = ok & (count >= max(min_readings, 1)) & np.isfinite(t) & (direction * t > strongest)
        strongest = np.where(stronger, direction * t, strongest)  # the same degrees of freedom for every window
        best.score[stronger] = t[stronger]  # of a day: the strongest t is the strongest normal score
        best.days[stronger] = lag + 1
        best.readings[stronger] = count[stronger]
        best.mean[stronger] = total[stronger] / count[stronger]
    best.score[:] = _normal_score(best.score, np.asarray(sd_n, dtype=float) - 1.0)
    return best

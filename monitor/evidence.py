"""Magnitude-scaled evidence for the recovery and asymmetry flags (docs/analytics.md §3, §5).

A CUSUM accumulates small deviations over several readings; a large deviation should not have to wait for it.
``recent_score`` is the evidence of the last few readings together (one or two mornings or sessions), so a large
change is flagged after as few readings as its size allows while steady noise almost never gets there.
``joint_score`` combines a morning's HRV and resting-HR normal scores into one, standardised with the athlete's
own HRV–HR correlation (real mornings are negatively correlated: HRV down and HR up together is partly
everyday noise, Buchheit 2014). Pure numpy along the last axis (days), rows = athletes.
"""

from __future__ import annotations

import numpy as np

from monitor.rolling import rolling_sum


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

"""Time-domain HRV of an RR recording (a morning reading or 24 h): one definition everywhere.

``hrv_metrics`` with the default ``correction="exclude"`` is what the `hrv` command prints, what imports and the
analysis store as the morning `readiness` point and what the dashboards and the report show: Lipponen–Tarvainen
(2019) detection, repeated on the corrected series (``monitor.rr_correction.excluded_intervals``), then rMSSD over
the successive differences of two kept intervals only, SDNN and mean RR over the kept intervals. It was chosen on
``bench/hrv_accuracy.py`` (docs/validation.md): within a few per cent of the clean series at every rMSSD band and
artifact rate, where replacing artifacts overestimates low-HRV readings and the former median-filter mask
underestimates high-HRV ones.

The explicit modes: ``"kubios"`` replaces the artifacts with corrected intervals and uses every successive
difference (as Kubios HRV and NeuroKit2 do; agrees with NeuroKit2 within 2 %); ``"none"`` uses the raw series
(equals the Kubios reports made without correction), artifacts only counted.

Conventions (match Kubios HRV): SDNN with ``ddof=1``; mean HR = 60000 / mean RR.

``artifact_mask`` is the former analysis detector (local-median filter), kept as a benchmark candidate.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from monitor.rr_correction import ArtifactCounts, correct_rr, detect_artifacts, excluded_intervals

RR_MIN_MS = 300.0  # 200 bpm
RR_MAX_MS = 2000.0  # 30 bpm
MEDIAN_HALF_WINDOW = 5  # neighbours on each side for the local median
MEDIAN_TOLERANCE = 0.20  # max relative deviation from the local median

Correction = Literal["exclude", "kubios", "none"]
CORRECTIONS: tuple[Correction, ...] = ("exclude", "kubios", "none")
DEFAULT_CORRECTION: Correction = "exclude"


def local_median_ms(
    rr_ms: np.ndarray, valid: np.ndarray | None = None, half_window: int = MEDIAN_HALF_WINDOW
) -> np.ndarray:
    """Median of the up to ``2·half_window`` neighbouring valid intervals of each interval (itself excluded).

    NaN where no valid neighbour exists.
    """
    rr = np.asarray(rr_ms, dtype=float)
    x = rr.copy() if valid is None else np.where(valid, rr, np.nan)
    padded = np.pad(x, half_window, constant_values=np.nan)
    windows = sliding_window_view(padded, 2 * half_window + 1).copy()
    windows[:, half_window] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN neighbourhoods give NaN
        return np.nanmedian(windows, axis=1)


def artifact_mask(
    rr_ms: np.ndarray,
    *,
    min_ms: float = RR_MIN_MS,
    max_ms: float = RR_MAX_MS,
    tolerance: float = MEDIAN_TOLERANCE,
    half_window: int = MEDIAN_HALF_WINDOW,
) -> np.ndarray:
    """Boolean mask, True = artifact.

    An interval is an artifact if it is outside ``[min_ms, max_ms]`` or not finite, or if it deviates more than
    ``tolerance`` (relative) from the median of its ``half_window`` neighbours on each side (out-of-range
    neighbours excluded), or if it follows such a short interval and is more than ``tolerance / 2`` longer than
    its local median (the compensatory pause of an ectopic beat, often only 15–20 % long). Catches ectopic
    beats, missed beats (about twice the local interval) and extra beats (split intervals).
    """
    rr = np.asarray(rr_ms, dtype=float)
    if rr.ndim != 1:
        raise ValueError("rr_ms must be 1-D")
    with np.errstate(invalid="ignore"):
        out_of_range = ~((rr >= min_ms) & (rr <= max_ms))
        med = local_median_ms(rr, ~out_of_range, half_window)
        deviant = np.abs(rr - med) > tolerance * med
        short = deviant & (rr < med)
        pause = np.zeros_like(deviant)
        pause[1:] = short[:-1] & (rr[1:] > (1.0 + tolerance / 2) * med[1:])
    return out_of_range | deviant | pause


def _valid(rr: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    if valid is None:
        return np.isfinite(rr)
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != rr.shape:
        raise ValueError("valid must have the same shape as rr_ms")
    return valid & np.isfinite(rr)


def rmssd_ms(rr_ms: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Root mean square of successive differences (ms), using only differences between two valid intervals.

    ``valid`` (bool, True = keep) defaults to all finite intervals. NaN with fewer than 2 usable differences.
    """
    rr = np.asarray(rr_ms, dtype=float)
    ok = _valid(rr, valid)
    pair = ok[1:] & ok[:-1]
    if np.count_nonzero(pair) < 2:
        return float("nan")
    d = np.diff(rr)[pair]
    return float(np.sqrt(np.mean(d * d)))


def sdnn_ms(rr_ms: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Standard deviation (ddof=1) of the valid intervals (ms); NaN with fewer than 2."""
    rr = np.asarray(rr_ms, dtype=float)
    x = rr[_valid(rr, valid)]
    return float(np.std(x, ddof=1)) if x.size >= 2 else float("nan")


def split_readings(time_ms: np.ndarray, gap_ms: float = 30 * 60 * 1000) -> list[slice]:
    """Split a sorted stream of beat timestamps (ms) into readings wherever consecutive beats are > ``gap_ms`` apart."""
    t = np.asarray(time_ms, dtype=float)
    if t.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(t) > gap_ms) + 1
    bounds = np.concatenate(([0], cuts, [t.size]))
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class HrvMetrics:
    """Time-domain HRV of one recording (a morning reading or 24 h) and the artifacts found in it."""

    n_beats: int  # intervals analysed (kubios: after correction, extra beats merged, missed beats split)
    artifacts: ArtifactCounts  # exclude, kubios: detected, summed over passes; none: detected (one pass), left in
    mean_rr_ms: float
    mean_hr_bpm: float  # 60000 / mean_rr_ms, as Kubios reports it
    sdnn_ms: float  # ddof=1, as Kubios
    rmssd_ms: float
    ln_rmssd: float
    n_used: int  # intervals the metrics use (exclude: the kept ones; otherwise n_beats)

    @property
    def artifact_pct(self) -> float:
        """Artifacts per 100 intervals (NaN without intervals)."""
        return 100.0 * self.artifacts.total / self.n_beats if self.n_beats else float("nan")

    def to_json(self) -> dict[str, Any]:
        """Plain dict for JSON; NaN becomes None."""

        def num(x: float) -> float | None:
            return None if np.isnan(x) else round(float(x), 4)

        return {
            "n_beats": self.n_beats,
            "n_used": self.n_used,
            "artifacts": self.artifacts.as_dict(),
            "mean_rr_ms": num(self.mean_rr_ms),
            "mean_hr_bpm": num(self.mean_hr_bpm),
            "sdnn_ms": num(self.sdnn_ms),
            "rmssd_ms": num(self.rmssd_ms),
            "ln_rmssd": num(self.ln_rmssd),
        }


def _excluded_metrics(rr: np.ndarray) -> HrvMetrics:
    """``exclude`` mode; intervals that are not finite and positive are excluded (and stand in as the median for
    the detection) instead of failing, so a stored reading with a bad value still gets its HRV."""
    bad = ~(np.isfinite(rr) & (rr > 0))
    found = excluded_intervals(np.where(bad, np.median(rr[~bad]) if (~bad).any() else 1000.0, rr) if bad.any() else rr)
    used = ~(found.excluded | bad)
    kept = rr[used]
    mean_rr = float(kept.mean()) if kept.size else float("nan")
    rmssd = rmssd_ms(rr, used)
    return HrvMetrics(
        n_beats=int(rr.size),
        artifacts=found.artifacts,
        mean_rr_ms=mean_rr,
        mean_hr_bpm=60_000.0 / mean_rr if mean_rr > 0 else float("nan"),
        sdnn_ms=float(np.std(kept, ddof=1)) if kept.size >= 2 else float("nan"),
        rmssd_ms=rmssd,
        ln_rmssd=float(np.log(rmssd)) if rmssd > 0 else float("nan"),
        n_used=int(kept.size),
    )


def hrv_metrics(rr_ms: np.ndarray, correction: Correction = DEFAULT_CORRECTION) -> HrvMetrics:
    """Time-domain HRV of ``rr_ms``: artifacts excluded (``"exclude"``, the default), corrected by
    Lipponen–Tarvainen replacement (``"kubios"``) or left in (``"none"``, still counted). ``kubios`` and ``none``
    raise ValueError on non-finite or non-positive intervals."""
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    rr = np.asarray(rr_ms, dtype=float)
    if rr.ndim != 1:
        raise ValueError("rr_ms must be 1-D")
    if correction == "exclude":
        return _excluded_metrics(rr)
    if correction == "kubios":
        fixed = correct_rr(rr, count_passes=False)  # validates rr; the number of passes is not reported
        rr, artifacts = fixed.rr_ms, fixed.artifacts
    else:
        if not np.all(np.isfinite(rr) & (rr > 0)):
            raise ValueError("rr_ms must be finite and positive")
        artifacts = detect_artifacts(rr).counts()
    # np.mean, np.std(ddof=1) and the rMSSD written out (the same operations, so the same values, without the
    # per-call overhead of np.mean and np.std, which is noticeable on a 5-minute reading)
    n, total = rr.size, rr.sum()
    mean_rr = float(total / n) if n else float("nan")
    sdnn = rmssd = float("nan")
    if n >= 2:
        dev = rr - total / n
        sdnn = float(np.sqrt((dev * dev).sum() / (n - 1)))
        diff = rr[1:] - rr[:-1]
        rmssd = float(np.sqrt((diff * diff).sum() / (n - 1)))
    return HrvMetrics(
        n_beats=int(rr.size),
        artifacts=artifacts,
        mean_rr_ms=mean_rr,
        mean_hr_bpm=60_000.0 / mean_rr if mean_rr > 0 else float("nan"),
        sdnn_ms=sdnn,
        rmssd_ms=rmssd,
        ln_rmssd=float(np.log(rmssd)) if rmssd > 0 else float("nan"),
        n_used=int(rr.size),
    )

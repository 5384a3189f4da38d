"""Morning wellness against the personal baseline: the Hooper index and left/right soreness of the body map.

Inputs are daily grids ``(athletes, days)`` of the morning check-ins (docs/data-model.md `wellness`, `soreness`):
the four Hooper items (Hooper & Mackinnon 1995; 1–7, higher = worse), their sum the Hooper index (4–28), and per
region of ``ingest.regions`` a rating 0–10 (0 = not sore). Pure numpy along the last axis (days); rules and their
measured effect: docs/analytics.md ("Wellness").

- **Hooper index**: the 7-day mean against the athlete's normal range (the 60 days before the week: mean +
  ``range_sd`` SD, SD floored), every check-in standardised against that baseline as a normal score
  (``predictive_z``), a one-sided CUSUM of those scores (Page 1954) and the score of the last check-ins together
  (``recent_score``). Rising = worse.
- **Left/right soreness**: per sided region group, a check-in is *one-sided* when one side is rated at least
  ``diff_points`` above the other. A side's one-sided check-ins in the last ``window_days`` are unusual for the
  athlete when so many would occur by chance at the athlete's own rate of the baseline check-ins with probability
  at most ``max_p`` (binomial tail; rate = Jeffreys estimate ``(b + ½)/(n_b + 1)``). An athlete who is often sore on
  one side is compared with that, not with zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.regions import REGION_NAMES, REGIONS
from monitor.asymmetry import cusum, predictive_z
from monitor.evidence import recent_score
from monitor.rolling import RollingStats, rolling_stats, rolling_sum
from monitor.thresholds import WellnessThresholds

HOOPER_ITEMS = ("sleep_quality", "fatigue", "soreness", "stress")
SIDED_GROUPS: tuple[str, ...] = tuple(dict.fromkeys(r.group for r in REGIONS if r.side is not None))
"""The region groups with a left and a right region, in the vocabulary's order."""
_LEFT = np.array([REGION_NAMES.index(f"{g}_l") for g in SIDED_GROUPS])
_RIGHT = np.array([REGION_NAMES.index(f"{g}_r") for g in SIDED_GROUPS])


@dataclass(frozen=True)
class WellnessInputs:
    """Daily check-ins on the analysis grid: ``items`` (Hooper item → (A, D), NaN = no check-in that day),
    ``soreness`` (A, D, regions in ``REGION_NAMES`` order) ratings 0–10 with 0 also on days without a check-in,
    ``pain`` (A, D) 1/0/NaN."""

    items: dict[str, np.ndarray]
    soreness: np.ndarray
    pain: np.ndarray

    @property
    def checked_in(self) -> np.ndarray:
        return np.all([np.isfinite(self.items[k]) for k in HOOPER_ITEMS], axis=0)

    @property
    def hooper_index(self) -> np.ndarray:
        """Sum of the four items, NaN unless all four were answered."""
        total = np.sum([self.items[k] for k in HOOPER_ITEMS], axis=0)
        return np.where(self.checked_in, total, np.nan)


@dataclass(frozen=True)
class HooperSeries:
    """The Hooper index of every athlete and day against the personal baseline."""

    week: RollingStats  # check-ins in the window
    baseline: RollingStats  # check-ins in the baseline window before it
    ok: np.ndarray  # enough check-ins in the week and the baseline to show the range
    flag_ok: np.ndarray  # ... and enough baseline check-ins to flag
    upper: np.ndarray  # upper bound of the normal range: mean + range_sd × max(SD, floor)
    z: np.ndarray  # each check-in's normal score against the baseline (NaN = no check-in or no baseline)
    cusum: np.ndarray  # one-sided CUSUM of rising z (baseline SDs)
    jump: np.ndarray  # normal score of the mean of the last jump_checkins check-ins
    above: np.ndarray  # the 7-day mean above the upper bound (flag_ok)


def hooper_series(
    hooper: np.ndarray,
    *,
    window_days: int = 7,
    baseline_days: int = 60,
    min_checkins_7d: int = 3,
    min_baseline_checkins: int = 14,
    flag_min_baseline_checkins: int = 28,
    range_sd: float = 0.5,
    sd_floor_points: float = 1.0,
    cusum_k: float = 1.25,
    jump_checkins: int = 2,
) -> HooperSeries:
    """7-day Hooper index, its normal range and sequential evidence that it rose (module docstring)."""
    x = np.asarray(hooper, float)
    week = rolling_stats(x, window_days)
    base = rolling_stats(x, baseline_days, lag=window_days)
    ok = (week.n >= min_checkins_7d) & (base.n >= min_baseline_checkins)
    flag_ok = ok & (base.n >= flag_min_baseline_checkins)
    sd = np.maximum(np.nan_to_num(base.sd), sd_floor_points)
    with np.errstate(invalid="ignore", divide="ignore"):
        upper = base.mean + range_sd * sd
        z = np.where(flag_ok, predictive_z(x, base.mean, sd, base.n), np.nan)
        above = flag_ok & (week.mean > upper)
    up, _ = cusum(z, cusum_k, np.inf, valid=flag_ok)
    jump = recent_score(z, jump_checkins, valid=flag_ok)
    return HooperSeries(week, base, ok, flag_ok, upper, z, up, jump, above)


@dataclass(frozen=True)
class SorenessAsymmetry:
    """Left/right soreness of every sided region group (``SIDED_GROUPS``), athlete and day; arrays (G, A, D)."""

    difference: np.ndarray  # rating left − right on check-in days, NaN otherwise
    week_checkins: np.ndarray  # check-ins in the window (A, D)
    left_sorer: np.ndarray  # one-sided check-ins in the window with the left side sorer
    right_sorer: np.ndarray
    left_p: np.ndarray  # binomial tail probability of that many at the baseline rate
    right_p: np.ndarray
    baseline_ok: np.ndarray  # (A, D) enough baseline check-ins
    mean_difference: np.ndarray  # mean left − right over the window's check-ins, points
    unusual: np.ndarray  # (A, D) some side's one-sided soreness is unusual (``unusual_side``)
    group: np.ndarray  # (A, D) index in SIDED_GROUPS of the most unusual one
    side: np.ndarray  # (A, D) +1 = left sorer, −1 = right sorer
    p: np.ndarray  # (A, D) its tail probability, NaN when none is unusual


def binomial_tail(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(X ≥ k) for X ~ Binomial(n, p); 1 where k ≤ 0."""
    from scipy import stats  # imported here, as in monitor.asymmetry

    k, n = np.asarray(k, float), np.asarray(n, float)
    return np.where(k > 0, stats.binom.sf(k - 1, n, p), 1.0)


def soreness_asymmetry(
    soreness: np.ndarray,
    checked_in: np.ndarray,
    *,
    window_days: int = 7,
    baseline_days: int = 60,
    min_baseline_checkins: int = 14,
    diff_points: float = 2.0,
    min_checkins: int = 2,
    max_p: float = 0.001,
) -> SorenessAsymmetry:
    """One-sided soreness of each sided group in the last ``window_days`` against the athlete's own rate of the
    ``baseline_days`` before (module docstring). ``soreness`` (A, D, regions), ``checked_in`` (A, D)."""
    checked = np.asarray(checked_in, bool)
    s = np.asarray(soreness, float)
    left, right = np.moveaxis(s[..., _LEFT], -1, 0), np.moveaxis(s[..., _RIGHT], -1, 0)  # (G, A, D)
    diff = np.where(checked, left - right, np.nan)
    one_left = (diff >= diff_points).astype(float)
    one_right = (diff <= -diff_points).astype(float)
    n_week = rolling_sum(checked.astype(float), window_days)
    n_base = rolling_sum(checked.astype(float), baseline_days, lag=window_days)
    k_left, k_right = rolling_sum(one_left, window_days), rolling_sum(one_right, window_days)
    rate_left = (rolling_sum(one_left, baseline_days, lag=window_days) + 0.5) / (n_base + 1.0)
    rate_right = (rolling_sum(one_right, baseline_days, lag=window_days) + 0.5) / (n_base + 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_week > 0, rolling_sum(np.nan_to_num(diff), window_days) / n_week, np.nan)
    k_left, k_right = np.rint(k_left).astype(np.int64), np.rint(k_right).astype(np.int64)
    p_left, p_right = binomial_tail(k_left, n_week, rate_left), binomial_tail(k_right, n_week, rate_right)
    base_ok = n_base >= min_baseline_checkins
    # the most unusual side: sorer on ≥ min_checkins check-ins, tail ≤ max_p, and more often than the other side
    cond_l = base_ok & (k_left >= min_checkins) & (p_left <= max_p) & (k_left > k_right)
    cond_r = base_ok & (k_right >= min_checkins) & (p_right <= max_p) & (k_right > k_left)
    p = np.where(cond_l, p_left, np.where(cond_r, p_right, np.inf))  # (G, A, D)
    group = np.argmin(p, axis=0) if len(SIDED_GROUPS) else np.zeros(checked.shape, np.int64)
    best = np.take_along_axis(p, group[None], 0)[0]
    left = np.take_along_axis(cond_l, group[None], 0)[0]
    return SorenessAsymmetry(
        difference=diff,
        week_checkins=np.rint(n_week).astype(np.int64),
        left_sorer=k_left,
        right_sorer=k_right,
        left_p=p_left,
        right_p=p_right,
        baseline_ok=base_ok,
        mean_difference=mean,
        unusual=np.isfinite(best),
        group=group,
        side=np.where(left, 1.0, -1.0),
        p=np.where(np.isfinite(best), best, np.nan),
    )


def wellness_indicators(w: WellnessInputs, th: WellnessThresholds) -> tuple[HooperSeries, SorenessAsymmetry]:
    """The Hooper series and the left/right soreness of ``w`` with the ``[wellness]`` thresholds."""
    hooper = hooper_series(
        w.hooper_index,
        window_days=th.window_days,
        baseline_days=th.baseline_days,
        min_checkins_7d=th.min_checkins_7d,
        min_baseline_checkins=th.min_baseline_checkins,
        flag_min_baseline_checkins=th.flag_min_baseline_checkins,
        range_sd=th.range_sd,
        sd_floor_points=th.sd_floor_points,
        cusum_k=th.cusum_k,
        jump_checkins=th.jump_checkins,
    )
    sore = soreness_asymmetry(
        w.soreness,
        w.checked_in,
        window_days=th.soreness_window_days,
        baseline_days=th.baseline_days,
        min_baseline_checkins=th.min_baseline_checkins,
        diff_points=th.soreness_diff_points,
        min_checkins=th.soreness_min_checkins,
        max_p=th.soreness_max_p,
    )
    return hooper, sore


def hooper_evidence(h: HooperSeries, cusum_h: float, jump_z: float) -> np.ndarray:
    """(A, D): the 7-day Hooper index above its normal range, confirmed by the CUSUM above ``cusum_h`` or the last
    check-ins together at ``jump_z`` or more."""
    with np.errstate(invalid="ignore"):
        return h.above & ((h.cusum > cusum_h) | (h.jump >= jump_z))

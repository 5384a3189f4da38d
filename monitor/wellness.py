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
from ingest.wellness import HOOPER_ITEMS
from monitor.asymmetry import cusum, predictive_z
from monitor.evidence import recent_score
from monitor.rolling import RollingStats, rolling_stats, rolling_sum
from monitor.thresholds import WellnessThresholds

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
    """Left/right soreness of every athlete and day (A, D): the most unusual one-sided soreness of a sided region
    group (``SIDED_GROUPS``), if any."""

    week_checkins: np.ndarray  # check-ins in the window
    baseline_ok: np.ndarray  # enough baseline check-ins
    unusual: np.ndarray  # some side of some group is unusually often the sorer one
    group: np.ndarray  # index in SIDED_GROUPS of the most unusual one (0 when none)
    side: np.ndarray  # +1 = left sorer, −1 = right sorer
    sorer_checkins: np.ndarray  # one-sided check-ins of that side in the window (0 when none)
    p: np.ndarray  # its binomial tail probability at the baseline rate (NaN when none is unusual)
    mean_difference: np.ndarray  # mean rating left − right of that group over the window's check-ins (NaN: none)


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
    min_baseline_checkins: int = 28,
    diff_points: float = 2.0,
    min_checkins: int = 2,
    max_p: float = 0.0001,
) -> SorenessAsymmetry:
    """One-sided soreness of each sided group in the last ``window_days`` against the athlete's own rate of the
    ``baseline_days`` before (module docstring). ``soreness`` (A, D, regions) ratings 0–10, ``checked_in`` (A, D).

    A side is unusual when it was the sorer one (by ``diff_points`` or more) on at least ``min_checkins`` check-ins
    of the window, more often than the other side, with a binomial tail of at most ``max_p``; of several, the
    smallest tail (then the first group) counts. Only the (athlete, group) pairs with any one-sided check-in are
    computed: they are few, and the grid of every group, athlete and day is large.
    """
    checked = np.asarray(checked_in, bool)
    a, d = checked.shape
    n_week = rolling_sum(checked.astype(float), window_days)
    n_base = rolling_sum(checked.astype(float), baseline_days, lag=window_days)
    base_ok = n_base >= min_baseline_checkins
    sore = np.asarray(soreness)
    diff = sore[..., _LEFT].astype(np.int16) - sore[..., _RIGHT].astype(np.int16)  # (A, D, G); 0 without a check-in
    one_sided = np.abs(diff) >= diff_points
    rows, groups = np.nonzero(one_sided.any(axis=1))  # (athlete, group) pairs, by athlete then group
    best = np.full((a, d), np.inf)
    group = np.zeros((a, d), np.int64)
    side = np.ones((a, d))
    count = np.zeros((a, d), np.int64)
    mean = np.full((a, d), np.nan)
    if rows.size:
        dk = diff[rows, :, groups].astype(float)  # (K, D)
        nw, nb, ok = n_week[rows], n_base[rows], base_ok[rows]
        per_side = []
        for sorer in (dk >= diff_points, dk <= -diff_points):  # left sorer, right sorer
            k = np.rint(rolling_sum(sorer.astype(float), window_days)).astype(np.int64)
            rate = (rolling_sum(sorer.astype(float), baseline_days, lag=window_days) + 0.5) / (nb + 1.0)
            tail = np.ones(k.shape)
            enough = ok & (k >= max(min_checkins, 1))
            tail[enough] = binomial_tail(k[enough], nw[enough], rate[enough])
            per_side.append((k, tail, enough))
        (k_l, p_l, ok_l), (k_r, p_r, ok_r) = per_side
        cond_l = ok_l & (p_l <= max_p) & (k_l > k_r)
        cond_r = ok_r & (p_r <= max_p) & (k_r > k_l)
        p = np.where(cond_l, p_l, np.where(cond_r, p_r, np.inf))
        with np.errstate(invalid="ignore", divide="ignore"):
            week_mean = np.where(nw > 0, rolling_sum(dk, window_days) / nw, np.nan)
        for i in np.flatnonzero(np.isfinite(p).any(axis=1)):  # pairs that are ever unusual
            r = rows[i]
            better = p[i] < best[r]
            best[r] = np.where(better, p[i], best[r])
            group[r] = np.where(better, groups[i], group[r])
            side[r] = np.where(better, np.where(cond_l[i], 1.0, -1.0), side[r])
            count[r] = np.where(better, np.where(cond_l[i], k_l[i], k_r[i]), count[r])
            mean[r] = np.where(better, week_mean[i], mean[r])
    unusual = np.isfinite(best)
    return SorenessAsymmetry(
        week_checkins=np.rint(n_week).astype(np.int64),
        baseline_ok=base_ok,
        unusual=unusual,
        group=group,
        side=side,
        sorer_checkins=count,
        p=np.where(unusual, best, np.nan),
        mean_difference=np.where(unusual, mean, np.nan),
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

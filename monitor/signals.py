"""Signals: every flag condition of docs/analytics.md for every athlete (rows) and day (columns), from the
indicators of ``monitor.indicators``, with persistence, severity and the plain-language reason of each.

Alert fatigue is handled per signal by (1) thresholds calibrated so that steady simulated athletes almost never
cross them, (2) persistence (a condition must hold N consecutive days), (3) combination (an HRV drop must be
confirmed by the recent mornings, fewer when it is larger, resting HR by a CUSUM) and (4) honest noise: an
asymmetry level must clear its threshold by the standard error of the 7-day mean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monitor import reasons
from monitor.indicators import Indicators, heavy_tiers
from monitor.reasons import ASYMMETRY_METRICS
from monitor.thresholds import Thresholds
from monitor.wellness import SIDED_GROUPS, hooper_evidence

FAMILIES = ("load", "recovery", "asymmetry", "wellness")
SIGNALS = {
    "acwr_spike": "load",
    "monotony_high": "load",
    "strain_high": "load",
    "load_surge": "load",
    "hrv_suppressed": "recovery",
    "rhr_elevated": "recovery",
    "wellness_poor": "wellness",
    "asymmetry_gct": "asymmetry",
    "asymmetry_muscle": "asymmetry",
    "asymmetry_power": "asymmetry",
    "asymmetry_shift": "asymmetry",
    "asymmetry_soreness": "asymmetry",
}
ASYMMETRY_SIGNAL = {"gct": "asymmetry_gct", "muscle": "asymmetry_muscle", "pedal": "asymmetry_power"}


def run_length(cond: np.ndarray) -> np.ndarray:
    """Consecutive True days ending on each day (0 where False), along the last axis."""
    cond = np.asarray(cond, dtype=bool)
    idx = np.broadcast_to(np.arange(cond.shape[-1]), cond.shape)
    last_false = np.maximum.accumulate(np.where(cond, -1, idx), axis=-1)
    return idx - last_false


def held(raised: np.ndarray, holds: np.ndarray) -> np.ndarray:
    """True from a day ``raised`` (which implies ``holds``) for as long as ``holds`` stays True, along the last axis:
    a flag confirmed once stays up while its condition lasts, instead of flickering with the evidence."""
    holds = np.asarray(holds, dtype=bool)
    idx = np.broadcast_to(np.arange(holds.shape[-1]), holds.shape)
    last_raised = np.maximum.accumulate(np.where(np.asarray(raised, bool) & holds, idx, -1), axis=-1)
    return holds & (last_raised > idx - run_length(holds))


# --- signals --------------------------------------------------------------------------------------------------


@dataclass
class SignalSeries:
    """One signal for every athlete and day: the raw condition, the flag after persistence, its severity."""

    signal: str
    condition: np.ndarray  # the watch-level condition on the day (before persistence)
    flagged: np.ndarray  # condition held for the persistence period: the flag is raised
    act: np.ndarray  # flagged with "act" severity
    value: np.ndarray
    threshold_watch: np.ndarray
    threshold_act: np.ndarray
    window: Callable[[int, int], str]
    reason: reasons.Reason  # (athlete row, day index, act, since, days) → sentence

    @property
    def family(self) -> str:
        return SIGNALS[self.signal]


def _fixed(text: str) -> Callable[[int, int], str]:
    """A window description that is the same for every athlete and day."""
    return lambda i, t: text


def _series(
    signal: str,
    cond: npt.ArrayLike,
    act: npt.ArrayLike,
    value: np.ndarray,
    watch_th: float | np.ndarray,
    act_th: float | np.ndarray,
    persistence: int,
    window: str | Callable[[int, int], str],
    reason: reasons.Reason,
) -> SignalSeries:
    """A signal from its daily condition; the flag is raised once the condition held ``persistence`` days."""
    cond = np.asarray(cond, bool)
    flagged = run_length(cond) >= max(int(persistence), 1)
    shape = cond.shape
    return SignalSeries(
        signal=signal,
        condition=cond,
        flagged=flagged,
        act=flagged & np.asarray(act, bool),
        value=np.broadcast_to(value, shape),
        threshold_watch=np.broadcast_to(watch_th, shape),
        threshold_act=np.broadcast_to(act_th, shape),
        window=window if callable(window) else _fixed(window),
        reason=reason,
    )


def _ge(x: np.ndarray, th: float | np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & (x >= th)


def evaluate_signals(ind: Indicators, th: Thresholds) -> dict[str, SignalSeries]:
    """Every signal of docs/analytics.md for every athlete and day."""
    lt, rt, at = th.load, th.recovery, th.asymmetry
    out: dict[str, SignalSeries] = {}
    heavy_week = load_confirmed(ind, th)  # the ratios and bands describe; the athlete's own scale confirms
    out["acwr_spike"] = _series(
        "acwr_spike", _ge(ind.acwr, lt.acwr_watch) & heavy_week, _ge(ind.acwr, lt.acwr_act), ind.acwr,
        lt.acwr_watch, lt.acwr_act, lt.acwr_persistence_days, reasons.acwr_window(th), reasons.acwr(ind, th),
    )  # fmt: skip
    out["monotony_high"] = _series(
        "monotony_high", _ge(ind.monotony, lt.monotony_watch) & heavy_week, _ge(ind.monotony, lt.monotony_act),
        ind.monotony, lt.monotony_watch, lt.monotony_act, lt.monotony_persistence_days,
        f"{lt.monotony_days}d daily loads", reasons.monotony(ind, th),
    )  # fmt: skip
    with np.errstate(invalid="ignore"):
        ratio = ind.strain / ind.strain_baseline
    out["strain_high"] = _series(
        "strain_high", _ge(ratio, lt.strain_ratio_watch) & heavy_week, _ge(ratio, lt.strain_ratio_act), ind.strain,
        lt.strain_ratio_watch * ind.strain_baseline, lt.strain_ratio_act * ind.strain_baseline,
        lt.strain_persistence_days, f"{lt.monotony_days}d strain vs {lt.strain_baseline_days}d personal baseline",
        reasons.strain(ind, th),
    )  # fmt: skip
    tiers = heavy_tiers(th)
    lowest = np.stack([ind.lowest_load[days] for days, _ in tiers])
    needed = np.stack([ind.heavy_load[days] for days, _ in tiers])
    with np.errstate(invalid="ignore", divide="ignore"):  # the tier furthest past its bound speaks for the flag
        past = np.round(lowest / needed, 9)  # ≥ 1: every day at the bound (rounded as monitor.hr_load's zones)
        strongest = np.argmax(np.nan_to_num(past, nan=-1.0), axis=0)
    value = np.take_along_axis(lowest, strongest[None], 0)[0]
    bound = np.take_along_axis(needed, strongest[None], 0)[0]
    fired = _ge(np.take_along_axis(past, strongest[None], 0)[0], 1.0)
    out["load_surge"] = _series(
        "load_surge", fired, np.zeros_like(strongest, bool), value, bound, np.inf, 1,
        reasons.surge_window(tiers, strongest), reasons.surge(ind, th, tiers, strongest),
    )  # fmt: skip

    with np.errstate(invalid="ignore"):
        by_wellness = wellness_confirms(ind, th)
        confirmed = ind.hrv_evidence.score <= -rt.evidence_z  # magnitude-scaled: fewer mornings when further down
        confirmed |= ind.joint_evidence.score >= rt.joint_evidence_z
        confirmed |= by_wellness
        below_range = ind.hrv_ok & (ind.hrv_week.mean < ind.hrv_lower)
        below = held(below_range & confirmed, below_range)  # then stays up while the 7-day mean is below the range
        rhr_high = ind.rhr_ok & (ind.rhr_week.mean > ind.rhr_upper)
        rhr_confirmed = (ind.rhr_cusum > rt.rhr_cusum_h) | by_wellness
        big_drop = ind.hrv_week.mean < ind.hrv_base.mean - rt.act_sd * ind.hrv_base.sd
        # act: far stronger HRV evidence than the watch, or resting HR up and confirmed too (Buchheit 2014)
        big_drop &= (ind.hrv_evidence.score <= -rt.act_z) | (rhr_high & rhr_confirmed)
    out["hrv_suppressed"] = _series(
        "hrv_suppressed", below, big_drop, ind.hrv_week.mean, ind.hrv_lower,
        ind.hrv_base.mean - rt.act_sd * ind.hrv_base.sd, rt.hrv_persistence_days,
        f"{rt.window_days}d mean vs {rt.baseline_days}d normal range", reasons.hrv(ind, th, rhr_high, confirmed),
    )  # fmt: skip
    out["rhr_elevated"] = _series(
        "rhr_elevated", rhr_high & rhr_confirmed, np.zeros_like(below), ind.rhr_week.mean, ind.rhr_upper, np.inf,
        rt.rhr_persistence_days, f"{rt.window_days}d mean vs {rt.baseline_days}d normal range",
        reasons.rhr(ind, th),
    )  # fmt: skip

    for metric, series in ind.asymmetry.items():
        week = series.week
        si = np.where(week.n >= max(at.level_min_sessions, at.min_sessions_7d), week.mean, np.nan)
        sign = np.where(si < 0, -1.0, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):  # beyond the threshold by more than its noise
            beyond = np.abs(si) - at.level_margin_se * np.maximum(week.sd, at.sd_floor_pct) / np.sqrt(week.n)
        out[ASYMMETRY_SIGNAL[metric]] = _series(
            ASYMMETRY_SIGNAL[metric], _ge(beyond, at.watch_pct), _ge(beyond, at.act_pct), si,
            sign * at.watch_pct, sign * at.act_pct, at.persistence_days,
            f"{ASYMMETRY_METRICS[metric]} SI, mean of the sessions in {at.window_days}d",
            reasons.asymmetry_level(ind, th, metric),
        )  # fmt: skip
    if ind.asymmetry:
        metrics = list(ind.asymmetry)
        alarms = np.stack([ind.asymmetry[m].shift_alarm for m in metrics])
        by_cusum = np.stack([ind.asymmetry[m].cusum_alarm for m in metrics])  # else the jump fired
        stats = np.stack([np.maximum(ind.asymmetry[m].cusum_up, ind.asymmetry[m].cusum_down) for m in metrics])
        stats = np.where(by_cusum | ~alarms, stats, np.abs(np.stack([ind.asymmetry[m].jump_z for m in metrics])))
        bounds = np.where(by_cusum | ~alarms, at.cusum_h, at.jump_z)
        with np.errstate(invalid="ignore", divide="ignore"):  # the strongest alarm (× its bound) speaks for the flag
            which = np.argmax(np.where(alarms, stats / bounds, -1.0), axis=0)
        statistic = np.take_along_axis(stats, which[None], 0)[0]
        bound = np.take_along_axis(bounds, which[None], 0)[0]
        out["asymmetry_shift"] = _series(
            "asymmetry_shift", alarms.any(axis=0), np.zeros_like(which, bool), statistic, bound, np.inf, 1,
            reasons.shift_window(ind, th, metrics, which), reasons.shift(ind, th, metrics, which),
        )  # fmt: skip
    out.update(wellness_signals(ind, th))
    return out


def load_confirmed(ind: Indicators, th: Thresholds) -> np.ndarray:
    """The week is heavy on the athlete's own scale: the last ``acute_days`` held at least ``heavy_week_units``
    typical training days (each day counted at most ``typical_day_cap``), with enough known days."""
    return _ge(np.round(ind.load_units_7d, 9), th.load.heavy_week_units)


# --- wellness: a family of its own or confirmation of the recovery flags (thresholds [wellness] use) -----------


def wellness_confirms(ind: Indicators, th: Thresholds) -> np.ndarray:
    """(A, D) or False: with ``use = "confirmation"``, a worse Hooper index (above its range, CUSUM above
    ``confirm_cusum_h`` or the last check-ins at ``jump_z``) confirms an HRV or resting-HR change."""
    if ind.hooper is None or th.wellness.use != "confirmation":
        return np.zeros(ind.inputs.load.shape, bool)
    return hooper_evidence(ind.hooper, th.wellness.confirm_cusum_h, th.wellness.jump_z)


def wellness_signals(ind: Indicators, th: Thresholds) -> dict[str, SignalSeries]:
    """``wellness_poor`` (with ``use = "family"``) and ``asymmetry_soreness``; never raised without check-ins."""
    wt = th.wellness
    shape = ind.inputs.load.shape
    none = np.zeros(shape, bool)
    nan = np.full(shape, np.nan)
    h = ind.hooper
    poor = hooper_evidence(h, wt.cusum_h, wt.jump_z) if h is not None and wt.use == "family" else none
    out: dict[str, SignalSeries] = {}
    out["wellness_poor"] = _series(
        "wellness_poor", poor, none, h.week.mean if h is not None else nan, h.upper if h is not None else nan,
        np.inf, wt.persistence_days, f"{wt.window_days}d mean Hooper index vs {wt.baseline_days}d normal range",
        reasons.wellness(ind, th),
    )  # fmt: skip
    s = ind.soreness
    value = s.mean_difference if s is not None else nan
    out["asymmetry_soreness"] = _series(
        "asymmetry_soreness", s.unusual if s is not None else none, none, value,
        s.side * wt.soreness_diff_points if s is not None else nan, np.inf, 1,
        reasons.soreness_window(th), reasons.soreness(ind, th),
    )  # fmt: skip
    return out


def soreness_group(ind: Indicators, row: int, t: int) -> tuple[str, str] | None:
    """(region group, sorer side `l`/`r`) of the unusual one-sided soreness on that day, None when there is none."""
    s = ind.soreness
    if s is None or not s.unusual[row, t]:
        return None
    return SIDED_GROUPS[int(s.group[row, t])], "l" if s.side[row, t] > 0 else "r"

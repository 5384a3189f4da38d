"""The flag engine: daily indicators of many athletes → signals → explainable flags → the IDN recommendation.

Everything is computed for every athlete (rows) and day (columns) at once, so a whole history can be replayed to
measure how early and how often the rules fire (tests/test_cohorts.py); ``flags_on`` then turns one day's column
into ``monitor.flags.Flag`` objects with plain-language reasons. Rules, defaults and their rationale:
docs/analytics.md. Thresholds come from ``monitor.thresholds`` (TOML).

Alert fatigue is handled per signal by (1) thresholds calibrated so that steady simulated athletes almost never
cross them, (2) persistence (a condition must hold N consecutive days), (3) combination (an HRV drop must be
confirmed by the recent mornings, fewer when it is larger, resting HR by a CUSUM) and (4) honest noise: values are
standardised against a personal baseline as normal scores that account for the baseline's size (``predictive_z``),
and an asymmetry level must clear its threshold by the standard error of the 7-day mean. The IDN recommendation is
itself a combination: any ``act`` flag, or ``watch`` flags from two families within 7 days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from monitor import load as ld
from monitor import reasons
from monitor.asymmetry import AsymmetrySeries, asymmetry_series, cusum
from monitor.evidence import (
    WindowEvidence,
    deviations,
    joint_score,
    paired_correlation,
    predictive_z,
    window_evidence,
)
from monitor.flags import Flag
from monitor.reasons import ASYMMETRY_METRICS
from monitor.rolling import RollingStats, rolling_stats, rolling_sum
from monitor.thresholds import Thresholds
from monitor.wellness import (
    SIDED_GROUPS,
    HooperSeries,
    SorenessAsymmetry,
    WellnessInputs,
    hooper_evidence,
    wellness_indicators,
)

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


@dataclass(frozen=True)
class DailyInputs:
    """Per-athlete daily inputs on one consecutive day grid (arrays ``(athletes, days)``)."""

    athletes: list[str]
    days: np.ndarray  # (D,) datetime64[D]
    load: np.ndarray  # daily load, AU (0 on rest days)
    load_start: np.ndarray  # (A,) index of the first day with training data; D = none
    ln_rmssd: np.ndarray  # morning ln rMSSD, NaN = no valid reading
    rhr_bpm: np.ndarray  # morning resting HR, NaN = none
    asymmetry: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # metric → per-day (Σ SI, Σ SI², sessions)
    load_source: list[str | None] = field(default_factory=list)  # per athlete: "srpe", "trimp" or None
    load_known: np.ndarray | None = None  # (A, D) the day's load is known (None: every day from load_start)
    wellness: WellnessInputs | None = None  # morning check-ins (monitor.wellness), None = not read
    pod_muscle: list[str | None] = field(default_factory=list)  # per athlete: the muscle-load pods' muscle, if known


def daily_inputs(
    athletes: list[str],
    first_day: dt.date | np.datetime64,
    session_load: np.ndarray,
    ln_rmssd: np.ndarray,
    rhr_bpm: np.ndarray,
    symmetry_index_pct: dict[str, np.ndarray],
    load_source: str | None = "srpe",
    load_known: np.ndarray | None = None,
    wellness: WellnessInputs | None = None,
) -> DailyInputs:
    """Inputs from per-day arrays ``(athletes, days)`` with at most one session per day (NaN = none), e.g. a
    simulated history: load NaN → rest day; a row's data starts on its first session. ``load_known`` (bool, same
    shape) marks the days whose load is known; default: every day."""
    load = np.asarray(session_load, dtype=float)
    has = np.isfinite(load)
    first = np.argmax(has, axis=1) if load.shape[1] else np.zeros(load.shape[0], np.int64)
    start = np.where(has.any(axis=1), first, load.shape[1])
    asym = {}
    for metric, si in symmetry_index_pct.items():
        si = np.asarray(si, dtype=float)
        ok = np.isfinite(si)
        asym[metric] = (np.where(ok, si, 0.0), np.where(ok, si * si, 0.0), ok.astype(np.int64))
    return DailyInputs(
        athletes=list(athletes),
        days=_day(first_day) + np.arange(load.shape[1]),
        load=np.where(has, load, 0.0),
        load_start=start,
        ln_rmssd=np.asarray(ln_rmssd, dtype=float),
        rhr_bpm=np.asarray(rhr_bpm, dtype=float),
        asymmetry=asym,
        load_source=[load_source] * len(athletes),
        load_known=None if load_known is None else np.asarray(load_known, dtype=bool),
        wellness=wellness,
    )


def _day(day: dt.date | np.datetime64) -> np.datetime64:
    """The day (``datetime64[D]``) of a date or a datetime64."""
    return day.astype("datetime64[D]") if isinstance(day, np.datetime64) else np.datetime64(day, "D")


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


@dataclass
class Indicators:
    """Every daily indicator of every athlete; NaN = insufficient data."""

    inputs: DailyInputs
    load_days: np.ndarray  # days of training data up to each day
    load_known_7d: np.ndarray  # days with a known load among the last acute_days (0 before the data starts)
    load_known_28d: np.ndarray  # ... among the last chronic_days
    load_7d: np.ndarray
    acwr: np.ndarray  # the variant selected by the thresholds
    acwr_coupled: np.ndarray
    acwr_uncoupled: np.ndarray
    monotony: np.ndarray
    strain: np.ndarray
    strain_baseline: np.ndarray  # mean daily strain over the baseline window before the week
    training: ld.TrainingDays  # the athlete's own training days before the week (typical day, spread, how often)
    typical_load: np.ndarray  # the typical training day, AU, NaN below min_typical_training_days
    heavy_load: dict[int, np.ndarray]  # tier days → the load each of them needs (factor × typical_load), AU
    lowest_load: dict[int, np.ndarray]  # tier days → the lowest load of the last that many days, AU
    load_units_7d: np.ndarray  # load of the last acute_days in typical training days, each day capped
    ctl: np.ndarray
    atl: np.ndarray
    tsb: np.ndarray
    ramp_rate: np.ndarray
    hrv_week: RollingStats
    hrv_base: RollingStats
    hrv_ok: np.ndarray
    hrv_lower: np.ndarray
    hrv_noise: RollingStats  # ln rMSSD of the noise_days before the week: the day-to-day SD the evidence uses
    hrv_evidence: WindowEvidence  # the strongest drop of the mean ln rMSSD of the last 1..window_days days
    hrv_rhr_correlation: np.ndarray  # of the mornings of the noise window (both measured), used by the joint score
    joint_evidence: WindowEvidence  # the same for the joint HRV-down/HR-up score (positive = HRV down, HR up)
    ln_rmssd_cv_7d: np.ndarray  # %
    rhr_week: RollingStats
    rhr_base: RollingStats
    rhr_ok: np.ndarray
    rhr_upper: np.ndarray
    rhr_cusum: np.ndarray  # one-sided CUSUM of rising resting HR
    asymmetry: dict[str, AsymmetrySeries]
    hooper: HooperSeries | None = None  # the Hooper index against its baseline (check-ins read)
    soreness: SorenessAsymmetry | None = None  # left/right soreness of the body map


def compute_indicators(inputs: DailyInputs, th: Thresholds) -> Indicators:
    """Load, recovery and asymmetry indicators for every athlete and day of ``inputs``."""
    lt, rt, at = th.load, th.recovery, th.asymmetry
    start = np.asarray(inputs.load_start)
    history = ld.days_of_history(inputs.load.shape[1], start)
    known = history > 0
    if inputs.load_known is not None:
        known &= np.asarray(inputs.load_known, dtype=bool)
    raw = np.where(known, np.asarray(inputs.load, float), 0.0)
    x = ld.fill_unknown(raw, known, lt.chronic_days)  # unknown days at the athlete's usual load, never as rest
    known_7d = rolling_sum(known.astype(float), lt.acute_days)
    known_28d = rolling_sum(known.astype(float), lt.chronic_days)
    # at most (window − minimum) unknown days in each window since the data began
    lost_7d = np.clip(history, 0, lt.acute_days) - known_7d
    lost_28d = np.clip(history, 0, lt.chronic_days) - known_28d
    enough_28d = lost_28d <= lt.chronic_days - lt.min_known_days_28d
    enough = (lost_7d <= lt.acute_days - lt.min_known_days_7d) & enough_28d

    def gate(ok: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(ok, values, np.nan)

    acwr = {
        "ewma": gate(enough, ld.acwr_ewma(x, lt.acute_days, lt.chronic_days, start)),
        "coupled": gate(enough, ld.acwr_rolling(x, lt.acute_days, lt.chronic_days, coupled=True, start=start)),
        "uncoupled": gate(enough, ld.acwr_rolling(x, lt.acute_days, lt.chronic_days, coupled=False, start=start)),
    }
    week_ok = lost_7d <= lt.acute_days - lt.min_known_days_7d  # Foster's mean and SD over the known days
    mono = gate(week_ok, ld.monotony(raw, lt.monotony_days, start, known))
    strain = gate(week_ok, ld.strain(raw, lt.monotony_days, start, known))
    finite = np.isfinite(strain)
    base_n = rolling_sum(finite.astype(float), lt.strain_baseline_days, lag=lt.monotony_days)
    base_sum = rolling_sum(np.nan_to_num(strain), lt.strain_baseline_days, lag=lt.monotony_days)
    base_needed = lt.strain_baseline_days // 2  # half of the baseline days with a strain (known weeks)
    with np.errstate(invalid="ignore", divide="ignore"):
        strain_base = np.where(base_n >= base_needed, base_sum / base_n, np.nan)
    training = ld.training_days(raw, known, lt.typical_days, lag=lt.acute_days)
    typical = np.where(training.training_days >= lt.min_typical_training_days, training.typical_au, np.nan)
    tiers = heavy_tiers(th)
    heavy = {
        days: training.heavy_factor(factor, lt.heavy_sds, lt.heavy_log_sd_floor) * typical for days, factor in tiers
    }
    lowest = {days: ld.lowest_load(raw, known, days, lt.heavy_slack_days) for days, _ in tiers}
    units_7d = gate(enough, ld.load_in_typical_days(raw, known, typical, lt.acute_days, lt.typical_day_cap))
    p = ld.pmc(x, lt.ctl_days, lt.atl_days)
    pmc_ok = (history >= lt.pmc_min_days) & enough_28d  # CTL is a 42-day average: the 28-day count suffices

    hrv_week = rolling_stats(inputs.ln_rmssd, rt.window_days)
    hrv_base = rolling_stats(inputs.ln_rmssd, rt.baseline_days, lag=rt.window_days)
    hrv_ok = (hrv_week.n >= rt.min_readings_7d) & (hrv_base.n >= rt.min_baseline_days)
    rhr_week = rolling_stats(inputs.rhr_bpm, rt.window_days)
    rhr_base = rolling_stats(inputs.rhr_bpm, rt.baseline_days, lag=rt.window_days)
    rhr_ok = (rhr_week.n >= rt.min_readings_7d) & (rhr_base.n >= rt.min_baseline_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        rhr_upper = rhr_base.mean + np.maximum(rt.range_sd, rt.rhr_margin_se / np.sqrt(rhr_week.n)) * rhr_base.sd
        cv = np.where(hrv_week.n >= rt.min_readings_7d, 100.0 * hrv_week.sd / hrv_week.mean, np.nan)
        hrv_flag_ok = hrv_ok & (hrv_base.n >= rt.flag_min_baseline_days)
        rhr_flag_ok = rhr_ok & (rhr_base.n >= rt.flag_min_baseline_days)
        z_rhr = np.where(rhr_flag_ok, predictive_z(inputs.rhr_bpm, rhr_base.mean, rhr_base.sd, rhr_base.n), np.nan)
    # the drop in ln rMSSD of the last 1..7 days against the 60-day mean, in the SD of the longer noise window ...
    hrv_noise = rolling_stats(inputs.ln_rmssd, rt.noise_days, lag=rt.window_days)
    rhr_noise = rolling_stats(inputs.rhr_bpm, rt.noise_days, lag=rt.window_days)
    hrv_dev = deviations(inputs.ln_rmssd, hrv_base.mean, hrv_noise.sd)
    hrv_evidence = window_evidence(
        hrv_dev, hrv_base.n, hrv_noise.n, rt.window_days, rt.evidence_min_mornings, direction=-1.0,
        valid=hrv_flag_ok, cap_sd=rt.evidence_cap_sd,
    )  # fmt: skip
    # ... and HRV down with resting HR up, each in its own day-to-day SD, whitened by their correlation
    corr, _ = paired_correlation(inputs.ln_rmssd, inputs.rhr_bpm, rt.noise_days, lag=rt.window_days)
    rhr_dev = deviations(inputs.rhr_bpm, rhr_base.mean, rhr_noise.sd)
    joint_evidence = window_evidence(
        lambda lag: joint_score(rhr_dev(lag), hrv_dev(lag), corr), np.minimum(hrv_base.n, rhr_base.n),
        np.minimum(hrv_noise.n, rhr_noise.n), rt.window_days, rt.evidence_min_mornings, direction=1.0,
        valid=hrv_flag_ok & rhr_flag_ok, cap_sd=rt.evidence_cap_sd,
    )  # fmt: skip
    rhr_cusum, _ = cusum(z_rhr, rt.rhr_cusum_k, rt.rhr_cusum_h, valid=rhr_flag_ok)
    asym = {
        metric: asymmetry_series(
            *inputs.asymmetry[metric],
            window_days=at.window_days,
            baseline_days=at.baseline_days,
            min_sessions_week=at.min_sessions_7d,
            min_sessions_baseline=at.min_baseline_sessions,
            cusum_k=at.cusum_k,
            cusum_h=at.cusum_h,
            sd_floor_pct=at.sd_floor_pct,
            jump_sessions=at.jump_sessions,
            jump_z=at.jump_z,
        )
        for metric in ASYMMETRY_METRICS
        if metric in inputs.asymmetry
    }
    hooper, soreness = wellness_indicators(inputs.wellness, th.wellness) if inputs.wellness else (None, None)
    return Indicators(
        inputs=inputs,
        load_days=history,
        load_known_7d=np.rint(known_7d).astype(np.int64),
        load_known_28d=np.rint(known_28d).astype(np.int64),
        load_7d=np.where((history >= lt.acute_days) & enough, rolling_sum(x, lt.acute_days), np.nan),
        acwr=acwr[lt.acwr_variant],
        acwr_coupled=acwr["coupled"],
        acwr_uncoupled=acwr["uncoupled"],
        monotony=mono,
        strain=strain,
        strain_baseline=np.where(strain_base > 0, strain_base, np.nan),
        training=training,
        typical_load=typical,
        heavy_load=heavy,
        lowest_load=lowest,
        load_units_7d=units_7d,
        ctl=np.where(pmc_ok, p.ctl, np.nan),
        atl=np.where((history >= lt.atl_days) & enough, p.atl, np.nan),
        tsb=np.where(pmc_ok, p.tsb, np.nan),
        ramp_rate=np.where(pmc_ok, p.ramp_rate, np.nan),
        hrv_week=hrv_week,
        hrv_base=hrv_base,
        hrv_ok=hrv_ok,
        hrv_lower=hrv_base.mean - rt.range_sd * hrv_base.sd,
        hrv_noise=hrv_noise,
        hrv_evidence=hrv_evidence,
        hrv_rhr_correlation=corr,
        joint_evidence=joint_evidence,
        ln_rmssd_cv_7d=cv,
        rhr_week=rhr_week,
        rhr_base=rhr_base,
        rhr_ok=rhr_ok,
        rhr_upper=rhr_upper,
        rhr_cusum=rhr_cusum,
        asymmetry=asym,
        hooper=hooper,
        soreness=soreness,
    )


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
        reasons.surge_window(th, tiers, strongest), reasons.surge(ind, th, tiers, strongest),
    )  # fmt: skip

    with np.errstate(invalid="ignore"):
        confirmed = ind.hrv_evidence.score <= -rt.evidence_z  # magnitude-scaled: fewer mornings when further down
        confirmed |= ind.joint_evidence.score >= rt.joint_evidence_z
        confirmed |= wellness_confirms(ind, th)
        below_range = ind.hrv_ok & (ind.hrv_week.mean < ind.hrv_lower)
        below = held(below_range & confirmed, below_range)  # then stays up while the 7-day mean is below the range
        rhr_high = ind.rhr_ok & (ind.rhr_week.mean > ind.rhr_upper)
        rhr_confirmed = (ind.rhr_cusum > rt.rhr_cusum_h) | wellness_confirms(ind, th)
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


def heavy_tiers(th: Thresholds) -> list[tuple[int, float]]:
    """The ``load_surge`` tiers as (days, factor): every one of the last ``days`` days held at least ``factor`` ×
    the athlete's typical training day. Heavier days need fewer of them (magnitude-scaled persistence)."""
    lt = th.load
    return [
        (lt.heavy_short_days, lt.heavy_short_factor),
        (lt.heavy_days, lt.heavy_factor),
        (lt.heavy_long_days, lt.heavy_long_factor),
    ]


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
        reasons.soreness_window(ind, th), reasons.soreness(ind, th),
    )  # fmt: skip
    return out


def soreness_group(ind: Indicators, row: int, t: int) -> tuple[str, str] | None:
    """(region group, sorer side `l`/`r`) of the unusual one-sided soreness on that day, None when there is none."""
    s = ind.soreness
    if s is None or not s.unusual[row, t]:
        return None
    return SIDED_GROUPS[int(s.group[row, t])], "l" if s.side[row, t] > 0 else "r"


# --- flags and the IDN recommendation -------------------------------------------------------------------------


def _date(day: np.datetime64) -> dt.date:
    return _day(day).astype(dt.date)


def flags_on(signals: dict[str, SignalSeries], ind: Indicators, row: int, t: int) -> list[Flag]:
    """The flags raised for athlete ``row`` on day index ``t``, in the order of ``SIGNALS``."""
    flags = []
    for name in SIGNALS:
        s = signals.get(name)
        if s is None or not s.flagged[row, t]:
            continue
        act = bool(s.act[row, t])
        run = int(run_length(s.condition[row, : t + 1])[-1])
        since = _date(ind.inputs.days[t - run + 1])
        flags.append(
            Flag(
                athlete=ind.inputs.athletes[row],
                signal=name,
                family=s.family,
                severity="act" if act else "watch",
                value=float(s.value[row, t]),
                threshold=float((s.threshold_act if act else s.threshold_watch)[row, t]),
                window=s.window(row, t),
                since=since,
                reason=s.reason(row, t, act, since, run),
            )
        )
    return flags


def idn_series(signals: dict[str, SignalSeries], th: Thresholds) -> np.ndarray:
    """``recommend_idn_visit`` for every athlete and day: any ``act`` flag that day, or flags (any severity)
    from at least ``min_watch_families`` families within the last ``watch_window_days`` days."""
    any_act = np.any([s.act for s in signals.values()], axis=0)
    families = []
    for family in FAMILIES:
        members = [s.flagged for s in signals.values() if s.family == family]
        if members:
            recent = rolling_sum(np.any(members, axis=0).astype(float), th.idn.watch_window_days) > 0
            families.append(recent)
    n_families = np.sum(families, axis=0) if families else np.zeros_like(any_act, int)
    return any_act | (n_families >= th.idn.min_watch_families)


def idn_reasons(
    signals: dict[str, SignalSeries],
    ind: Indicators,
    th: Thresholds,
    row: int,
    t: int,
    flags: list[Flag] | None = None,
) -> list[str]:
    """Why the IDN rule fired (empty when it did not): the act flags, else the recent flags of each family.
    ``flags`` are that day's flags when the caller has them already (``flags_on``)."""
    flags = flags_on(signals, ind, row, t) if flags is None else flags
    acts = [f for f in flags if f.severity == "act"]
    if acts:
        return [f"act: {f.signal} — {f.reason}" for f in acts]
    lo = max(0, t - th.idn.watch_window_days + 1)
    recent: dict[str, list[str]] = {}
    for name, s in signals.items():
        days = np.flatnonzero(s.flagged[row, lo : t + 1])
        if days.size:
            last = lo + int(days[-1])
            recent.setdefault(s.family, []).append(f"{name} (last {_date(ind.inputs.days[last]).isoformat()})")
    if len(recent) < th.idn.min_watch_families:
        return []
    return [f"watch ({family}): " + ", ".join(items) for family, items in recent.items()]

"""Daily indicators of many athletes at once: the inputs on one day grid → load, HRV, resting HR, asymmetry and
wellness indicators (arrays ``(athletes, days)``), as the signals of ``monitor.signals`` read them.

Values are standardised against personal baselines as normal scores that account for the baseline's size
(``predictive_z``); NaN means insufficient data. Rules, defaults and their rationale: docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from monitor import load as ld
from monitor.asymmetry import AsymmetrySeries, asymmetry_series, cusum
from monitor.evidence import (
    WindowEvidence,
    deviations,
    joint_score,
    paired_correlation,
    predictive_z,
    window_evidence,
)
from monitor.reasons import ASYMMETRY_METRICS
from monitor.rolling import RollingStats, rolling_stats, rolling_sum
from monitor.thresholds import Thresholds
from monitor.wellness import HooperSeries, SorenessAsymmetry, WellnessInputs, wellness_indicators


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
        days=day_of(first_day) + np.arange(load.shape[1]),
        load=np.where(has, load, 0.0),
        load_start=start,
        ln_rmssd=np.asarray(ln_rmssd, dtype=float),
        rhr_bpm=np.asarray(rhr_bpm, dtype=float),
        asymmetry=asym,
        load_source=[load_source] * len(athletes),
        load_known=None if load_known is None else np.asarray(load_known, dtype=bool),
        wellness=wellness,
    )


def day_of(day: dt.date | np.datetime64) -> np.datetime64:
    """The day (``datetime64[D]``) of a date or a datetime64."""
    return day.astype("datetime64[D]") if isinstance(day, np.datetime64) else np.datetime64(day, "D")


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
    week_ok = lost_7d <= lt.acute_days - lt.min_known_days_7d  # Foster's mean and SD over the known days
    enough = week_ok & enough_28d

    def gate(ok: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(ok, values, np.nan)

    acwr = {
        "ewma": gate(enough, ld.acwr_ewma(x, lt.acute_days, lt.chronic_days, start)),
        "coupled": gate(enough, ld.acwr_rolling(x, lt.acute_days, lt.chronic_days, coupled=True, start=start)),
        "uncoupled": gate(enough, ld.acwr_rolling(x, lt.acute_days, lt.chronic_days, coupled=False, start=start)),
    }
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


def heavy_tiers(th: Thresholds) -> list[tuple[int, float]]:
    """The ``load_surge`` tiers as (days, factor): every one of the last ``days`` days held at least ``factor`` ×
    the athlete's typical training day. Heavier days need fewer of them (magnitude-scaled persistence)."""
    lt = th.load
    return [
        (lt.heavy_short_days, lt.heavy_short_factor),
        (lt.heavy_days, lt.heavy_factor),
        (lt.heavy_long_days, lt.heavy_long_factor),
    ]

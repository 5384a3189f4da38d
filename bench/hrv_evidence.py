"""What the mornings allow: the HRV evidence of ``hrv_suppressed`` against a bound and against alternatives, on the
cohorts with the noise fitted to real athletes (docs/analytics.md §5, "What the mornings allow").

1. **Bound.** An oracle that knows every athlete's mean, day-to-day SD and lag-1 autocorrelation (AR(1), the fitted
   0.14) exactly, so nothing is estimated from a baseline, flags when the mean of the mornings of the last 1–7 days
   is ``c`` or more of its own SDs below the mean. ``c`` is set so that 5 … 50 of 10,000 steady athletes are ever
   flagged over 145 evaluable days (the steady cohort's, with the fitted missed mornings); then the share of −3 SD
   drops it flags within 3 days (with ≥ 3 mornings in them), and of −5 SD drops by their 2nd morning. Kinder
   still: the onset known, one test of the mornings of days 0–3 (the 4-day window, its ``c`` set the same way).
2. **Alternatives**, on the same cohorts and seeds as ``tests/test_cohorts.py`` and the engine's own baseline
   windows (``monitor.indicators.compute_indicators``): the day-to-day carry-over in the variance of a window's mean
   (``Var = Σᵢⱼ φ^|i−j|`` over its mornings; the same as prewhitening by AR(1) for a step change), with the athlete's
   own φ from the noise window (≥ 0) or the fitted 0.14; and the joint HRV-down/HR-up score
   ``(z_HR − z_lnRMSSD)/√(2(1 − ρ))`` (ρ the athlete's own correlation, ≤ 0), alone or with the HRV evidence.
   The shipped defaults (HRV evidence 5.0 or joint score 5.5) are recomputed here as a check (the joint windows
   here use today's baselines for every morning, the engine each morning's own: a hair's difference).
   ``--legacy-noise``: the same on the made-up noise the rules were first tuned on.
3. **Real mornings**: the shipped rule on the real people's morning records that ``bench/noise_fit.py`` fits the
   noise to (days with a flag-ready baseline, flag days, the strongest window evidence).

    python bench/hrv_evidence.py [--athletes 1000] [--steady-seeds 10]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ingest.virtual.training_history import (
    FITTED_NOISE,
    LEGACY_NOISE,
    NoiseModel,
    correlated_mornings,
    simulate_training_history,
)
from monitor.evidence import deviations, joint_score, predictive_z
from monitor.indicators import compute_indicators, daily_inputs
from monitor.rolling import rolling_sum
from monitor.signals import evaluate_signals
from monitor.thresholds import load_thresholds

STEADY_DAYS, EVENT_DAYS, ONSET = 183, 150, 120  # as tests/test_cohorts.py
EVALUABLE_DAYS = 145  # a steady athlete's days with a flag-ready baseline (28 mornings) in 183
STEADY_SEED, DROP_SEED, LARGE_SEED = 2026, 2028, 2046  # tests/test_cohorts.py: steady, hrv_drop, hrv_drop_large
PER_10000 = (5, 10, 20, 30, 50)


# --- 1. the bound ------------------------------------------------------------------------------------------------


def oracle_mornings(rng: np.random.Generator, n: int, days: int, onset: int | None, drop_sd: float) -> np.ndarray:
    """Standardised AR(1) mornings (known mean 0, SD 1) with the fitted missed mornings, ``drop_sd`` down from
    ``onset``."""
    z, _ = correlated_mornings(rng, (n, days), FITTED_NOISE)
    missed = FITTED_NOISE.draw("missed_morning_rate", rng, n)
    if onset is not None:
        z[:, onset:] -= drop_sd
    return np.where(rng.random((n, days)) >= missed[:, None], z, np.nan)


def window_sums(x: np.ndarray, phi: np.ndarray | float, max_days: int = 7) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per window of the last 1 … max_days days: (sum of the readings, its variance in SD² under AR(1) ``phi``)."""
    shape = x.shape
    phi = np.broadcast_to(np.asarray(phi, dtype=float), shape)
    total, var, seen, out = np.zeros(shape), np.zeros(shape), [], []
    for lag in range(max_days):
        earlier = np.full(shape, np.nan)
        earlier[..., lag:] = x[..., : shape[-1] - lag]
        has = np.isfinite(earlier)
        total = total + np.where(has, earlier, 0.0)
        var = var + has + sum(2.0 * (has & s) * phi ** (lag - i) for i, s in enumerate(seen))
        seen.append(has)
        out.append((total, var))
    return out


def oracle_scan(x: np.ndarray, phi: float, max_days: int = 7) -> np.ndarray:
    """Lowest normal score of the window means (known mean and SD): the oracle's evidence, per day."""
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = [np.where(v > 0, s / np.sqrt(v), np.inf) for s, v in window_sums(x, phi, max_days)]
    return np.min(scores, axis=0)


def bound(rng: np.random.Generator, n: int) -> list[dict]:
    phi = FITTED_NOISE.ln_rmssd_lag1
    warm = 7  # the first days have short windows
    steady = oracle_scan(oracle_mornings(rng, n, EVALUABLE_DAYS + warm, None, 0.0), phi)[:, warm:].min(axis=1)
    drop = oracle_mornings(rng, n, 30, 10, 3.0)
    seen = np.isfinite(drop[:, 10:14]).sum(axis=1) >= 3
    drop_scan = oracle_scan(drop, phi)[:, 10:14]
    large = oracle_mornings(rng, n, 30, 10, 5.0)
    large_scan = oracle_scan(large, phi)[:, 10:]
    second = np.argmax(np.cumsum(np.isfinite(large[:, 10:]), axis=1) >= 2, axis=1)  # day of the 2nd morning
    by_second = np.arange(large_scan.shape[1]) <= second[:, None]
    four = window_sums(oracle_mornings(rng, n, EVALUABLE_DAYS + warm, None, 0.0), phi, 4)[3]
    with np.errstate(invalid="ignore", divide="ignore"):
        steady4 = np.where(four[1] > 0, four[0] / np.sqrt(four[1]), np.inf)[:, warm:].min(axis=1)
    s4, v4 = window_sums(drop, phi, 4)[3]
    with np.errstate(invalid="ignore", divide="ignore"):  # the window of days 10–13: the onset and 3 days after
        known_onset = np.where(v4[:, 13] > 0, s4[:, 13] / np.sqrt(v4[:, 13]), np.inf)
    rows = []
    for per in PER_10000:
        c = -float(np.quantile(steady, per / 10000))
        c4 = -float(np.quantile(steady4, per / 10000))
        hit = (drop_scan <= -c).any(axis=1)
        rows.append(
            {
                "steady_per_10000": per,
                "c": round(c, 2),
                "drop_within_3_days": round(float(hit.mean()), 3),
                "drop_within_3_days_with_data": round(float(hit[seen].mean()), 3),
                "large_by_2nd_morning": round(float(((large_scan <= -c) & by_second).any(axis=1).mean()), 3),
                "known_onset_c": round(c4, 2),
                "known_onset_within_3_days_with_data": round(float((known_onset[seen] <= -c4).mean()), 3),
            }
        )
    return rows


# --- 2. alternatives on the engine's baselines ---------------------------------------------------------------------


def scan(ind, x, mean, sd, phi=0.0, sign=-1.0, min_readings=2):
    """The strongest window score in direction ``sign`` (as monitor.evidence.window_evidence, no cap), with AR(1)
    ``phi`` in the window variance (readings counted as n²/Var)."""
    th = load_thresholds().recovery
    noise_n, mean_n = ind.hrv_noise.n, ind.hrv_base.n
    best = np.full(x.shape, np.nan)
    for k, (total, var) in enumerate(window_sums(x, phi, th.window_days)):
        count = rolling_sum(np.isfinite(x).astype(float), k + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = predictive_z(total / count, mean, sd, mean_n, readings=count * count / var, sd_n=noise_n)
            z = np.where(count >= min_readings, z, np.nan)
        best = np.where(np.isfinite(z) & ~(sign * best >= sign * z), z, best)
    return best


def evidence(ln: np.ndarray, hr: np.ndarray) -> dict[str, np.ndarray]:
    """Every variant's daily score and the gate they share (7-day mean below the range, flag-ready baseline)."""
    th = load_thresholds()
    rt = th.recovery
    n, d = ln.shape
    inputs = daily_inputs([f"A{i}" for i in range(n)], "2025-01-06", np.full((n, d), np.nan), ln, hr, {})
    ind = compute_indicators(inputs, th)
    ready = (ind.hrv_base.n >= rt.flag_min_baseline_days) & ind.hrv_ok
    hr_ready = (ind.rhr_base.n >= rt.flag_min_baseline_days) & ind.rhr_ok
    with np.errstate(invalid="ignore"):
        gate = ready & (ind.hrv_week.mean < ind.hrv_lower)
    own_phi = np.clip(np.nan_to_num(correlation(ln, lagged(ln), rt.noise_days, rt.window_days)), 0.0, 0.6)
    rho = np.minimum(np.nan_to_num(correlation(ln, hr, rt.noise_days, rt.window_days)), 0.0)
    mean, sd = ind.hrv_base.mean, ind.hrv_noise.sd
    return {
        "gate": gate,
        "hrv": scan(ind, ln, mean, sd),
        "AR(1): own φ": scan(ind, ln, mean, sd, own_phi),
        "AR(1): fitted φ = 0.14": scan(ind, ln, mean, sd, FITTED_NOISE.ln_rmssd_lag1),
        "joint": np.where(ready & hr_ready, joint(ind, ln, hr, rho), np.nan),
    }


def lagged(x: np.ndarray) -> np.ndarray:
    """``x`` of the day before (NaN on the first day)."""
    return np.concatenate([np.full((*x.shape[:-1], 1), np.nan), x[..., :-1]], axis=-1)


def correlation(x: np.ndarray, y: np.ndarray, window: int, lag: int) -> np.ndarray:
    """Pearson correlation over the days of ``[t − lag − window + 1, t − lag]`` with both values (NaN below 3)."""
    both = np.isfinite(x) & np.isfinite(y)
    a, b = np.where(both, x - np.nanmean(x), 0.0), np.where(both, y - np.nanmean(y), 0.0)
    n, sa, sb, saa, sbb, sab = (rolling_sum(v, window, lag) for v in (both.astype(float), a, b, a * a, b * b, a * b))
    with np.errstate(invalid="ignore", divide="ignore"):
        cov, va, vb = sab - sa * sb / n, saa - sa * sa / n, sbb - sb * sb / n
        return np.where((n >= 3) & (va > 0) & (vb > 0), cov / np.sqrt(va * vb), np.nan)


def joint(ind, ln, hr, rho):
    """The strongest window of the joint score (positive = HRV down and HR up), baselines of the engine."""
    from monitor.rolling import rolling_stats

    rt = load_thresholds().recovery
    hr_noise = rolling_stats(hr, rt.noise_days, lag=rt.window_days)
    shape = ln.shape
    hr_dev, ln_dev = deviations(hr, ind.rhr_base.mean, hr_noise.sd), deviations(ln, ind.hrv_base.mean, ind.hrv_noise.sd)
    total, count, best = np.zeros(shape), np.zeros(shape), np.full(shape, np.nan)
    for lag in range(rt.window_days):
        with np.errstate(invalid="ignore", divide="ignore"):
            w = joint_score(hr_dev(lag), ln_dev(lag), rho)
            has = np.isfinite(w)
            total, count = total + np.where(has, w, 0.0), count + has
            z = predictive_z(total / count, 0.0, 1.0, np.minimum(ind.hrv_base.n, ind.rhr_base.n), readings=count,
                             sd_n=np.minimum(ind.hrv_noise.n, hr_noise.n))  # fmt: skip
            z = np.where(count >= 2, z, np.nan)
        best = np.where(np.isfinite(z) & ~(best >= z), z, best)
    return best


def alternatives(n: int, steady_seeds: int, noise: NoiseModel = FITTED_NOISE) -> list[dict]:
    def cohort(seed: int, days: int, **kwargs: float) -> dict[str, np.ndarray]:
        h = simulate_training_history(n, days, np.random.default_rng(seed), noise=noise, **kwargs)
        return {"ln": h.ln_rmssd, **evidence(h.ln_rmssd, h.morning_hr_bpm)}

    steady = [cohort(STEADY_SEED + k, STEADY_DAYS) for k in range(steady_seeds)]
    drop = cohort(DROP_SEED, EVENT_DAYS, hrv_drop_day=ONSET)
    large = cohort(LARGE_SEED, EVENT_DAYS, hrv_drop_day=ONSET, hrv_drop_sd=5.0)
    variants = (  # (label, HRV score, its c, joint score bound)
        ("HRV evidence alone, c 5.0", "hrv", 5.0, None),
        ("HRV evidence alone, c 5.1", "hrv", 5.1, None),
        ("HRV evidence alone, c 5.25", "hrv", 5.25, None),
        ("AR(1) in the window variance, own φ, c 4.75", "AR(1): own φ", 4.75, None),
        ("AR(1) in the window variance, own φ, c 5.0", "AR(1): own φ", 5.0, None),
        ("AR(1) in the window variance, fitted φ 0.14, c 4.75", "AR(1): fitted φ = 0.14", 4.75, None),
        ("AR(1) in the window variance, fitted φ 0.14, c 5.0", "AR(1): fitted φ = 0.14", 5.0, None),
        ("joint HRV-down/HR-up score alone, c 4.75", None, None, 4.75),
        ("HRV evidence 5.0 or joint score ≥ 5.0", "hrv", 5.0, 5.0),
        ("HRV evidence 5.0 or joint score ≥ 5.5 (the shipped defaults; check)", "hrv", 5.0, 5.5),
    )
    rows = []
    for label, score, c, cj in variants:

        def flags(e: dict[str, np.ndarray], score: str | None = score, c: float | None = c, cj: float | None = cj):
            hit = np.zeros(e["gate"].shape, bool)
            with np.errstate(invalid="ignore"):
                if score is not None and c is not None:
                    hit |= e[score] <= -c
                if cj is not None:
                    hit |= e["joint"] >= cj
            return hit & e["gate"]

        ever = sum(int(flags(e).any(axis=1).sum()) for e in steady)
        f = flags(drop)[:, ONSET : ONSET + 15]
        first = np.where(f.any(axis=1), np.argmax(f, axis=1), 99)
        seen = np.isfinite(drop["ln"][:, ONSET : ONSET + 4]).sum(axis=1) >= 3
        g = flags(large)[:, ONSET:]
        readings = np.cumsum(np.isfinite(large["ln"][:, ONSET:]), axis=1)
        second = np.argmax(readings >= 2, axis=1)
        by_second = (g & (np.arange(g.shape[1]) <= second[:, None])).any(axis=1)[readings[:, -1] >= 2]
        rows.append(
            {
                "variant": label,
                "steady_ever_flagged": f"{ever} of {n * steady_seeds}",
                "drop_within_3_days_with_data": round(float((first[seen] <= 3).mean()), 3),
                "drop_within_7_days": round(float((first <= 7).mean()), 3),
                "large_by_2nd_morning": round(float(by_second.mean()), 3),
            }
        )
    return rows


# --- 3. real mornings ---------------------------------------------------------------------------------------------


def real_mornings() -> list[dict]:
    """The shipped rule on the real people's mornings that ``bench/noise_fit.py`` fits the noise to."""
    from noise_fit import DEFAULT_DATA, morning_series  # bench/noise_fit.py (run from bench/ or the repository)

    th = load_thresholds()
    rows = []
    for name, series in morning_series(DEFAULT_DATA).items():
        ln, hr = series["ln_rmssd"][None], series["hr_bpm"][None]
        days = ln.shape[1]
        ind = compute_indicators(daily_inputs(["A"], "2020-01-01", np.full((1, days), np.nan), ln, hr, {}), th)
        signals = evaluate_signals(ind, th)
        ready = (ind.hrv_base.n >= th.recovery.flag_min_baseline_days) & ind.hrv_ok
        score = ind.hrv_evidence.score[ready]
        rows.append(
            {
                "person": name,
                "mornings": int(np.isfinite(ln).sum()),
                "flag_ready_days": int(ready.sum()),
                "hrv_suppressed_days": int(signals["hrv_suppressed"].flagged.sum()),
                "strongest_evidence_sd": round(float(-np.nanmin(score)), 2) if np.isfinite(score).any() else None,
            }
        )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--athletes", type=int, default=1000)
    parser.add_argument("--steady-seeds", type=int, default=10)
    parser.add_argument("--oracle-athletes", type=int, default=20000)
    parser.add_argument("--legacy-noise", action="store_true", help="alternatives on the made-up noise")
    args = parser.parse_args()
    noise = LEGACY_NOISE if args.legacy_noise else FITTED_NOISE
    result = {
        "bound": bound(np.random.default_rng(7), args.oracle_athletes),
        "alternatives": alternatives(args.athletes, args.steady_seeds, noise),
        "real": real_mornings(),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))

"""Training load: session TRIMP and sRPE, daily load, ACWR, Foster monotony and strain, Banister PMC.

Pure numpy/scipy functions. Daily series are arrays whose **last axis is days** (one row per athlete is fine:
everything is vectorised across rows); a rest day is a zero, never NaN. A day whose load is not known (a
log-based athlete logged nothing that day and nothing shows a rest day) is carried by a separate ``known`` mask
(``fill_unknown``, ``training_days``, ``lowest_load``, ``load_in_typical_days``, ``monotony``, ``strain``). Index
0 of the last axis is the first day of the series unless a per-row ``start`` index says where each row's data
begins.

Constants are named for what they are: the ACWR EWMA uses ``λ = 2/(N+1)`` (Williams 2017), the PMC uses the
decay ``k = e^(−1/N)`` (GoldenCheetah PMCData.cpp). They differ (0.25 vs 0.133 for N = 7) and are not mixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import signal

from monitor.rolling import rolling_sum

Sex = Literal["female", "male", "unspecified"]

ACWR_ACUTE_DAYS = 7
ACWR_CHRONIC_DAYS = 28
PMC_CTL_DAYS = 42  # GoldenCheetah "LTS days" default
PMC_ATL_DAYS = 7  # GoldenCheetah "STS days" default
MONOTONY_DAYS = 7
MONOTONY_MAX = 10.0  # Runalyze clips monotony to [0, 10]; SD = 0 with load gives the maximum
# Banister TRIMP weighting y = a·e^(b·x) of the heart-rate-reserve fraction x (Banister 1991); sex not given:
# the mean of the two (a = 0.75, b = 1.795), a curve between them (Runalyze also uses b = 1.795 for "unknown").
TRIMP_COEFFICIENTS: dict[str, tuple[float, float]] = {
    "male": (0.64, 1.92),
    "female": (0.86, 1.67),
    "unspecified": ((0.64 + 0.86) / 2, (1.92 + 1.67) / 2),
}
EDWARDS_ZONE_LOWER_PCT = (50.0, 60.0, 70.0, 80.0, 90.0)  # % HRmax; zone i weighs i + 1
HR_GAP_CAP_S = 5.0  # an HR sample stands for at most this long (or 2 × the stream's median interval, if longer)


def ewma_smoothing(n_days: float) -> float:
    """ACWR smoothing factor ``λ = 2/(N+1)`` (Williams et al. 2017): 0.25 for 7 days, 0.069 for 28."""
    return 2.0 / (n_days + 1.0)


def pmc_decay(n_days: float) -> float:
    """PMC decay ``k = e^(−1/N)`` (GoldenCheetah): yesterday's CTL/ATL weight; today's stress weighs ``1 − k``."""
    return float(np.exp(-1.0 / n_days))


# --- sessions -------------------------------------------------------------------------------------------------


def hr_reserve_fraction(hr_bpm: np.ndarray, hr_rest_bpm: float, hr_max_bpm: float) -> np.ndarray:
    """``(HR − HRrest)/(HRmax − HRrest)`` clipped to [0, 1]; NaN stays NaN."""
    if not 0 < hr_rest_bpm < hr_max_bpm:
        raise ValueError("need 0 < hr_rest_bpm < hr_max_bpm")
    x = (np.asarray(hr_bpm, dtype=float) - hr_rest_bpm) / (hr_max_bpm - hr_rest_bpm)
    return np.clip(x, 0.0, 1.0)


def _sample_minutes(hr: np.ndarray, dt_s: float | np.ndarray) -> np.ndarray:
    dt = np.broadcast_to(np.asarray(dt_s, dtype=float), hr.shape)
    return np.where(np.isfinite(hr) & np.isfinite(dt), dt, 0.0) / 60.0


def banister_weight(hr_bpm: np.ndarray, hr_rest_bpm: float, hr_max_bpm: float, sex: Sex) -> np.ndarray:
    """Per-sample Banister weighting ``x · a·e^(b·x)`` (x = HR-reserve fraction); NaN samples weigh 0."""
    if sex not in TRIMP_COEFFICIENTS:
        raise ValueError(f"sex must be 'male', 'female' or 'unspecified', not {sex!r}")
    a, b = TRIMP_COEFFICIENTS[sex]
    x = np.nan_to_num(hr_reserve_fraction(hr_bpm, hr_rest_bpm, hr_max_bpm))
    return x * a * np.exp(b * x)


def trimp_banister(
    hr_bpm: np.ndarray, dt_s: float | np.ndarray, hr_rest_bpm: float, hr_max_bpm: float, sex: Sex
) -> float:
    """Banister TRIMP, computed per sample: ``Σ Δt[min] · x · a·e^(b·x)`` with sex-specific ``a, b``.

    ``dt_s`` is the duration each sample stands for (scalar or per sample); NaN samples count for nothing.
    """
    hr = np.asarray(hr_bpm, dtype=float)
    return float(np.sum(_sample_minutes(hr, dt_s) * banister_weight(hr, hr_rest_bpm, hr_max_bpm, sex)))


def edwards_zone(hr_bpm: np.ndarray, hr_max_bpm: float) -> np.ndarray:
    """Edwards zone index per sample: 0 for 50–60 % HRmax … 4 for 90 % and above; −1 below 50 % or NaN.

    Lower edges belong to their zone (60.0 % is zone index 1); % HRmax is rounded to 1e-9 so that an HR exactly
    at an edge is not moved by floating-point error.
    """
    pct = np.round(100.0 * np.asarray(hr_bpm, dtype=float) / hr_max_bpm, 9)
    return np.searchsorted(np.asarray(EDWARDS_ZONE_LOWER_PCT), np.nan_to_num(pct, nan=-1.0), side="right") - 1


def edwards_zone_minutes(hr_bpm: np.ndarray, dt_s: float | np.ndarray, hr_max_bpm: float) -> np.ndarray:
    """Minutes in the five Edwards zones (50–60, 60–70, 70–80, 80–90, 90–100+ % HRmax); below 50 % not counted."""
    hr = np.asarray(hr_bpm, dtype=float)
    zone = edwards_zone(hr, hr_max_bpm)
    minutes = _sample_minutes(hr, dt_s)
    keep = zone >= 0
    return np.bincount(zone[keep], weights=minutes[keep], minlength=5)[:5]


def trimp_edwards(hr_bpm: np.ndarray, dt_s: float | np.ndarray, hr_max_bpm: float) -> float:
    """Edwards TRIMP: minutes in the five zones weighted 1–5."""
    return float(np.dot(edwards_zone_minutes(hr_bpm, dt_s, hr_max_bpm), np.arange(1, 6)))


def srpe_load(rpe: np.ndarray, duration_s: np.ndarray) -> np.ndarray:
    """Session-RPE load, AU: CR-10 RPE × duration in minutes (Foster 2001). NaN where either is missing."""
    return np.asarray(rpe, dtype=float) * np.asarray(duration_s, dtype=float) / 60.0


def session_duration_s(time_ms: np.ndarray) -> float:
    """Span of a session's sample timestamps (ms) in seconds; 0 with fewer than two samples."""
    t = np.asarray(time_ms, dtype=float)
    return float((t.max() - t.min()) / 1000.0) if t.size > 1 else 0.0


# --- daily grid -----------------------------------------------------------------------------------------------


def daily_sum(row: np.ndarray, day: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Sum of ``values`` per (row, day) cell of a ``shape`` grid; NaN values and out-of-grid cells are dropped."""
    row, day = np.asarray(row, dtype=np.int64), np.asarray(day, dtype=np.int64)
    v = np.asarray(values, dtype=float)
    keep = np.isfinite(v) & (row >= 0) & (row < shape[0]) & (day >= 0) & (day < shape[1])
    flat = row[keep] * shape[1] + day[keep]
    return np.bincount(flat, weights=v[keep], minlength=shape[0] * shape[1]).reshape(shape)


def daily_count(row: np.ndarray, day: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Number of finite ``values`` per (row, day) cell."""
    v = np.asarray(values, dtype=float)
    return daily_sum(row, day, np.where(np.isfinite(v), 1.0, np.nan), shape).astype(np.int64)


def days_of_history(n_days: int, start: np.ndarray | int = 0) -> np.ndarray:
    """Days of data up to and including each day: ``t − start + 1`` (≤ 0 before a row's start)."""
    start = np.asarray(start)
    return np.arange(n_days) - start[..., None] + 1 if start.ndim else np.arange(n_days) - int(start) + 1


# --- ACWR -----------------------------------------------------------------------------------------------------


def ewma(load: np.ndarray, n_days: float, initial: np.ndarray | float = 0.0, start: np.ndarray | int = 0) -> np.ndarray:
    """``E_t = λ·L_t + (1 − λ)·E_{t−1}`` with ``λ = 2/(N+1)`` along the last axis.

    ``initial`` is ``E`` on the day before ``start`` (per row or scalar); loads before ``start`` must be 0.
    """
    lam = ewma_smoothing(n_days)
    x = np.asarray(load, dtype=float)
    out = signal.lfilter([lam], [1.0, -(1.0 - lam)], x, axis=-1)
    steps = days_of_history(x.shape[-1], start)  # t − start + 1
    seed = np.asarray(initial, dtype=float)[..., None] if np.ndim(initial) else float(initial)
    return out + np.where(steps > 0, (1.0 - lam) ** np.maximum(steps, 0) * seed, 0.0)


def _chronic_mean_seed(load: np.ndarray, chronic_days: int, start: np.ndarray | int) -> np.ndarray:
    x = np.asarray(load, dtype=float)
    t = np.arange(x.shape[-1])
    s = np.asarray(start)[..., None] if np.ndim(start) else int(start)
    in_first = (t >= s) & (t < s + chronic_days)
    return np.sum(np.where(in_first, x, 0.0), axis=-1) / chronic_days


def _ratio(acute: np.ndarray, chronic: np.ndarray, enough: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(enough & (chronic > 0), acute / chronic, np.nan)


def acwr_ewma(
    load: np.ndarray,
    acute_days: int = ACWR_ACUTE_DAYS,
    chronic_days: int = ACWR_CHRONIC_DAYS,
    start: np.ndarray | int = 0,
) -> np.ndarray:
    """EWMA acute:chronic ratio ``E_acute / E_chronic`` (Williams 2017).

    Both averages are seeded (on the day before ``start``) with the mean daily load of the first
    ``chronic_days`` days, which removes the zero-seed bias (the chronic EWMA keeps 13.5 % of its seed after 28
    days). NaN before ``chronic_days`` days of data ("building baseline") and where the chronic load is 0.
    """
    seed = _chronic_mean_seed(load, chronic_days, start)
    acute = ewma(load, acute_days, seed, start)
    chronic = ewma(load, chronic_days, seed, start)
    return _ratio(acute, chronic, days_of_history(np.shape(load)[-1], start) >= chronic_days)


def acwr_rolling(
    load: np.ndarray,
    acute_days: int = ACWR_ACUTE_DAYS,
    chronic_days: int = ACWR_CHRONIC_DAYS,
    *,
    coupled: bool = True,
    start: np.ndarray | int = 0,
) -> np.ndarray:
    """Rolling-average ratio: acute = mean of the last ``acute_days``; chronic = mean of the last ``chronic_days``
    (coupled, Hulin 2014) or of the ``chronic_days − acute_days`` days before the acute window (uncoupled,
    Windt & Gabbett 2019). NaN before ``chronic_days`` days of data and where the chronic load is 0."""
    acute = rolling_sum(load, acute_days) / acute_days
    if coupled:
        chronic = rolling_sum(load, chronic_days) / chronic_days
    else:
        chronic = rolling_sum(load, chronic_days - acute_days, lag=acute_days) / (chronic_days - acute_days)
    return _ratio(acute, chronic, days_of_history(np.shape(load)[-1], start) >= chronic_days)


# --- Foster ---------------------------------------------------------------------------------------------------


def monotony(
    load: np.ndarray, window: int = MONOTONY_DAYS, start: np.ndarray | int = 0, known: np.ndarray | None = None
) -> np.ndarray:
    """Foster monotony: mean / population SD of the last ``window`` daily loads (rest days = 0).

    Clipped to [0, ``MONOTONY_MAX``]; equal non-zero loads give the maximum, a week without load gives 0.
    NaN before ``window`` days of data. With a ``known`` mask (same shape, True = the day's load is known) the
    mean and SD are those of the known days of the window (NaN when none is known); callers decide how many
    known days they need (``monitor.indicators``).
    """
    x = np.asarray(load, dtype=float)
    k = np.ones_like(x) if known is None else np.asarray(known, dtype=float)
    n = rolling_sum(k, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = rolling_sum(x * k, window) / n
        mean_sq = rolling_sum(x * x * k, window) / n
    sd = np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
    tiny = sd <= 1e-9 * np.maximum(mean, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(tiny, np.where(mean > 0, MONOTONY_MAX, 0.0), mean / np.where(tiny, 1.0, sd))
    m = np.where(n > 0.5, np.clip(m, 0.0, MONOTONY_MAX), np.nan)
    return np.where(days_of_history(x.shape[-1], start) >= window, m, np.nan)


def strain(
    load: np.ndarray, window: int = MONOTONY_DAYS, start: np.ndarray | int = 0, known: np.ndarray | None = None
) -> np.ndarray:
    """Foster strain: weekly load × monotony, AU. NaN before ``window`` days of data. With a ``known`` mask the
    weekly load is ``window`` × the mean load of the known days."""
    x = np.asarray(load, dtype=float)
    if known is None:
        return rolling_sum(x, window) * monotony(x, window, start)
    k = np.asarray(known, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        weekly = rolling_sum(x * k, window) / rolling_sum(k, window) * window
    return weekly * monotony(x, window, start, known)


# --- Banister PMC ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PMC:
    """Performance-management chart series (same shape as the daily stress)."""

    ctl: np.ndarray  # chronic training load ("fitness"), GoldenCheetah LTS
    atl: np.ndarray  # acute training load ("fatigue"), GoldenCheetah STS
    tsb: np.ndarray  # training stress balance = yesterday's CTL − ATL ("form")
    ramp_rate: np.ndarray  # change in CTL over the last 7 days


def pmc(
    stress: np.ndarray,
    ctl_days: float = PMC_CTL_DAYS,
    atl_days: float = PMC_ATL_DAYS,
    ctl_seed: np.ndarray | float = 0.0,
    atl_seed: np.ndarray | float = 0.0,
    *,
    tsb_next_day: bool = True,
) -> PMC:
    """CTL/ATL/TSB as GoldenCheetah computes them: ``CTL_d = S_d·(1 − k_L) + CTL_{d−1}·k_L`` with
    ``k_L = e^(−1/ctl_days)`` (ATL likewise with ``atl_days``), seeded with ``ctl_seed``/``atl_seed`` on the day
    before the series. TSB is attributed to the next day by default (day 0 gets the seeds' balance)."""
    x = np.asarray(stress, dtype=float)
    series = []
    for days, seed in ((ctl_days, ctl_seed), (atl_days, atl_seed)):
        k = pmc_decay(days)
        s0 = np.asarray(seed, dtype=float)
        zi = (k * s0)[..., None] if s0.ndim else np.full((*x.shape[:-1], 1), k * float(s0))
        y, _ = signal.lfilter([1.0 - k], [1.0, -k], x, axis=-1, zi=zi)
        series.append(y)
    ctl, atl = series
    balance = ctl - atl
    if tsb_next_day:
        seed_balance = np.broadcast_to(np.asarray(ctl_seed, float) - np.asarray(atl_seed, float), x.shape[:-1])
        balance = np.concatenate([seed_balance[..., None], balance[..., :-1]], axis=-1)
    previous = np.concatenate([np.broadcast_to(np.asarray(ctl_seed, float), x.shape[:-1])[..., None], ctl], -1)
    n = x.shape[-1]
    ramp = ctl - previous[..., np.clip(np.arange(n) - 6, 0, n)]
    return PMC(ctl=ctl, atl=atl, tsb=balance, ramp_rate=ramp)


# --- unknown days and load evidence on the athlete's own scale ------------------------------------------------


def fill_unknown(load: np.ndarray, known: np.ndarray, window: int = ACWR_CHRONIC_DAYS) -> np.ndarray:
    """Daily loads with every unknown day (``known`` False) replaced by the mean load of the known days among the
    ``window`` days before it (0 when none is known): a day without data neither adds nor removes load, so the
    EWMA ratios and the PMC relax towards the athlete's usual level instead of reading a gap as rest."""
    x = np.asarray(load, dtype=float)
    k = np.asarray(known, dtype=bool)
    n = rolling_sum(k.astype(float), window, lag=1)
    usual = rolling_sum(np.where(k, x, 0.0), window, lag=1) / np.maximum(n, 1.0)
    return np.where(k, x, np.where(n > 0, usual, 0.0))


@dataclass(frozen=True)
class TrainingDays:
    """The athlete's own training days over a baseline window, per row and day (arrays ``(athletes, days)``).

    The typical training day is the geometric mean of the training-day loads: sRPE session loads are roughly
    log-normal (duration and RPE multiply), so one very long session does not inflate it. How often the athlete
    trains does not enter it: weeks without training (a holiday, a logging gap) change the share of training
    days, not the size of a training day.
    """

    typical_au: np.ndarray  # geometric mean of the training-day loads, AU (NaN with no training day)
    log_sd: np.ndarray  # SD of ln training-day load (NaN below 2 training days)
    training_days: np.ndarray  # int
    known_days: np.ndarray  # int

    def heavy_factor(self, factor: float, sds: float, log_sd_floor: float) -> np.ndarray:
        """How many typical training days make a heavy day: ``factor``, or fewer for an athlete whose training
        days vary little, ``exp(sds · σ)`` with ``σ`` the SD of their log loads (at least ``log_sd_floor``)."""
        return np.minimum(factor, np.exp(sds * np.maximum(np.nan_to_num(self.log_sd, nan=np.inf), log_sd_floor)))


def training_days(load: np.ndarray, known: np.ndarray, days: int, lag: int) -> TrainingDays:
    """``TrainingDays`` over days ``[t − lag − days + 1, t − lag]``: training days are known days with load > 0."""
    x = np.asarray(load, dtype=float)
    k = np.asarray(known, dtype=bool)
    day = k & (x > 0)
    n = rolling_sum(day.astype(float), days, lag)
    lx = np.where(day, np.log(np.where(day, x, 1.0)), 0.0)
    log_sum, log_sq = rolling_sum(lx, days, lag), rolling_sum(lx * lx, days, lag)
    mean = log_sum / np.maximum(n, 1.0)
    var = (log_sq - n * mean * mean) / np.maximum(n - 1.0, 1.0)
    return TrainingDays(
        typical_au=np.where(n > 0.5, np.exp(mean), np.nan),
        log_sd=np.where(n > 1.5, np.sqrt(np.maximum(var, 0.0)), np.nan),
        training_days=np.rint(n).astype(np.int64),
        known_days=np.rint(rolling_sum(k.astype(float), days, lag)).astype(np.int64),
    )


def _shifted(x: np.ndarray, lag: int, fill: float) -> np.ndarray:
    """``x`` moved ``lag`` days later along the last axis, the first ``lag`` days set to ``fill``."""
    if lag == 0:
        return x
    out = np.full_like(x, fill)
    out[..., lag:] = x[..., :-lag]
    return out


def lowest_load(load: np.ndarray, known: np.ndarray, days: int, slack: int = 1) -> np.ndarray:
    """The lowest load of the last ``days`` training days (known, load > 0), AU, looking back at most
    ``days + slack`` days: up to ``slack`` rest or unknown days in between are skipped (a planned rest day inside a
    heavy block; today's session, logged after the morning's analysis); 0 when fewer training days are there."""
    x = np.asarray(load, dtype=float)
    trained = np.asarray(known, dtype=bool) & (x > 0)
    lowest = np.full(x.shape, np.inf)
    seen = np.zeros(x.shape, np.int64)
    for lag in range(days + slack):
        tt, xx = _shifted(trained, lag, False), _shifted(x, lag, 0.0)
        take = tt & (seen < days)
        lowest = np.where(take, np.minimum(lowest, xx), lowest)
        seen += take
    return np.where(seen >= days, lowest, 0.0)


def load_in_typical_days(load: np.ndarray, known: np.ndarray, typical: np.ndarray, days: int, cap: float) -> np.ndarray:
    """Load of the known days among the last ``days`` days in typical training days (``typical`` as of each
    day), each day counted at most ``cap`` typical days: one very long session cannot make a heavy week on its
    own. NaN where ``typical`` is."""
    x = np.where(np.asarray(known, dtype=bool), np.asarray(load, dtype=float), 0.0)
    total = np.zeros_like(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        for lag in range(days):
            total += np.minimum(_shifted(x, lag, 0.0) / typical, cap)
    return total

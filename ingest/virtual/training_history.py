"""Months of simulated daily training and mornings for whole cohorts, with known events.

:func:`simulate_training_history` gives a cohort's daily sessions (sRPE, TRIMP, GCT, muscle load, pedal balance)
and mornings with known load spikes, HRV drops and asymmetry onsets, as numpy arrays ``(athletes, days)``;
:func:`training_history_batches` turns it into ``session`` and ``readiness`` points. Pure numpy, no I/O; all
randomness comes from an explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.model import READINESS, SESSION
from ingest.store.base import PointBatch
from ingest.timeline import DAY_MS
from ingest.virtual.noise import draw_quantiles, stationary_ar1
from ingest.virtual.wellness_history import WellnessHistory, WellnessModel, simulate_wellness, wellness_batches

SESSION_HOUR_MS = 17 * 3_600_000  # sessions start at 17:00 UTC
MORNING_HOUR_MS = 6 * 3_600_000 + 1_800_000  # morning readings at 06:30 UTC
EVENT_KINDS = ("spike", "hrv_drop", "gct_onset", "muscle_onset", "pedal_onset")


@dataclass(frozen=True)
class TrainingHistory:
    """Simulated daily training and mornings of a cohort: arrays ``(athletes, days)``, NaN = nothing that day.

    ``events[kind]`` is each athlete's onset day index of ``kind`` (see ``EVENT_KINDS``), −1 for none.
    """

    athlete_ids: list[str]
    sex: np.ndarray  # (A,) "female" / "male"
    resting_hr_bpm: np.ndarray  # (A,)
    max_hr_bpm: np.ndarray  # (A,)
    sport: np.ndarray  # (A, D) "run", "ride" or "" (no session logged)
    duration_s: np.ndarray
    rpe: np.ndarray  # CR-10, whole numbers
    srpe_load: np.ndarray  # AU
    trimp: np.ndarray  # Banister, from the session's mean HR-reserve fraction
    avg_hr_bpm: np.ndarray
    gct_left_ms: np.ndarray  # runs only
    gct_right_ms: np.ndarray
    muscle_load_left: np.ndarray  # every session (pods: %MVC)
    muscle_load_right: np.ndarray
    pedal_balance_left_pct: np.ndarray  # rides only
    ln_rmssd: np.ndarray  # morning readings (NaN = missed)
    morning_hr_bpm: np.ndarray
    events: dict[str, np.ndarray]
    visit_day: np.ndarray | None = None  # (A,) day index of a visit (at noon UTC), −1 for none
    visit_effect: np.ndarray | None = None  # (A,) the visit's treatment effect was simulated
    pod_muscle: str | np.ndarray | None = None  # the muscle the pods sat on (sessions' `muscle` field): one for
    # everyone or (A,) per athlete; None or "" = not recorded
    wellness: WellnessHistory | None = None  # morning check-ins, when simulated (``wellness=`` a model)


def _onsets(value: int | np.ndarray | None, n: int) -> np.ndarray:
    if value is None:
        return np.full(n, -1, dtype=np.int64)
    return np.broadcast_to(np.asarray(value, dtype=np.int64), (n,)).copy()


def _active(onset: np.ndarray, days: int, length: int | None = None) -> np.ndarray:
    d = np.arange(days)
    on = (onset[:, None] >= 0) & (d >= onset[:, None])
    return on & (d < onset[:, None] + length) if length is not None else on


def _fade(visit: np.ndarray, effect: np.ndarray, days: int, tau_days: float) -> np.ndarray:
    """(A, D): the share of an episode left on each day: 1, and ``exp(−(t − visit)/tau)`` after a visit with effect."""
    after = np.arange(days) - visit[:, None]
    fading = (visit[:, None] >= 0) & effect[:, None] & (after > 0)
    return np.where(fading, np.exp(-np.maximum(after, 0) / tau_days), 1.0)


def _split(mean: np.ndarray, si_pct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left and right values with the given mean and symmetry index (positive = left larger)."""
    return mean * (1 + si_pct / 200.0), mean * (1 - si_pct / 200.0)


Quantiles = tuple[float, float, float, float, float]
"""(min, 25th percentile, median, 75th percentile, max) of a per-person statistic across real people."""


@dataclass(frozen=True)
class NoiseModel:
    """Day-to-day noise of steady athletes, fitted to real exports by ``bench/noise_fit.py`` (docs/analytics.md,
    "Noise fitted to real athletes"). Per-athlete values are drawn from the across-people quantiles (piecewise
    linear inverse CDF through min, quartiles and max); autocorrelations and the HRV–HR correlation are common.

    Mornings: 6 HRV-app exports + the hrv_public morning RR files (7 people); sessions: PMData sRPE logs of the
    11 people with ≥ 20 sessions.
    """

    ln_rmssd_sd: Quantiles = (0.1092, 0.2236, 0.2879, 0.3339, 0.4519)  # marginal SD of daily ln rMSSD
    ln_rmssd_lag1: float = 0.1414  # AR(1) coefficient of ln rMSSD (median lag-1 autocorrelation)
    morning_hr_sd_bpm: Quantiles = (3.0174, 3.1995, 3.2266, 4.7595, 5.5492)
    morning_hr_lag1: float = 0.2038
    ln_rmssd_hr_correlation: float = -0.4551  # same-day correlation of ln rMSSD and morning HR
    missed_morning_rate: Quantiles = (0.0, 0.0072, 0.08, 0.1258, 0.1923)
    plan_days: Quantiles = (2.0, 2.0, 3.0, 4.5, 6.0)  # weekdays of the personal plan (rounded)
    p_plan_day: Quantiles = (0.413, 0.5588, 0.5833, 0.694, 0.8)  # a session on a planned weekday
    p_other_day: Quantiles = (0.1412, 0.2341, 0.3333, 0.4535, 0.6667)  # a session on any other weekday
    week_without_session: Quantiles = (0.0, 0.0, 0.0526, 0.1026, 0.2)  # whole weeks without a logged session
    median_duration_min: Quantiles = (30.0, 40.0, 55.0, 60.0, 90.0)
    ln_duration_sd: float = 0.4064  # all sessions of a person (median): weekday plan and noise
    ln_duration_noise_sd: Quantiles = (0.2492, 0.3255, 0.349, 0.4162, 0.4868)  # around the weekday's mean
    mean_rpe: Quantiles = (4.2222, 5.2683, 6.0118, 6.2106, 7.125)
    rpe_sd: float = 1.599
    rpe_noise_sd: Quantiles = (0.7746, 1.1672, 1.5725, 1.7187, 2.0526)

    def draw(self, name: str, rng: np.random.Generator, n: int, rank: np.ndarray | None = None) -> np.ndarray:
        """``n`` per-athlete values of the quantile field ``name`` (at the quantile ranks ``rank`` if given)."""
        return draw_quantiles(getattr(self, name), rng, n, rank)


FITTED_NOISE = NoiseModel()
LEGACY_NOISE = NoiseModel(
    ln_rmssd_sd=(0.08, 0.0975, 0.115, 0.1325, 0.15),
    ln_rmssd_lag1=0.0,
    morning_hr_sd_bpm=(1.5,) * 5,
    morning_hr_lag1=0.0,
    ln_rmssd_hr_correlation=0.0,
    missed_morning_rate=(0.15,) * 5,
    plan_days=(3.5, 3.5, 4.5, 5.49, 5.49),
    p_plan_day=(0.95,) * 5,
    p_other_day=(0.0,) * 5,
    week_without_session=(0.0,) * 5,
    median_duration_min=(55.0,) * 5,
    ln_duration_sd=0.27,
    ln_duration_noise_sd=(0.12,) * 5,
    mean_rpe=(5.0,) * 5,
    rpe_sd=1.35,
    rpe_noise_sd=(0.7,) * 5,
)
"""The made-up noise the rules were first calibrated on (approximately; other random draws): a fixed plan of 4–5
weekdays at 95 %, nothing on other days, duration ±12 %, RPE ±0.7, white-noise ln rMSSD (SD 0.08–0.15) and
resting HR (1.5 bpm), independent, 15 % missed mornings."""


def ar1(rng: np.random.Generator, shape: tuple[int, int], phi: float) -> np.ndarray:
    """Stationary AR(1) series with unit variance along the last axis (``x_t = φ x_{t−1} + √(1 − φ²) e_t``)."""
    return stationary_ar1(rng.standard_normal(shape), phi)


def correlated_mornings(
    rng: np.random.Generator, shape: tuple[int, int], noise: NoiseModel
) -> tuple[np.ndarray, np.ndarray]:
    """Unit-variance AR(1) noise of ln rMSSD and of morning HR with the fitted lag-1 autocorrelations and same-day
    correlation: ``z_HR = ρ z_ln + √(1 − ρ²) e`` with ``e`` an independent AR(1) whose coefficient makes the HR's
    own lag-1 autocorrelation ``ρ² φ_ln + (1 − ρ²) φ_e`` equal the fitted one."""
    rho = noise.ln_rmssd_hr_correlation
    z_ln = ar1(rng, shape, noise.ln_rmssd_lag1)
    phi_e = (noise.morning_hr_lag1 - rho * rho * noise.ln_rmssd_lag1) / (1.0 - rho * rho)
    return z_ln, rho * z_ln + np.sqrt(1.0 - rho * rho) * ar1(rng, shape, float(np.clip(phi_e, -0.99, 0.99)))


def weekly_sessions(rng: np.random.Generator, a: int, d: int, noise: NoiseModel) -> np.ndarray:
    """(athletes, days) bool: a logged session. Each athlete plans a number of weekdays; a planned weekday holds
    a session with probability ``p_plan_day``, another weekday with ``p_other_day``; whole weeks go unlogged at
    the athlete's ``week_without_session`` rate. The three weekly quantities are drawn at the same quantile rank:
    in PMData the people with more planned days also train more often on the others."""
    rank = rng.random(a)
    n_plan = np.clip(np.rint(noise.draw("plan_days", rng, a, rank)), 1, 7)
    planned = np.argsort(rng.random((a, 7)), axis=1) < n_plan[:, None]
    p_plan, p_other = noise.draw("p_plan_day", rng, a, rank), noise.draw("p_other_day", rng, a, rank)
    p_day = np.where(planned, p_plan[:, None], p_other[:, None])
    weekday = np.arange(d) % 7
    week = np.arange(d) // 7
    logged_week = rng.random((a, week[-1] + 1)) >= noise.draw("week_without_session", rng, a)[:, None]
    return (rng.random((a, d)) < p_day[:, weekday]) & logged_week[:, week]


def simulate_training_history(
    n_athletes: int,
    days: int,
    rng: np.random.Generator,
    *,
    sport: str | np.ndarray = "mixed",
    spike_day: int | np.ndarray | None = None,
    hrv_drop_day: int | np.ndarray | None = None,
    gct_onset_day: int | np.ndarray | None = None,
    muscle_onset_day: int | np.ndarray | None = None,
    pedal_onset_day: int | np.ndarray | None = None,
    visit_day: int | np.ndarray | None = None,
    visit_effect: bool | np.ndarray = True,
    visit_effect_days: float = 3.0,
    visit_soreness_sd: float = 1.0,
    pod_muscle: str | np.ndarray | None = None,
    spike_factor: float = 2.0,
    spike_days: int = 14,
    hrv_drop_sd: float = 3.0,
    hrv_drop_rhr_rise_bpm: tuple[float, float] = (2.0, 6.0),
    gct_right_rise_pct: float = 8.0,
    muscle_si_shift_pct: float = -15.0,
    pedal_si_shift_pct: float = -10.0,
    missed_morning_rate: float | None = None,
    noise: NoiseModel = LEGACY_NOISE,
    id_prefix: str = "S",
    wellness: WellnessModel | None = None,
    soreness_onset_day: int | np.ndarray | None = None,
    soreness_group: str = "calf",
    soreness_side: str | np.ndarray = "r",
    wellness_drop_day: int | np.ndarray | None = None,
    wellness_drop_sd: float = 2.0,
) -> TrainingHistory:
    """Daily sRPE-logged training, running/cycling asymmetry and morning HRV of ``n_athletes`` over ``days``.

    Steady behaviour, with the day-to-day noise of ``noise`` (default: fitted to real athletes, ``NoiseModel``):
    a personal weekly plan (planned weekdays and a chance of sessions on the others, weeks without a logged
    session; per weekday a base duration and RPE, sport), session duration and RPE noise around it; stable
    personal asymmetry (GCT SI N(0, 1.5) %, session noise 1 %; muscle SI N(0, 2) %, noise 3 %; pedal share
    50 ± 0.5 %, noise 0.5 %); AR(1) ln rMSSD and morning HR, negatively correlated, and missed mornings at a
    personal rate (``missed_morning_rate`` for everyone instead, if given). ``sport`` is "run", "ride", "mixed"
    or one of those per athlete.

    Events (per athlete onset day index, an int for everyone, or None; −1 = none):
    ``spike_day`` a training camp of ``spike_days`` days with a session every day of ``spike_factor`` × the usual
    duration; ``hrv_drop_day`` ln rMSSD down by ``hrv_drop_sd`` SDs (the athlete's day-to-day SD) and resting HR
    up by a uniform draw from ``hrv_drop_rhr_rise_bpm`` from then on;
    ``gct_onset_day`` right-foot contact time up ``gct_right_rise_pct`` % (runs); ``muscle_onset_day`` muscle
    SI shifted by ``muscle_si_shift_pct`` points; ``pedal_onset_day`` pedal SI shifted by ``pedal_si_shift_pct``
    points (rides).

    Visits (``visit_day``, per athlete day index as for events; −1 = none, the visit at noon): with
    ``visit_effect`` (True, or per athlete) every episode that began on or before the visit day (HRV drop and
    resting-HR rise, GCT, muscle and pedal asymmetry) fades after it as ``exp(−(t − visit)/visit_effect_days)``,
    so asymmetry drifts back towards the athlete's own baseline over days and HRV recovers; without it the episode
    goes on. Every visit, with or without effect, lowers the next morning's ln rMSSD by ``visit_soreness_sd`` SDs
    (post-needling soreness, docs/response.md). Load spikes are not touched. ``pod_muscle`` names the muscle the
    muscle-load pods sat on (a `stride` `muscle` name) for the sessions' `muscle` field, for everyone or per athlete;
    None (or "" for an athlete) writes no such field.
    Without visits the draws and every output are those of the same call without these arguments.

    Wellness (``wellness``, a ``WellnessModel``, e.g. ``FITTED_WELLNESS``; None = no check-ins): morning check-ins
    (``ingest.virtual.wellness_history``) drawn after everything else, so every other output is the same as without
    them. ``soreness_onset_day`` (needs ``wellness``; per athlete as for events) starts a persistent soreness of
    ``soreness_group`` on ``soreness_side`` (`l`/`r`, or per athlete), ``events["soreness_onset"]``;
    ``wellness_drop_day`` makes every Hooper item ``wellness_drop_sd`` of its SDs worse from then on and nothing
    else, ``events["wellness_drop"]``.
    """
    a, d = n_athletes, days
    if a < 0 or d < 1:
        raise ValueError("need n_athletes >= 0 and days >= 1")
    female = rng.random(a) < 0.5
    rest = rng.uniform(44.0, 62.0, a) + 3.0 * female
    hr_max = 208.0 - 0.7 * rng.uniform(18.0, 35.0, a) + rng.normal(0.0, 4.0, a)
    ln_mean = np.clip(4.1 - 0.03 * (rest - 53.0) + rng.normal(0.0, 0.2, a), 3.6, 4.6)
    ln_sd = noise.draw("ln_rmssd_sd", rng, a)
    hr_sd = noise.draw("morning_hr_sd_bpm", rng, a)

    # Weekly plan: base duration, RPE and sport per weekday; which days hold a logged session.
    typical_min = noise.draw("median_duration_min", rng, a)[:, None]
    plan_sd = np.sqrt(max(noise.ln_duration_sd**2 - noise.ln_duration_noise_sd[2] ** 2, 0.0))
    plan_min = typical_min * np.exp(rng.normal(0.0, plan_sd, (a, 7)))
    rpe_plan_sd = np.sqrt(max(noise.rpe_sd**2 - noise.rpe_noise_sd[2] ** 2, 0.0))
    plan_rpe = noise.draw("mean_rpe", rng, a)[:, None] + rng.normal(0.0, rpe_plan_sd, (a, 7))
    kind = np.broadcast_to(np.asarray(sport), (a,))
    ride = np.where((kind == "mixed")[:, None], rng.random((a, 7)) < 0.5, (kind == "ride")[:, None])
    weekday = np.arange(d) % 7
    events = {
        "spike": _onsets(spike_day, a),
        "hrv_drop": _onsets(hrv_drop_day, a),
        "gct_onset": _onsets(gct_onset_day, a),
        "muscle_onset": _onsets(muscle_onset_day, a),
        "pedal_onset": _onsets(pedal_onset_day, a),
    }
    visit = _onsets(visit_day, a)
    fade = _fade(visit, np.broadcast_to(np.asarray(visit_effect, dtype=bool), (a,)), d, visit_effect_days)

    def episode(kind: str) -> np.ndarray:
        """(A, D) share of the ``kind`` episode present: 1 while active, fading after a visit it began before."""
        return _active(events[kind], d) * np.where((events[kind] <= visit)[:, None], fade, 1.0)

    camp = _active(events["spike"], d, spike_days)
    has = weekly_sessions(rng, a, d, noise) | camp
    duration_noise = noise.draw("ln_duration_noise_sd", rng, a)[:, None]
    minutes = plan_min[:, weekday] * np.exp(duration_noise * rng.standard_normal((a, d)))
    minutes = np.where(camp, spike_factor * plan_min.mean(axis=1, keepdims=True), minutes)
    rpe_noise = noise.draw("rpe_noise_sd", rng, a)[:, None]
    rpe = np.clip(np.rint(plan_rpe[:, weekday] + rpe_noise * rng.standard_normal((a, d))), 1, 10)
    rpe = np.where(camp, np.clip(np.rint(plan_rpe.mean(axis=1, keepdims=True)), 1, 10), rpe)
    is_ride = ride[:, weekday]
    x = np.clip(0.30 + 0.065 * rpe + rng.normal(0.0, 0.03, (a, d)), 0.2, 0.98)  # HR-reserve fraction
    coef_a = np.where(female, 0.86, 0.64)[:, None]
    coef_b = np.where(female, 1.67, 1.92)[:, None]

    def when(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, np.nan)

    gct_mean = rng.uniform(230.0, 290.0, a)[:, None] * np.ones(d)
    gct_si = rng.normal(0.0, 1.5, a)[:, None] + rng.normal(0.0, 1.0, (a, d))
    gct_l, gct_r = _split(gct_mean, gct_si)
    gct_r = gct_r * (1 + gct_right_rise_pct / 100.0 * episode("gct_onset"))
    muscle_si = rng.normal(0.0, 2.0, a)[:, None] + rng.normal(0.0, 3.0, (a, d))
    muscle_si = muscle_si + muscle_si_shift_pct * episode("muscle_onset")
    muscle_l, muscle_r = _split(rng.uniform(40.0, 70.0, a)[:, None] * np.ones(d), muscle_si)
    share = 50.0 + rng.normal(0.0, 0.5, a)[:, None] + rng.normal(0.0, 0.5, (a, d))
    share = share + pedal_si_shift_pct / 4.0 * episode("pedal_onset")

    drop = episode("hrv_drop")
    missed = noise.draw("missed_morning_rate", rng, a) if missed_morning_rate is None else missed_morning_rate
    morning = rng.random((a, d)) >= np.broadcast_to(missed, (a,))[:, None]
    z_ln, z_hr = correlated_mornings(rng, (a, d), noise)
    ln = ln_mean[:, None] + ln_sd[:, None] * (z_ln - hrv_drop_sd * drop)
    if (visit >= 0).any():
        ln = ln - ln_sd[:, None] * visit_soreness_sd * (np.arange(d) == visit[:, None] + 1)
    rise = rng.uniform(*hrv_drop_rhr_rise_bpm, a)[:, None]
    rhr = rest[:, None] + hr_sd[:, None] * z_hr + rise * drop
    checkins = None
    if wellness is not None:
        events["soreness_onset"] = _onsets(soreness_onset_day, a)
        events["wellness_drop"] = _onsets(wellness_drop_day, a)
        load = when(has, rpe * minutes)
        usual = np.nanmean(np.where(camp, np.nan, np.nan_to_num(load)), axis=1) if d else np.zeros(a)
        muscle = pod_muscle if isinstance(pod_muscle, str) and pod_muscle else "calf"  # per-athlete pods: calf
        episodes = {
            "soreness_onset": (episode("soreness_onset"), soreness_group, soreness_side),
            "gct_onset": (episode("gct_onset"), "calf", "r" if gct_right_rise_pct >= 0 else "l"),
            "muscle_onset": (episode("muscle_onset"), muscle, "r" if muscle_si_shift_pct <= 0 else "l"),
            "pedal_onset": (episode("pedal_onset"), "quadriceps", "r" if pedal_si_shift_pct <= 0 else "l"),
        }
        worse = wellness_drop_sd * episode("wellness_drop")
        checkins = simulate_wellness(rng, load, usual, drop, episodes, wellness, worse)
    elif soreness_onset_day is not None or wellness_drop_day is not None:
        raise ValueError("soreness_onset_day and wellness_drop_day need check-ins (wellness=a WellnessModel)")
    return TrainingHistory(
        athlete_ids=[f"{id_prefix}{i + 1:0{max(3, len(str(a)))}d}" for i in range(a)],
        sex=np.where(female, "female", "male"),
        resting_hr_bpm=rest,
        max_hr_bpm=hr_max,
        sport=np.where(has, np.where(is_ride, "ride", "run"), ""),
        duration_s=when(has, 60.0 * minutes),
        rpe=when(has, rpe),
        srpe_load=when(has, rpe * minutes),
        trimp=when(has, minutes * x * coef_a * np.exp(coef_b * x)),
        avg_hr_bpm=when(has, rest[:, None] + x * (hr_max - rest)[:, None]),
        gct_left_ms=when(has & ~is_ride, gct_l),
        gct_right_ms=when(has & ~is_ride, gct_r),
        muscle_load_left=when(has, muscle_l),
        muscle_load_right=when(has, muscle_r),
        pedal_balance_left_pct=when(has & is_ride, share),
        ln_rmssd=when(morning, ln),
        morning_hr_bpm=when(morning, rhr),
        events=events,
        visit_day=visit,
        visit_effect=np.broadcast_to(np.asarray(visit_effect, dtype=bool), (a,)).copy(),
        pod_muscle=pod_muscle if pod_muscle is None or isinstance(pod_muscle, str) else np.asarray(pod_muscle),
        wellness=checkins,
    )


def training_history_batches(history: TrainingHistory, first_day_ms: int) -> list[PointBatch]:
    """``session`` and ``readiness`` point batches (docs/data-model.md) of a simulated history whose day 0 starts
    at ``first_day_ms`` (00:00 UTC, epoch ms). Sessions carry ``source=history`` and their ``sport`` tag."""
    h = history
    day_ms = first_day_ms + DAY_MS * np.arange(h.sport.shape[1], dtype=np.int64)
    batches = []
    for i, athlete in enumerate(h.athlete_ids):
        for sport in ("run", "ride"):
            m = h.sport[i] == sport
            if not m.any():
                continue
            fields = {
                "duration_s": h.duration_s[i, m],
                "rpe": h.rpe[i, m],
                "srpe_load": h.srpe_load[i, m],
                "trimp": h.trimp[i, m],
                "avg_hr_bpm": h.avg_hr_bpm[i, m],
                "muscle_load_left": h.muscle_load_left[i, m],
                "muscle_load_right": h.muscle_load_right[i, m],
                "muscle_symmetry_index_pct": _si(h.muscle_load_left[i, m], h.muscle_load_right[i, m]),
            }
            muscle = h.pod_muscle if h.pod_muscle is None or isinstance(h.pod_muscle, str) else h.pod_muscle[i]
            if muscle:
                fields["muscle"] = np.full(int(m.sum()), muscle, dtype=object)
            if sport == "run":
                left, right = h.gct_left_ms[i, m], h.gct_right_ms[i, m]
                fields |= {
                    "gct_left_ms": left,
                    "gct_right_ms": right,
                    "gct_balance_left_pct": 100.0 * left / (left + right),
                    "gct_symmetry_index_pct": _si(left, right),
                }
            else:
                share = h.pedal_balance_left_pct[i, m]
                fields |= {"pedal_balance_left_pct": share, "pedal_symmetry_index_pct": 4.0 * (share - 50.0)}
            tags = {"athlete": athlete, "sport": sport, "source": "history"}
            batches.append(SESSION.batch(tags, day_ms[m] + SESSION_HOUR_MS, fields))
        m = np.isfinite(h.ln_rmssd[i])
        if m.any():
            fields = {
                "ln_rmssd": h.ln_rmssd[i, m],
                "rmssd_ms": np.exp(h.ln_rmssd[i, m]),
                "mean_hr_bpm": h.morning_hr_bpm[i, m],
            }
            batches.append(READINESS.batch({"athlete": athlete}, day_ms[m] + MORNING_HOUR_MS, fields))
    if h.wellness is not None:
        batches += wellness_batches(h.wellness, h.athlete_ids, day_ms)
    return batches


def _si(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return 200.0 * (left - right) / (left + right)

"""Physiology simulator that drives the virtual heart-rate straps.

Pure numpy functions, no I/O. All randomness comes from an explicit ``numpy.random.Generator``.

- :func:`make_squad` draws a squad of :class:`AthleteProfile` (some healthy, some with suppressed HRV).
- :func:`daily_ln_rmssd` / :func:`daily_resting_hr_bpm` give the day-to-day targets of a morning reading.
- :func:`simulate_morning_reading` / :func:`morning_rr_ms` give a supine morning RR series: respiratory sinus
  arrhythmia (0.2–0.3 Hz, slightly irregular breathing), a Mayer-wave component (~0.1 Hz) and an AR(1) component,
  scaled so that the clean rMSSD equals ``exp(target_ln_rmssd)``; then ectopic beats (premature short interval
  followed by a compensatory long one, sum preserved) and missed beats (two intervals merged) are injected.
- :func:`session_hr` gives per-second HR (first-order kinetics) and a consistent beat-by-beat RR series for a
  workload profile such as :func:`interval_workload`.
- :func:`simulate_training_history` gives a cohort's daily sessions (sRPE, TRIMP, GCT, muscle load, pedal
  balance) and mornings with known load spikes, HRV drops and asymmetry onsets; :func:`training_history_batches`
  turns it into ``session`` and ``readiness`` points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import signal

from ingest.store.base import PointBatch

Condition = Literal["healthy", "hrv_suppressed"]
Sex = Literal["female", "male"]

RESP_FREQ_HZ = (0.2, 0.3)  # supine breathing rate range (12–18 breaths/min)
MAYER_FREQ_HZ = (0.08, 0.12)  # baroreflex (LF) oscillation
AR_COEF = 0.5  # lag-1 coefficient of the AR(1) beat-to-beat component
# Relative amplitudes of the variability components before scaling to the target rMSSD.
RSA_WEIGHT, MAYER_WEIGHT, AR_WEIGHT = 1.0, 1.2, 0.5
ECTOPIC_PREMATURITY = (0.55, 0.75)  # premature interval as a fraction of the sinus interval
MIN_ARTIFACT_SPACING = 4  # beats between injected artifacts


@dataclass(frozen=True)
class AthleteProfile:
    """Physiological parameters of one simulated athlete (pseudonymous id, no personal data)."""

    athlete_id: str
    sex: Sex
    resting_hr_bpm: float
    max_hr_bpm: float
    ln_rmssd_mean: float
    ln_rmssd_daily_sd: float
    condition: Condition = "healthy"
    suppression_start_day: int | None = None
    suppression_ln_drop: float = 0.35
    suppression_rhr_rise_bpm: float = 4.0

    def __post_init__(self) -> None:
        if self.condition not in ("healthy", "hrv_suppressed"):
            raise ValueError(f"unknown condition {self.condition!r}")
        if self.condition == "hrv_suppressed" and self.suppression_start_day is None:
            raise ValueError("hrv_suppressed needs suppression_start_day")
        if not 0 < self.resting_hr_bpm < self.max_hr_bpm:
            raise ValueError("need 0 < resting_hr_bpm < max_hr_bpm")
        if self.ln_rmssd_daily_sd < 0:
            raise ValueError("ln_rmssd_daily_sd must be >= 0")

    def suppressed(self, day: int | np.ndarray) -> np.ndarray:
        """Boolean (array) telling whether HRV is suppressed on the given day index(es)."""
        day = np.asarray(day)
        if self.condition != "hrv_suppressed":
            return np.zeros(day.shape, dtype=bool)
        return day >= self.suppression_start_day


@dataclass(frozen=True)
class MorningReading:
    """A simulated morning reading: the recorded series and the clean series it came from."""

    rr_ms: np.ndarray  # as recorded by the strap, with artifacts
    clean_rr_ms: np.ndarray  # sinus rhythm before artifacts (one more interval per missed beat)
    artifact_mask: np.ndarray  # bool, aligned with rr_ms: True where an interval is an artifact
    hr_bpm: float  # resting HR the clean series was drawn around


def make_squad(n_athletes: int, days: int, rng: np.random.Generator) -> list[AthleteProfile]:
    """Draw ``n_athletes`` varied profiles with ids "A01".."Ann".

    Every third athlete starting with the second (A02, A05, ...) has ``hrv_suppressed`` during the last 7 of
    ``days`` days, so a squad of two or more always has both a healthy and a suppressed athlete.
    """
    if n_athletes < 0 or days < 1:
        raise ValueError("need n_athletes >= 0 and days >= 1")
    width = max(2, len(str(n_athletes)))
    squad = []
    for i in range(n_athletes):
        sex: Sex = "female" if rng.random() < 0.5 else "male"
        age = rng.uniform(18.0, 35.0)
        rest = rng.uniform(44.0, 62.0) + (3.0 if sex == "female" else 0.0)
        # Lower resting HR goes with higher vagal tone: about -0.03 ln units per bpm.
        ln_rmssd = np.clip(4.1 - 0.03 * (rest - 53.0) + rng.normal(0.0, 0.2), 3.6, 4.6)
        suppressed = i % 3 == 1
        squad.append(
            AthleteProfile(
                athlete_id=f"A{i + 1:0{width}d}",
                sex=sex,
                resting_hr_bpm=round(rest, 1),
                max_hr_bpm=round(208.0 - 0.7 * age + rng.normal(0.0, 4.0), 1),
                ln_rmssd_mean=float(ln_rmssd),
                ln_rmssd_daily_sd=rng.uniform(0.08, 0.15),
                condition="hrv_suppressed" if suppressed else "healthy",
                suppression_start_day=max(days - 7, 0) if suppressed else None,
                suppression_ln_drop=rng.uniform(0.3, 0.4),
                suppression_rhr_rise_bpm=rng.uniform(2.0, 6.0),
            )
        )
    return squad


def daily_ln_rmssd(profile: AthleteProfile, days: int, rng: np.random.Generator) -> np.ndarray:
    """Target ln rMSSD for day indices ``0..days-1``.

    Stationary white noise (SD ``ln_rmssd_daily_sd``) around ``ln_rmssd_mean``, minus ``suppression_ln_drop``
    from ``suppression_start_day`` on for ``hrv_suppressed`` athletes.
    """
    day = np.arange(days)
    noise = profile.ln_rmssd_daily_sd * rng.standard_normal(days)
    return profile.ln_rmssd_mean + noise - profile.suppression_ln_drop * profile.suppressed(day)


def daily_resting_hr_bpm(
    profile: AthleteProfile, days: int, rng: np.random.Generator, sd_bpm: float = 1.5
) -> np.ndarray:
    """Morning resting HR for day indices ``0..days-1``; rises by ``suppression_rhr_rise_bpm`` when suppressed."""
    day = np.arange(days)
    rise = profile.suppression_rhr_rise_bpm * profile.suppressed(day)
    return profile.resting_hr_bpm + rise + sd_bpm * rng.standard_normal(days)


def _rmssd(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.diff(x) ** 2)))


def clean_morning_rr_ms(
    hr_bpm: float, rmssd_ms: float, rng: np.random.Generator, duration_s: float = 180.0
) -> np.ndarray:
    """Artifact-free supine RR series (ms) of about ``duration_s`` with mean HR ``hr_bpm`` and rMSSD ``rmssd_ms``."""
    mean_rr_ms = 60_000.0 / hr_bpm
    n = int(np.ceil(duration_s * 1000.0 / mean_rr_ms * 1.3)) + 8
    t_s = np.arange(n) * mean_rr_ms / 1000.0  # nominal beat times
    f_resp = rng.uniform(*RESP_FREQ_HZ)
    breathing_jitter = np.cumsum(rng.normal(0.0, 0.1, n))  # irregular breathing: phase random walk
    rsa = np.sin(2 * np.pi * f_resp * t_s + rng.uniform(0, 2 * np.pi) + breathing_jitter)
    mayer = np.sin(2 * np.pi * rng.uniform(*MAYER_FREQ_HZ) * t_s + rng.uniform(0, 2 * np.pi))
    ar = signal.lfilter([np.sqrt(1 - AR_COEF**2)], [1.0, -AR_COEF], rng.standard_normal(n))
    v = RSA_WEIGHT * rsa + MAYER_WEIGHT * mayer + AR_WEIGHT * ar
    v -= v.mean()
    rr = mean_rr_ms + v * (rmssd_ms / _rmssd(v))
    rr = rr[np.cumsum(rr) <= duration_s * 1000.0]
    dev = rr - mean_rr_ms
    return mean_rr_ms + dev * (rmssd_ms / _rmssd(dev))  # exact rMSSD after truncation


def inject_artifacts(
    clean_rr_ms: np.ndarray,
    rng: np.random.Generator,
    artifact_rate: float = 0.0075,
    ectopic_fraction: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Inject ectopic and missed beats into a clean RR series.

    ``artifact_rate`` is the probability per beat of an artifact event (events are at least
    ``MIN_ARTIFACT_SPACING`` beats apart); ``ectopic_fraction`` of them are ectopic beats (interval k shortened to
    55–75 %, interval k+1 lengthened by the same amount), the rest missed beats (intervals k and k+1 merged).
    Returns ``(rr_ms, artifact_mask)`` with the mask True on every corrupted interval of ``rr_ms``.
    """
    rr = np.asarray(clean_rr_ms, dtype=float).copy()
    n = rr.size
    events = np.flatnonzero(rng.random(n) < artifact_rate)
    events = events[(events >= 2) & (events <= n - 3)]
    if events.size:
        events = events[np.concatenate(([True], np.diff(events) >= MIN_ARTIFACT_SPACING))]
    is_ectopic = rng.random(events.size) < ectopic_fraction
    ectopic, missed = events[is_ectopic], events[~is_ectopic]
    mask = np.zeros(n, dtype=bool)
    short = rr[ectopic] * rng.uniform(*ECTOPIC_PREMATURITY, ectopic.size)
    rr[ectopic + 1] += rr[ectopic] - short
    rr[ectopic] = short
    mask[ectopic] = mask[ectopic + 1] = True
    rr[missed] += rr[missed + 1]
    mask[missed] = True
    keep = np.ones(n, dtype=bool)
    keep[missed + 1] = False
    return rr[keep], mask[keep]


def simulate_morning_reading(
    profile: AthleteProfile,
    day: int,
    target_ln_rmssd: float,
    rng: np.random.Generator,
    duration_s: float = 180.0,
    *,
    hr_bpm: float | None = None,
    artifact_rate: float = 0.0075,
    ectopic_fraction: float = 0.5,
) -> MorningReading:
    """Supine morning reading of ``profile`` on day index ``day`` with clean rMSSD ``exp(target_ln_rmssd)``.

    Without ``hr_bpm`` the resting HR is the profile's, raised when suppressed, plus 1 bpm SD noise.
    """
    if hr_bpm is None:
        rise = profile.suppression_rhr_rise_bpm * bool(profile.suppressed(day))
        hr_bpm = profile.resting_hr_bpm + rise + rng.normal(0.0, 1.0)
    clean = clean_morning_rr_ms(hr_bpm, float(np.exp(target_ln_rmssd)), rng, duration_s)
    rr, mask = inject_artifacts(clean, rng, artifact_rate, ectopic_fraction)
    return MorningReading(rr_ms=rr, clean_rr_ms=clean, artifact_mask=mask, hr_bpm=float(hr_bpm))


def morning_rr_ms(
    profile: AthleteProfile,
    day: int,
    target_ln_rmssd: float,
    rng: np.random.Generator,
    duration_s: float = 180.0,
) -> np.ndarray:
    """RR intervals (ms) of a morning reading with artifacts; see :func:`simulate_morning_reading`."""
    return simulate_morning_reading(profile, day, target_ln_rmssd, rng, duration_s).rr_ms


def session_hr(
    profile: AthleteProfile,
    workload: np.ndarray,
    rng: np.random.Generator,
    *,
    tau_s: float = 30.0,
    noise_bpm: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-second HR (bpm) and beat-by-beat RR (ms) for a per-second ``workload`` (fraction of max effort, 0..1).

    HR follows first-order kinetics (time constant ``tau_s``) from rest towards
    ``rest + workload·(max − rest)``, plus slow noise, clipped to [rest, max]. Beats are placed where the
    integral of HR crosses whole beats; beat-to-beat jitter (AR(1), as in the morning readings) has an rMSSD of
    ``exp(ln_rmssd_mean)`` at rest, shrinking exponentially with the HR-reserve fraction (about 1 ms near max).
    """
    rest, top = profile.resting_hr_bpm, profile.max_hr_bpm
    w = np.clip(np.asarray(workload, dtype=float), 0.0, 1.0)
    if w.size == 0:
        return np.zeros(0), np.zeros(0)
    a = np.exp(-1.0 / tau_s)
    hr, _ = signal.lfilter([1 - a], [1.0, -a], rest + w * (top - rest), zi=[a * rest])
    slow = signal.lfilter([np.sqrt(1 - 0.95**2)], [1.0, -0.95], rng.standard_normal(w.size))
    hr = np.clip(hr + noise_bpm * slow, rest, top)

    phase = np.concatenate(([0.0], np.cumsum(hr / 60.0)))  # beats elapsed at the end of each second
    beats = np.arange(1, int(np.floor(phase[-1])) + 1)
    t_beat_s = np.interp(beats, phase, np.arange(w.size + 1, dtype=float))
    rr = np.diff(t_beat_s) * 1000.0
    if rr.size == 0:
        return hr, rr
    x = (np.interp(t_beat_s[1:], np.arange(w.size) + 0.5, hr) - rest) / (top - rest)
    local_rmssd = np.exp(profile.ln_rmssd_mean) * np.exp(-4.0 * x) + 1.0
    jitter = signal.lfilter([np.sqrt(1 - AR_COEF**2)], [1.0, -AR_COEF], rng.standard_normal(rr.size))
    rr = rr + local_rmssd / np.sqrt(2.0 * (1.0 - AR_COEF)) * jitter  # AR(1): rMSSD of the jitter = local_rmssd
    return hr, rr


def interval_workload(duration_s: float, rng: np.random.Generator) -> np.ndarray:
    """Per-second workload (0..1) of an interval session: warm-up ramp, 4–8 work/recovery reps, cool-down ramp."""
    n = int(np.rint(duration_s))
    t = np.arange(n, dtype=float)
    warm, cool = int(0.2 * n), int(0.15 * n)
    mid = max(n - warm - cool, 1)
    reps = int(rng.integers(4, 9))
    cycle = mid / reps
    work_s = cycle * rng.uniform(0.5, 0.65)
    hi, lo = rng.uniform(0.85, 0.95), rng.uniform(0.25, 0.35)

    in_mid = (t - warm) % cycle < work_s
    load = np.where(in_mid, hi, lo)
    load = np.where(t < warm, 0.2 + 0.3 * t / max(warm, 1), load)
    cool_t = t - (n - cool)
    load = np.where(cool_t >= 0, 0.4 - 0.3 * cool_t / max(cool, 1), load)
    return np.clip(load + rng.normal(0.0, 0.02, n), 0.0, 1.0)


# --- training history for synthetic cohorts -------------------------------------------------------------------

DAY_MS = 86_400_000
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


def _onsets(value: int | np.ndarray | None, n: int) -> np.ndarray:
    if value is None:
        return np.full(n, -1, dtype=np.int64)
    return np.broadcast_to(np.asarray(value, dtype=np.int64), (n,)).copy()


def _active(onset: np.ndarray, days: int, length: int | None = None) -> np.ndarray:
    d = np.arange(days)
    on = (onset[:, None] >= 0) & (d >= onset[:, None])
    return on & (d < onset[:, None] + length) if length is not None else on


def _split(mean: np.ndarray, si_pct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left and right values with the given mean and symmetry index (positive = left larger)."""
    return mean * (1 + si_pct / 200.0), mean * (1 - si_pct / 200.0)


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
    spike_factor: float = 2.0,
    spike_days: int = 14,
    hrv_drop_sd: float = 3.0,
    hrv_drop_rhr_rise_bpm: tuple[float, float] = (2.0, 6.0),
    gct_right_rise_pct: float = 8.0,
    muscle_si_shift_pct: float = -15.0,
    pedal_si_shift_pct: float = -10.0,
    missed_session_rate: float = 0.05,
    missed_morning_rate: float = 0.15,
    id_prefix: str = "S",
) -> TrainingHistory:
    """Daily sRPE-logged training, running/cycling asymmetry and morning HRV of ``n_athletes`` over ``days``.

    Steady behaviour: a fixed weekly plan of 4–5 sessions (per weekday: duration 35–80 min, RPE 3–7, sport),
    day-to-day noise (duration ±12 %, RPE ±0.7 rounded), ``missed_session_rate`` unlogged sessions; stable
    personal asymmetry (GCT SI N(0, 1.5) %, session noise 1 %; muscle SI N(0, 2) %, noise 3 %; pedal share
    50 ± 0.5 %, noise 0.5 %); white-noise ln rMSSD and resting HR, ``missed_morning_rate`` missed mornings.
    ``sport`` is "run", "ride", "mixed" or one of those per athlete.

    Events (per athlete onset day index, an int for everyone, or None; −1 = none):
    ``spike_day`` a training camp of ``spike_days`` days with a session every day of ``spike_factor`` × the usual
    duration; ``hrv_drop_day`` ln rMSSD down by ``hrv_drop_sd`` daily SDs and resting HR up by a uniform draw from
    ``hrv_drop_rhr_rise_bpm`` from then on;
    ``gct_onset_day`` right-foot contact time up ``gct_right_rise_pct`` % (runs); ``muscle_onset_day`` muscle
    SI shifted by ``muscle_si_shift_pct`` points; ``pedal_onset_day`` pedal SI shifted by ``pedal_si_shift_pct``
    points (rides).
    """
    a, d = n_athletes, days
    if a < 0 or d < 1:
        raise ValueError("need n_athletes >= 0 and days >= 1")
    female = rng.random(a) < 0.5
    rest = rng.uniform(44.0, 62.0, a) + 3.0 * female
    hr_max = 208.0 - 0.7 * rng.uniform(18.0, 35.0, a) + rng.normal(0.0, 4.0, a)
    ln_mean = np.clip(4.1 - 0.03 * (rest - 53.0) + rng.normal(0.0, 0.2, a), 3.6, 4.6)
    ln_sd = rng.uniform(0.08, 0.15, a)

    # Weekly plan: which weekdays hold a session, its base duration, RPE and sport.
    n_week = rng.integers(4, 6, a)
    planned = np.argsort(rng.random((a, 7)), axis=1) < n_week[:, None]
    plan_min = rng.uniform(35.0, 80.0, (a, 7))
    plan_rpe = rng.uniform(3.0, 7.0, (a, 7))
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
    camp = _active(events["spike"], d, spike_days)
    has = (planned[:, weekday] & (rng.random((a, d)) >= missed_session_rate)) | camp
    minutes = plan_min[:, weekday] * np.exp(rng.normal(0.0, 0.12, (a, d)))
    minutes = np.where(camp, spike_factor * plan_min.mean(axis=1, keepdims=True), minutes)
    rpe = np.clip(np.rint(plan_rpe[:, weekday] + rng.normal(0.0, 0.7, (a, d))), 1, 10)
    rpe = np.where(camp, np.rint(plan_rpe.mean(axis=1, keepdims=True)), rpe)
    is_ride = ride[:, weekday]
    x = np.clip(0.30 + 0.065 * rpe + rng.normal(0.0, 0.03, (a, d)), 0.2, 0.98)  # HR-reserve fraction
    coef_a = np.where(female, 0.86, 0.64)[:, None]
    coef_b = np.where(female, 1.67, 1.92)[:, None]

    def when(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, np.nan)

    gct_mean = rng.uniform(230.0, 290.0, a)[:, None] * np.ones(d)
    gct_si = rng.normal(0.0, 1.5, a)[:, None] + rng.normal(0.0, 1.0, (a, d))
    gct_l, gct_r = _split(gct_mean, gct_si)
    gct_r = gct_r * (1 + gct_right_rise_pct / 100.0 * _active(events["gct_onset"], d))
    muscle_si = rng.normal(0.0, 2.0, a)[:, None] + rng.normal(0.0, 3.0, (a, d))
    muscle_si = muscle_si + muscle_si_shift_pct * _active(events["muscle_onset"], d)
    muscle_l, muscle_r = _split(rng.uniform(40.0, 70.0, a)[:, None] * np.ones(d), muscle_si)
    share = 50.0 + rng.normal(0.0, 0.5, a)[:, None] + rng.normal(0.0, 0.5, (a, d))
    share = share + pedal_si_shift_pct / 4.0 * _active(events["pedal_onset"], d)

    drop = _active(events["hrv_drop"], d)
    morning = rng.random((a, d)) >= missed_morning_rate
    ln = ln_mean[:, None] + ln_sd[:, None] * (rng.standard_normal((a, d)) - hrv_drop_sd * drop)
    rise = rng.uniform(*hrv_drop_rhr_rise_bpm, a)[:, None]
    rhr = rest[:, None] + 1.5 * rng.standard_normal((a, d)) + rise * drop
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
            batches.append(PointBatch("session", tags, day_ms[m] + SESSION_HOUR_MS, fields))
        m = np.isfinite(h.ln_rmssd[i])
        if m.any():
            fields = {
                "ln_rmssd": h.ln_rmssd[i, m],
                "rmssd_ms": np.exp(h.ln_rmssd[i, m]),
                "mean_hr_bpm": h.morning_hr_bpm[i, m],
            }
            batches.append(PointBatch("readiness", {"athlete": athlete}, day_ms[m] + MORNING_HOUR_MS, fields))
    return batches


def _si(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return 200.0 * (left - right) / (left + right)

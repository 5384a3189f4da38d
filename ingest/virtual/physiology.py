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

Months of daily training for whole cohorts: ``ingest.virtual.training_history``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import signal

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
    visit_day: int | None = None  # a visit (IDN) on this day index, e.g. in the demo
    visit_effect: bool = True  # the suppression fades after the visit (a simulated treatment effect)
    visit_effect_days: float = 3.0  # ... as exp(−days after the visit / visit_effect_days)
    visit_soreness_sd: float = 1.0  # the next morning's ln rMSSD is lower by this many daily SDs (every visit)

    def __post_init__(self) -> None:
        if self.condition not in ("healthy", "hrv_suppressed"):
            raise ValueError(f"unknown condition {self.condition!r}")
        if self.condition == "hrv_suppressed" and self.suppression_start_day is None:
            raise ValueError("hrv_suppressed needs suppression_start_day")
        if not 0 < self.resting_hr_bpm < self.max_hr_bpm:
            raise ValueError("need 0 < resting_hr_bpm < max_hr_bpm")
        if self.ln_rmssd_daily_sd < 0:
            raise ValueError("ln_rmssd_daily_sd must be >= 0")
        if self.visit_day is not None and (self.visit_day < 0 or self.visit_effect_days <= 0):
            raise ValueError("need visit_day >= 0 and visit_effect_days > 0")

    def suppressed(self, day: int | np.ndarray) -> np.ndarray:
        """Boolean (array) telling whether HRV is suppressed on the given day index(es)."""
        day = np.asarray(day)
        if self.condition != "hrv_suppressed":
            return np.zeros(day.shape, dtype=bool)
        return day >= self.suppression_start_day

    def suppression(self, day: int | np.ndarray) -> np.ndarray:
        """Share of the suppression present on the given day index(es): 1 while suppressed; after a visit with
        effect, a suppression that began on or before it fades as ``exp(−(day − visit_day)/visit_effect_days)``."""
        day = np.asarray(day)
        share = self.suppressed(day).astype(float)
        start = self.suppression_start_day
        if self.visit_day is None or not self.visit_effect or start is None or start > self.visit_day:
            return share
        after = day - self.visit_day
        return np.where(after > 0, share * np.exp(-np.maximum(after, 0) / self.visit_effect_days), share)

    def visit_soreness_ln(self, day: int | np.ndarray) -> np.ndarray:
        """The post-needling dip of ln rMSSD on the morning after a visit (0 on other days or without a visit)."""
        day = np.asarray(day)
        if self.visit_day is None:
            return np.zeros(day.shape)
        return self.visit_soreness_sd * self.ln_rmssd_daily_sd * (day == self.visit_day + 1)


@dataclass(frozen=True)
class MorningReading:
    """A simulated morning reading: the recorded series and the clean series it came from."""

    rr_ms: np.ndarray  # as recorded by the strap, with artifacts
    clean_rr_ms: np.ndarray  # sinus rhythm before artifacts (one more interval per missed beat)
    artifact_mask: np.ndarray  # bool, aligned with rr_ms: True where an interval is an artifact
    hr_bpm: float  # resting HR the clean series was drawn around


def make_squad(n_athletes: int, days: int, rng: np.random.Generator, id_prefix: str = "A") -> list[AthleteProfile]:
    """Draw ``n_athletes`` varied profiles with ids "A01".."Ann" (``id_prefix`` instead of "A": "demo-01"…).

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
                athlete_id=f"{id_prefix}{i + 1:0{width}d}",
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
    from ``suppression_start_day`` on for ``hrv_suppressed`` athletes (fading after a visit with effect,
    ``AthleteProfile.suppression``), minus the post-visit dip the morning after a visit.
    """
    day = np.arange(days)
    noise = profile.ln_rmssd_daily_sd * rng.standard_normal(days)
    ln = profile.ln_rmssd_mean + noise - profile.suppression_ln_drop * profile.suppression(day)
    return ln if profile.visit_day is None else ln - profile.visit_soreness_ln(day)


def daily_resting_hr_bpm(
    profile: AthleteProfile, days: int, rng: np.random.Generator, sd_bpm: float = 1.5
) -> np.ndarray:
    """Morning resting HR for day indices ``0..days-1``; rises by ``suppression_rhr_rise_bpm`` when suppressed
    (the rise fades after a visit with effect, as the HRV drop does)."""
    day = np.arange(days)
    rise = profile.suppression_rhr_rise_bpm * profile.suppression(day)
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
        rise = profile.suppression_rhr_rise_bpm * float(profile.suppression(day))
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

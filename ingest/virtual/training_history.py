"""Months of simulated daily training and mornings for whole cohorts, with known events.

:func:`simulate_training_history` gives a cohort's daily sessions (sRPE, TRIMP, GCT, muscle load, pedal balance)
and mornings with known load spikes, HRV drops and asymmetry onsets, as numpy arrays ``(athletes, days)``;
:func:`training_history_batches` turns it into ``session`` and ``readiness`` points. Pure numpy, no I/O; all
randomness comes from an explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.store.base import PointBatch
from ingest.timeline import DAY_MS

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

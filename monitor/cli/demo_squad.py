"""The demo squad's simulated conditions and its training history (sessions with load and asymmetry), and the
treated athlete: flagged for a calf muscle-load asymmetry (with an HRV drop), then treated by a visit."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from ingest.model import SESSION, SORENESS, WELLNESS
from ingest.store.base import PointBatch
from ingest.timeline import day_start_ms
from ingest.virtual.physiology import AthleteProfile
from ingest.virtual.training_history import simulate_training_history, training_history_batches
from ingest.virtual.wellness_history import FITTED_WELLNESS

HEALTHY, HRV_SUPPRESSED, LOAD_SPIKE, ASYMMETRY_GCT = "healthy", "hrv_suppressed", "load_spike", "asymmetry_gct"
TREATED = "treated"
EXPECTED_SIGNALS = {
    HRV_SUPPRESSED: ("hrv_suppressed",),
    LOAD_SPIKE: ("acwr_spike", "strain_high", "load_surge"),
    ASYMMETRY_GCT: ("asymmetry_gct", "asymmetry_shift"),
}
"""The flags each simulated condition must raise one of (as the cohorts count them); healthy athletes raise none."""

TRAINING_LEAD_IN_DAYS = 7
SPIKE_DAYS_BEFORE_TODAY = 6
SPIKE_FACTOR = 3.0  # a camp of 3 × the usual session every day: a spike the load rules catch within 3 days
ASYMMETRY_DAYS_BEFORE_TODAY = 14
GCT_RIGHT_RISE_PCT = 12.0
_HEALTHY_CYCLE = (HEALTHY, LOAD_SPIKE, HEALTHY, ASYMMETRY_GCT)

TREATED_INDEX = 4
"""The treated athlete: demo-05, the squad's second HRV-suppressed athlete (`make_squad` suppresses every third
athlete from the second), so demo-02 stays the flagged, untreated one. Squads of fewer than 5 have no visit."""
TREATED_ONSET_DAYS_BEFORE_TODAY = 21
"""Its calf muscle-load asymmetry (sessions) and HRV drop (strap mornings) begin 21 days before today."""
TREATED_MUSCLE_SI_SHIFT_PCT = -20.0
"""The asymmetry: muscle-load SI shifted by −20 points (right larger), beyond the act level of 15 %."""
VISIT_DAYS_BEFORE_TODAY = 9
"""The visit, 9 days before today: the 7 days before it lie inside the episode, and days 2–8 after it (the
response window, docs/response.md) end the day before today, so the response is complete on the demo's day."""
VISIT_HOUR_MS = 12 * 3_600_000  # 12:00 UTC, after that day's morning reading and before its session
VISIT_REGIONS = ("calf_l", "calf_r")
VISIT_THERAPIST = "T1"
POD_MUSCLE = "gastrocnemius medialis"
"""The muscle the treated athlete's muscle-load pods sat on: in the treated `calf` regions, so the response's local
level has data."""


def assign_conditions(squad: list[AthleteProfile]) -> list[str]:
    """HRV suppression comes from the profile; the other athletes cycle through healthy, load spike, asymmetry.
    The athlete at `TREATED_INDEX` (HRV-suppressed) is the treated one."""
    conditions: list[str] = []
    healthy_seen = 0
    for index, profile in enumerate(squad):
        if index == TREATED_INDEX and profile.condition == HRV_SUPPRESSED:
            conditions.append(TREATED)
        elif profile.condition == HRV_SUPPRESSED:
            conditions.append(HRV_SUPPRESSED)
        else:
            conditions.append(_HEALTHY_CYCLE[healthy_seen % len(_HEALTHY_CYCLE)])
            healthy_seen += 1
    return conditions


def treated_profile(profile: AthleteProfile, days: int) -> AthleteProfile:
    """The treated athlete's strap profile over ``days`` (index ``days − 1`` is today): HRV suppressed from
    `TREATED_ONSET_DAYS_BEFORE_TODAY`, a visit `VISIT_DAYS_BEFORE_TODAY` before today with the simulated treatment
    effect (the suppression fades, ``AthleteProfile.suppression``)."""
    return dataclasses.replace(
        profile,
        suppression_start_day=days - 1 - TREATED_ONSET_DAYS_BEFORE_TODAY,
        visit_day=days - 1 - VISIT_DAYS_BEFORE_TODAY,
        visit_effect=True,
    )


def visit_time_ms(today: dt.date) -> int:
    """When the treated athlete's visit took place: `VISIT_DAYS_BEFORE_TODAY` before ``today`` at 12:00 UTC."""
    return day_start_ms(today - dt.timedelta(days=VISIT_DAYS_BEFORE_TODAY)) + VISIT_HOUR_MS


def _rename(batch: PointBatch, names: dict[str, str]) -> PointBatch:
    tags = dict(batch.tags)
    tags["athlete"] = names[tags["athlete"]]
    return PointBatch(batch.measurement, tags, batch.time_ms, batch.fields)


def training_batches(
    squad: list[AthleteProfile], conditions: list[str], days: int, today: dt.date, rng: np.random.Generator
) -> list[PointBatch]:
    """`session` points of logged training (sRPE, GCT, muscle load, pedal balance): the `days` days of the demo
    plus a lead-in of `TRAINING_LEAD_IN_DAYS` before them (the log starts before the straps do), so that fitness
    (CTL, 42 days) is known on the last day whatever weekday the first session fell on.

    Morning HRV is left out: it comes from the straps' RR intervals.
    """
    n = len(squad)
    total = days + TRAINING_LEAD_IN_DAYS
    cond = np.array(conditions)
    spike = np.where(cond == LOAD_SPIKE, total - SPIKE_DAYS_BEFORE_TODAY, -1)
    gct = np.where(cond == ASYMMETRY_GCT, total - ASYMMETRY_DAYS_BEFORE_TODAY, -1)
    sport = np.where(cond == ASYMMETRY_GCT, "run", "mixed")
    treated = cond == TREATED  # none of these change the random draws: the other athletes' sessions stay the same
    history = simulate_training_history(
        n,
        total,
        rng,
        sport=sport,
        spike_day=spike,
        spike_factor=SPIKE_FACTOR,
        gct_onset_day=gct,
        gct_right_rise_pct=GCT_RIGHT_RISE_PCT,
        muscle_onset_day=np.where(treated, total - 1 - TREATED_ONSET_DAYS_BEFORE_TODAY, -1),
        muscle_si_shift_pct=TREATED_MUSCLE_SI_SHIFT_PCT,
        visit_day=np.where(treated, total - 1 - VISIT_DAYS_BEFORE_TODAY, -1),
        visit_effect=True,
        pod_muscle=np.where(treated, POD_MUSCLE, ""),
        wellness=FITTED_WELLNESS,  # morning check-ins, drawn last: the sessions above are the same without them
    )
    names = dict(zip(history.athlete_ids, (p.athlete_id for p in squad)))
    first_day = today - dt.timedelta(days=total - 1)
    batches = training_history_batches(history, day_start_ms(first_day))
    kept = (SESSION.name, WELLNESS.name, SORENESS.name)
    return [_rename(b, names) for b in batches if b.measurement in kept]

"""The demo squad's simulated conditions and its training history (sessions with load and asymmetry)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.store.base import PointBatch
from ingest.timeline import day_start_ms
from ingest.virtual.physiology import AthleteProfile
from ingest.virtual.training_history import simulate_training_history, training_history_batches

HEALTHY, HRV_SUPPRESSED, LOAD_SPIKE, ASYMMETRY_GCT = "healthy", "hrv_suppressed", "load_spike", "asymmetry_gct"
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


def assign_conditions(squad: list[AthleteProfile]) -> list[str]:
    """HRV suppression comes from the profile; the other athletes cycle through healthy, load spike, asymmetry."""
    conditions: list[str] = []
    healthy_seen = 0
    for profile in squad:
        if profile.condition == HRV_SUPPRESSED:
            conditions.append(HRV_SUPPRESSED)
        else:
            conditions.append(_HEALTHY_CYCLE[healthy_seen % len(_HEALTHY_CYCLE)])
            healthy_seen += 1
    return conditions


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
    history = simulate_training_history(
        n,
        total,
        rng,
        sport=sport,
        spike_day=spike,
        spike_factor=SPIKE_FACTOR,
        gct_onset_day=gct,
        gct_right_rise_pct=GCT_RIGHT_RISE_PCT,
    )
    names = dict(zip(history.athlete_ids, (p.athlete_id for p in squad)))
    first_day = today - dt.timedelta(days=total - 1)
    batches = training_history_batches(history, day_start_ms(first_day))
    return [_rename(b, names) for b in batches if b.measurement == "session"]

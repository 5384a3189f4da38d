"""One simulated athlete with visits, for the report's visits section (tests/test_report_visits.py, the Chromium
test): 130 days of training and mornings, an HRV drop and a calf muscle-load asymmetry from day 100, a visit with
the treatment effect on day 110 (complete from day 119), and three more visits."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.store.base import Store
from ingest.timeline import DAY_MS, day_start_ms
from ingest.virtual.training_history import simulate_training_history, training_history_batches
from ingest.visits import Visit, new_visit, remove_visit, write_visits

FIRST = dt.date(2025, 1, 1)
DAYS = 130
LAST = FIRST + dt.timedelta(days=DAYS - 1)  # 2025-05-10
ATHLETE = "S001"
NOTE = 'tight <calf> & "sore"'


def at(day: int, hour: int = 12) -> int:
    """Day index ``day`` of the history at ``hour`` UTC, ms."""
    return day_start_ms(FIRST + dt.timedelta(days=day)) + hour * 3_600_000


def treated_store(store: Store) -> dict[str, Visit]:
    """Write the athlete's history and visits: `treated` (day 110, calf_l, therapist T1, a note with HTML
    characters), `no_pod` (day 105, lumbar: no pod muscle), `pending` (day 125, day 8 after it is after the last
    day) and `removed` (day 115, removed with `visit remove`)."""
    history = simulate_training_history(
        1, DAYS, np.random.default_rng(3), sport="mixed", hrv_drop_day=100, muscle_onset_day=100, visit_day=110,
        pod_muscle="gastrocnemius medialis", id_prefix="S",
    )  # fmt: skip
    assert history.athlete_ids == [ATHLETE]
    store.write(training_history_batches(history, day_start_ms(FIRST)))
    now_ms = day_start_ms(LAST) + DAY_MS
    visits = {
        "treated": new_visit(ATHLETE, at(110), "calf_l", therapist="T1", needles=8, note=NOTE, now_ms=now_ms),
        "no_pod": new_visit(ATHLETE, at(105, 9), "lumbar", now_ms=now_ms),
        "pending": new_visit(ATHLETE, at(125), "hamstring_r,calf_r", therapist="T2", now_ms=now_ms),
        "removed": new_visit(ATHLETE, at(115), "calf_r", now_ms=now_ms),
    }
    write_visits(store, visits.values())
    remove_visit(store, visits["removed"].visit_id)
    return visits
